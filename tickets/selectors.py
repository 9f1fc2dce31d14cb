"""Reads shared by the portal, the console and the API. Each returns a queryset
with its related rows joined or prefetched, so a page costs a fixed number of
queries whatever the number of rows."""

from __future__ import annotations

from django.db.models import Count, Prefetch, Q, QuerySet

from accounts.models import STAFF_ROLES, User
from tickets.models import Ticket, TicketAttachment, TicketNote, TicketStatus, TimeEntry


def tickets_visible_to(user: User) -> QuerySet[Ticket]:
    """Clients see the tickets of their own contact; staff see all. Anyone
    else sees nothing. Asking for a ticket outside this set is a 404."""
    base = Ticket.objects.select_related("company", "contact", "assignee")
    if not user.is_authenticated or not user.is_active:
        return base.none()
    if user.is_agent:
        return base
    contact = getattr(user, "contact", None)
    if contact is None:
        return base.none()
    return base.filter(contact=contact)


def ticket_list(
    user: User, *, status: str | None = None, with_note_count: bool = True
) -> QuerySet[Ticket]:
    """Newest first. ``with_note_count=False`` skips the notes join (and the
    GROUP BY it brings into the pagination COUNT) for pages that do not show it."""
    tickets = tickets_visible_to(user)
    if status:
        tickets = tickets.filter(status=status)
    if with_note_count:
        # A client must not learn that internal notes exist, not even their count.
        notes = Q() if getattr(user, "is_agent", False) else Q(notes__is_internal=False)
        tickets = tickets.annotate(note_count=Count("notes", filter=notes, distinct=True))
    return tickets.order_by("-created_at", "-id")


def ticket_status_counts(user: User) -> dict[str, int]:
    """How many visible tickets are in each status, in one query (the tab
    labels of the console list)."""
    counts = tickets_visible_to(user).aggregate(
        **{s.value: Count("pk", filter=Q(status=s.value)) for s in TicketStatus}
    )
    return {key: value or 0 for key, value in counts.items()}


def notes_visible_to(user: User, ticket: Ticket) -> QuerySet[TicketNote]:
    notes = ticket.notes.select_related("author")
    if not user.is_agent:
        notes = notes.filter(is_internal=False)
    attachments = TicketAttachment.objects.order_by("created_at", "id")
    if not user.is_agent:
        attachments = attachments.filter(is_internal=False)
    return notes.prefetch_related(Prefetch("attachments", queryset=attachments))


def attachments_visible_to(user: User, ticket: Ticket) -> QuerySet[TicketAttachment]:
    attachments = ticket.attachments.select_related("uploaded_by")
    if not user.is_agent:
        attachments = attachments.filter(is_internal=False)
    return attachments


def ticket_files_visible_to(user: User, ticket: Ticket) -> QuerySet[TicketAttachment]:
    """Attachments that belong to the ticket itself rather than to a note:
    files sent with the new ticket and files the system adds (transcripts)."""
    return attachments_visible_to(user, ticket).filter(note__isnull=True)


def time_entries_for(ticket: Ticket) -> QuerySet[TimeEntry]:
    return ticket.time_entries.select_related("agent")


def assignable_staff() -> QuerySet[User]:
    """Who a ticket can be assigned to (the service refuses anyone else)."""
    return User.objects.filter(role__in=STAFF_ROLES, is_active=True).order_by("full_name", "email")


def attachment_for_download(user: User, attachment_id: int) -> TicketAttachment:
    """The attachment if ``user`` may read it; raises DoesNotExist otherwise
    (the view turns that into a 404 so ids cannot be probed)."""
    attachment = TicketAttachment.objects.select_related("ticket").get(pk=attachment_id)
    if not tickets_visible_to(user).filter(pk=attachment.ticket_id).exists():
        raise TicketAttachment.DoesNotExist
    if attachment.is_internal and not user.is_agent:
        raise TicketAttachment.DoesNotExist
    return attachment
