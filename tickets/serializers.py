"""API shapes of tickets, notes and attachments.

Output serializers only read what the selectors already joined or prefetched
(no query per row). Input serializers check the shape of a request; the rules
(who may do what, which moves are allowed) stay in tickets.services.
"""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field, inline_serializer
from rest_framework import serializers

from accounts.models import STAFF_ROLES, Company, Contact, User
from tickets.models import Ticket, TicketAttachment, TicketNote


def attachment_download_url(attachment_id: int) -> str:
    # /files/attachments/<id>/: the download view checks access on every
    # request, so handing out the URL reveals nothing by itself.
    return reverse("files:attachment", kwargs={"attachment_id": attachment_id})


# --- Output ------------------------------------------------------------------------


class UserBriefSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(source="display_name", read_only=True)


class CompanyBriefSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(read_only=True)


class ContactBriefSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(read_only=True)


class AttachmentSerializer(serializers.ModelSerializer):
    name = serializers.CharField(source="original_name", read_only=True)
    download_url = serializers.SerializerMethodField()

    class Meta:
        model = TicketAttachment
        fields = [
            "id",
            "name",
            "content_type",
            "size",
            "is_internal",
            "note",
            "created_at",
            "download_url",
        ]
        read_only_fields = fields

    def get_download_url(self, attachment: TicketAttachment) -> str:
        return attachment_download_url(attachment.pk)


class TicketSerializer(serializers.ModelSerializer):
    """A row of the ticket list."""

    number = serializers.IntegerField(read_only=True)
    company = CompanyBriefSerializer(read_only=True)
    contact = ContactBriefSerializer(read_only=True, allow_null=True)
    assignee = UserBriefSerializer(read_only=True, allow_null=True)

    class Meta:
        model = Ticket
        fields = [
            "id",
            "number",
            "subject",
            "status",
            "company",
            "contact",
            "assignee",
            "created_at",
            "updated_at",
            "closed_at",
        ]
        read_only_fields = fields


class TicketDetailSerializer(TicketSerializer):
    """One ticket with its description and the attachments the reader may see."""

    # The view passes those attachments in context["attachments"] (from
    # tickets.selectors.attachments_visible_to): this serializer never decides
    # visibility itself.
    attachments = serializers.SerializerMethodField()

    class Meta(TicketSerializer.Meta):
        fields = [*TicketSerializer.Meta.fields, "description", "attachments"]
        read_only_fields = fields

    @extend_schema_field(AttachmentSerializer(many=True))
    def get_attachments(self, ticket: Ticket) -> list[dict[str, Any]]:
        attachments = self.context.get("attachments", [])
        return AttachmentSerializer(attachments, many=True, context=self.context).data


class NoteSerializer(serializers.ModelSerializer):
    """A note with the attachments the reader may see."""

    # Attachments come prefetched by tickets.selectors.notes_visible_to, which
    # already left out what the reader may not see.
    author = UserBriefSerializer(read_only=True, allow_null=True)
    attachments = AttachmentSerializer(many=True, read_only=True)

    class Meta:
        model = TicketNote
        fields = ["id", "ticket", "author", "body", "is_internal", "created_at", "attachments"]
        read_only_fields = fields


# --- Input -------------------------------------------------------------------------


@extend_schema_field(OpenApiTypes.BINARY)
class UploadField(serializers.FileField):
    """A file part of a multipart request (described as binary in the schema)."""


class TicketCreateSerializer(serializers.Serializer):
    subject = serializers.CharField(max_length=200)
    description = serializers.CharField(required=False, allow_blank=True, default="")
    company = serializers.PrimaryKeyRelatedField(
        queryset=Company.objects.all(),
        required=False,
        help_text="Staff only, and required for staff. Ignored for clients: "
        "their tickets are always for their own company and contact.",
    )
    contact = serializers.PrimaryKeyRelatedField(
        queryset=Contact.objects.all(),
        required=False,
        allow_null=True,
        help_text="Staff only: a contact of the given company. Ignored for clients.",
    )
    files = serializers.ListField(
        child=UploadField(),
        required=False,
        default=list,
        help_text="Attachments (multipart/form-data). Size and type limits apply.",
    )


class AssignSerializer(serializers.Serializer):
    assignee = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.filter(role__in=STAFF_ROLES, is_active=True),
        help_text="Id of an active staff member.",
        error_messages={"does_not_exist": "No active staff member has id {pk_value}."},
    )


class NoteCreateSerializer(serializers.Serializer):
    body = serializers.CharField(required=False, allow_blank=True, default="")
    is_internal = serializers.BooleanField(
        required=False, default=False, help_text="Staff only: visible to staff, never to clients."
    )
    files = serializers.ListField(
        child=UploadField(),
        required=False,
        default=list,
        help_text="Attachments (multipart/form-data). Size and type limits apply.",
    )

    def validate_is_internal(self, value: bool) -> bool:
        # The service refuses this too; saying it here gives API clients a
        # 400 that names the field instead of a bare refusal.
        user = self.context["request"].user
        if value and not user.is_agent:
            raise serializers.ValidationError(
                "Clients cannot write internal notes.", code="internal_not_allowed"
            )
        return value


# Every API error (see config.api.exception_handler). Built with
# inline_serializer because "fields" cannot be a declared serializer field.
ErrorSerializer = inline_serializer(
    name="Error",
    fields={
        "code": serializers.CharField(help_text="Stable, for programs."),
        "detail": serializers.CharField(help_text="For people."),
        "fields": serializers.DictField(
            child=serializers.ListField(child=serializers.CharField()),
            required=False,
            help_text="Per-field messages of a validation error.",
        ),
    },
)
