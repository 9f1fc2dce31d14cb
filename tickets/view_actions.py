"""The buttons that change a ticket (close, reopen, assign) on the agent
console and on the supervisor's Tickets tab: the service runs, and its outcome
becomes the message shown on the page the button returns to."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.http import HttpRequest

from tickets.errors import TicketError
from tickets.models import Ticket


def apply_ticket_change(
    request: HttpRequest, change: Callable[..., Any], ticket: Ticket, done: str
) -> None:
    """``change(ticket=..., actor=...)``; "Ticket #N <done>." on success, the
    service's own message if it refused."""
    try:
        change(ticket=ticket, actor=request.user)
    except TicketError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"Ticket #{ticket.number} {done}.")
