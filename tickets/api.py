"""REST API of tickets and notes (``/api/tickets/...``).

Each view parses, authorizes, calls a selector or a service, and serializes.
What a user may see comes from tickets.selectors (a ticket outside that set is
a 404, so ids cannot be probed); what a user may do is checked by the services,
whose ``DomainError`` becomes a JSON error (config.api.exception_handler,
the REST_FRAMEWORK setting).
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, permissions, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.models import User
from tickets import services
from tickets.models import Ticket, TicketStatus
from tickets.permissions import IsStaff
from tickets.selectors import (
    attachments_visible_to,
    notes_visible_to,
    ticket_list,
    tickets_visible_to,
)
from tickets.serializers import (
    AssignSerializer,
    ErrorSerializer,
    NoteCreateSerializer,
    NoteSerializer,
    TicketCreateSerializer,
    TicketDetailSerializer,
    TicketSerializer,
)

_ERRORS = {
    400: OpenApiResponse(ErrorSerializer, description="Bad input or a refused move."),
    403: OpenApiResponse(ErrorSerializer, description="Not logged in, or not allowed."),
    404: OpenApiResponse(ErrorSerializer, description="No such ticket visible to you."),
}
_STATE_ERRORS = {
    **_ERRORS,
    409: OpenApiResponse(ErrorSerializer, description="Not possible in the ticket's state."),
}


@extend_schema(tags=["tickets"])
class TicketViewSet(viewsets.GenericViewSet):
    """Tickets as the logged-in user may see them: a client its own contact's
    tickets, staff every ticket."""

    permission_classes = [permissions.IsAuthenticated]
    serializer_class = TicketSerializer

    def get_queryset(self) -> QuerySet[Ticket]:
        return tickets_visible_to(self._user)

    def get_permissions(self) -> list[permissions.BasePermission]:
        if self.action in {"assign", "close", "reopen"}:
            return [permissions.IsAuthenticated(), IsStaff()]
        return super().get_permissions()

    @property
    def _user(self) -> User:
        return self.request.user  # type: ignore[return-value]

    def _detail(self, ticket: Ticket, *, status_code: int = status.HTTP_200_OK) -> Response:
        # Re-read through the selector: the row a service returns was locked
        # without its related rows, and visibility is the selector's call.
        ticket = tickets_visible_to(self._user).get(pk=ticket.pk)
        context = {
            **self.get_serializer_context(),
            "attachments": attachments_visible_to(self._user, ticket),
        }
        return Response(TicketDetailSerializer(ticket, context=context).data, status=status_code)

    # --- tickets ---------------------------------------------------------------

    @extend_schema(
        summary="List tickets",
        parameters=[
            OpenApiParameter(
                "status", str, enum=TicketStatus.values, description="Only tickets in this status."
            )
        ],
        responses={200: TicketSerializer(many=True), 400: _ERRORS[400], 403: _ERRORS[403]},
    )
    def list(self, request: Request) -> Response:
        status_filter = request.query_params.get("status") or None
        if status_filter is not None and status_filter not in TicketStatus.values:
            raise exceptions.ValidationError(
                {"status": [f"Must be one of: {', '.join(TicketStatus.values)}."]},
                code="invalid_status",
            )
        tickets = ticket_list(self._user, status=status_filter)
        page = self.paginate_queryset(tickets)
        return self.get_paginated_response(TicketSerializer(page, many=True).data)

    @extend_schema(
        summary="Create a ticket",
        description="A client's ticket is always for its own company and contact "
        "(company/contact in the body are ignored). Staff must give the company "
        "and may give a contact of that company.",
        request=TicketCreateSerializer,
        responses={201: TicketDetailSerializer, 400: _ERRORS[400], 403: _ERRORS[403]},
    )
    def create(self, request: Request) -> Response:
        user = self._user
        data = TicketCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        if user.is_agent:
            company = values.get("company")
            if company is None:
                raise exceptions.ValidationError(
                    {"company": ["Staff must choose the ticket's company."]}, code="required"
                )
            contact = values.get("contact")
        else:
            contact = getattr(user, "contact", None)
            if contact is None:
                raise exceptions.PermissionDenied(
                    "Your login is not linked to a contact; ask the helpdesk.", code="no_contact"
                )
            company = contact.company
        ticket = services.ticket_create(
            subject=values["subject"],
            description=values["description"],
            company=company,
            contact=contact,
            created_by=user,
            files=values["files"],
        )
        return self._detail(ticket, status_code=status.HTTP_201_CREATED)

    @extend_schema(
        summary="One ticket",
        responses={200: TicketDetailSerializer, 403: _ERRORS[403], 404: _ERRORS[404]},
    )
    def retrieve(self, request: Request, pk: str) -> Response:
        return self._detail(self.get_object())

    # --- staff actions -------------------------------------------------------------

    @extend_schema(
        summary="Assign a ticket (staff)",
        request=AssignSerializer,
        responses={200: TicketDetailSerializer, **_STATE_ERRORS},
    )
    @action(detail=True, methods=["post"])
    def assign(self, request: Request, pk: str) -> Response:
        data = AssignSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        ticket = services.ticket_assign(
            ticket=self.get_object(), assignee=data.validated_data["assignee"], actor=self._user
        )
        return self._detail(ticket)

    @extend_schema(
        summary="Close a ticket (staff)",
        request=None,
        responses={200: TicketDetailSerializer, **_STATE_ERRORS},
    )
    @action(detail=True, methods=["post"])
    def close(self, request: Request, pk: str) -> Response:
        ticket = services.ticket_close(ticket=self.get_object(), actor=self._user)
        return self._detail(ticket)

    @extend_schema(
        summary="Reopen a closed ticket (staff)",
        request=None,
        responses={200: TicketDetailSerializer, **_STATE_ERRORS},
    )
    @action(detail=True, methods=["post"])
    def reopen(self, request: Request, pk: str) -> Response:
        ticket = services.ticket_reopen(ticket=self.get_object(), actor=self._user)
        return self._detail(ticket)

    # --- notes -----------------------------------------------------------------------

    @extend_schema(
        methods=["GET"],
        summary="Notes of a ticket",
        description="Clients never see internal notes or internal attachments.",
        responses={200: NoteSerializer(many=True), 403: _ERRORS[403], 404: _ERRORS[404]},
    )
    @extend_schema(
        methods=["POST"],
        summary="Add a note",
        description="JSON, or multipart/form-data to attach files. "
        "Only staff may write internal notes.",
        request=NoteCreateSerializer,
        responses={201: NoteSerializer, **_ERRORS},
    )
    @action(detail=True, methods=["get", "post"], pagination_class=None)
    def notes(self, request: Request, pk: str) -> Response:
        ticket = self.get_object()
        if request.method == "POST":
            return self._add_note(request, ticket)
        # A ticket's notes are read as one conversation; not paginated.
        notes = notes_visible_to(self._user, ticket)
        return Response(NoteSerializer(notes, many=True).data)

    def _add_note(self, request: Request, ticket: Ticket) -> Response:
        data = NoteCreateSerializer(data=request.data, context={"request": request})
        data.is_valid(raise_exception=True)
        values: dict[str, Any] = data.validated_data
        note = services.note_add(
            ticket=ticket,
            author=self._user,
            body=values["body"],
            is_internal=values["is_internal"],
            files=values["files"],
        )
        stored = notes_visible_to(self._user, ticket).get(pk=note.pk)
        return Response(NoteSerializer(stored).data, status=status.HTTP_201_CREATED)
