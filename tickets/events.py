"""``ticket_changed``: the signal a ticket write sends, with what a staff
console shows of the ticket, so open ticket lists and ticket pages follow it
live.

The tickets app knows no socket (``realtime`` is beside it, not below it), so
the services send this Django signal inside their transaction and the app
that speaks to browsers turns it into the ``ticket.changed`` event after the
commit (``chat.broadcasts.ticket_changed``, connected in ``chat/apps.py``). A
write that rolls back is never heard of.
"""

from __future__ import annotations

from typing import Any, Literal

from django.db.models import Sum
from django.dispatch import Signal
from django.urls import reverse

from tickets.models import Ticket, TimeEntry

# Receivers get ``change``, ``ticket`` (ticket_payload), ``previous_status``
# (the status before, or None) and ``time_entry`` (time_entry_payload, or None).
ticket_changed = Signal()

Change = Literal["created", "assigned", "closed", "reopened", "status", "time"]


def announce(
    ticket_id: int,
    change: Change,
    *,
    previous_status: str | None = None,
    time_entry: TimeEntry | None = None,
) -> None:
    """Tell the receivers about a ticket write, inside its transaction (the
    ticket is read again here, as the write left it)."""
    ticket = Ticket.objects.select_related("company", "contact", "assignee").get(pk=ticket_id)
    ticket_changed.send(
        sender=Ticket,
        change=change,
        ticket=ticket_payload(ticket),
        previous_status=previous_status,
        time_entry=time_entry_payload(time_entry) if time_entry else None,
    )


def ticket_payload(ticket: Ticket) -> dict[str, Any]:
    """A ticket as the console's list and ticket page show it (staff only:
    ``ticket.changed`` goes to staff sockets)."""
    total = TimeEntry.objects.filter(ticket=ticket).aggregate(total=Sum("minutes"))["total"]
    return {
        "id": ticket.pk,
        "number": ticket.number,
        "subject": ticket.subject,
        "status": ticket.status,
        "status_label": ticket.get_status_display(),
        "company": ticket.company.name,
        "contact": ticket.contact.name if ticket.contact else None,
        "assignee": (
            {"id": ticket.assignee.pk, "name": ticket.assignee.display_name}
            if ticket.assignee
            else None
        ),
        "created_at": ticket.created_at.isoformat(),
        "updated_at": ticket.updated_at.isoformat(),
        "url": reverse("console:ticket_detail", args=[ticket.pk]),
        "time_total": total or 0,
    }


def time_entry_payload(entry: TimeEntry) -> dict[str, Any]:
    return {
        "id": entry.pk,
        "minutes": entry.minutes,
        "note": entry.note,
        "agent": entry.agent.display_name if entry.agent else None,
        "created_at": entry.created_at.isoformat(),
    }
