"""REST API of chat: sessions and their message history, paged by ``seq``.

Access is the same as on the socket: clients see their own chats, agents the
chats they take part in (and waiting requests), supervisors all.
"""

from __future__ import annotations

from django.conf import settings
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from chat import selectors
from chat.errors import ChatNotFound
from chat.models import ChatSession, DeliveryStatus


class UserRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    role = serializers.CharField()


class ChatFileSerializer(serializers.Serializer):
    """The file of a ``file`` message (chat.payloads.attachment_payload)."""

    id = serializers.IntegerField()
    name = serializers.CharField()
    size = serializers.IntegerField(help_text="In bytes.")
    content_type = serializers.CharField()
    url = serializers.CharField(help_text="Download (access-checked, always an attachment).")
    preview_url = serializers.CharField(
        allow_null=True, help_text="Inline image, only for PNG/JPEG/GIF/WebP bytes."
    )


class DeliverySerializer(serializers.Serializer):
    """chat.payloads.delivery_payload"""

    status = serializers.ChoiceField(choices=DeliveryStatus.choices)
    error = serializers.CharField(help_text="The provider's words when it failed.")
    at = serializers.DateTimeField(allow_null=True, help_text="When the status last changed.")


class MessageSerializer(serializers.Serializer):
    session_id = serializers.IntegerField()
    seq = serializers.IntegerField()
    client_id = serializers.UUIDField()
    kind = serializers.ChoiceField(choices=["text", "system", "file"])
    author = UserRefSerializer(allow_null=True)
    body = serializers.CharField()
    body_html = serializers.CharField(
        help_text="The body as sanitized HTML (markdown for text messages, escaped text for "
        "system lines); safe to insert as HTML."
    )
    created_at = serializers.DateTimeField()
    read_at = serializers.DateTimeField(
        allow_null=True, help_text="When the other side (client or staff) first read it."
    )
    attachment = ChatFileSerializer(allow_null=True, help_text="Set for file messages.")
    delivery = DeliverySerializer(
        allow_null=True,
        help_text="How far a message sent to an SMS or WhatsApp client got; null otherwise.",
    )


class MessagePageSerializer(serializers.Serializer):
    results = MessageSerializer(many=True)
    next_after_seq = serializers.IntegerField(allow_null=True)


class ChatSessionSerializer(serializers.ModelSerializer):
    client = serializers.SerializerMethodField()
    title = serializers.CharField(read_only=True)

    class Meta:
        model = ChatSession
        fields = [
            "id",
            "kind",
            "status",
            "channel",
            "client_address",
            "title",
            "subject",
            "ticket",
            "client",
            "queue",
            "requested_at",
            "answered_at",
            "ended_at",
            "last_seq",
        ]
        read_only_fields = fields

    @extend_schema_field(UserRefSerializer)
    def get_client(self, session: ChatSession) -> dict:
        return {
            "id": session.client_id,
            "name": session.client.display_name,
            "role": session.client.role,
        }


class ChatSessionViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = ChatSessionSerializer

    def get_queryset(self):  # type: ignore[no-untyped-def]
        sessions = selectors.sessions_visible_to(self.request.user).order_by("-requested_at", "-id")
        status_filter = self.request.query_params.get("status")
        if status_filter:
            sessions = sessions.filter(status=status_filter)
        ticket = self.request.query_params.get("ticket")
        if ticket:
            if not ticket.isdigit():
                raise ValidationError({"ticket": "Must be a ticket number."})
            sessions = sessions.filter(ticket_id=int(ticket))
        return sessions

    @extend_schema(
        parameters=[
            OpenApiParameter("after_seq", OpenApiTypes.INT, description="Messages after this seq."),
            OpenApiParameter("limit", OpenApiTypes.INT, description="At most this many (max 200)."),
        ],
        responses=MessagePageSerializer,
    )
    @action(detail=True, methods=["get"])
    def messages(self, request: Request, pk: str | None = None) -> Response:
        try:
            session = selectors.session_for(request.user, int(pk or 0))
        except (ChatNotFound, ValueError) as exc:
            raise NotFound("That chat does not exist.") from exc
        after_seq = _int_param(request, "after_seq", default=0, minimum=0)
        limit = _int_param(
            request,
            "limit",
            default=settings.CHAT_REPLAY_LIMIT,
            minimum=1,
            maximum=settings.CHAT_REPLAY_LIMIT,
        )
        page = selectors.replay_page(session, after_seq=after_seq, limit=limit)
        results = page["messages"]
        next_after = results[-1]["seq"] if page["has_more"] else None
        return Response({"results": results, "next_after_seq": next_after})


def _int_param(
    request: Request, name: str, *, default: int, minimum: int, maximum: int | None = None
) -> int:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError as exc:
        raise ValidationError({name: "Must be a whole number."}) from exc
    if value < minimum or (maximum is not None and value > maximum):
        bound = f" and at most {maximum}" if maximum is not None else ""
        raise ValidationError({name: f"Must be at least {minimum}{bound}."})
    return value
