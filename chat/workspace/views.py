"""The workspace page and the context pane of one chat.

Access as the rest of the console (tickets.permissions.staff_required):
anonymous visitors go to the login page, clients get the 403 page. The
context of a chat is for whoever may read the chat (chat.selectors.session_for:
a waiting request for any agent, an answered chat for its agents and the
supervisors); anyone else gets a 404, so chat ids cannot be probed.
"""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from chat.errors import ChatNotFound
from chat.selectors import session_for
from tickets import selectors as ticket_selectors
from tickets.permissions import staff_required

# The newest notes the pane shows; the ticket page has them all.
NOTES_SHOWN = 5


@require_GET
@staff_required
def chats(request: HttpRequest) -> HttpResponse:
    return render(request, "chat/workspace.html", {"workspace": True})


@require_GET
@staff_required
def context(request: HttpRequest, session_id: int) -> HttpResponse:
    try:
        session = session_for(request.user, session_id)
    except ChatNotFound as exc:
        raise Http404(str(exc)) from exc
    ticket = session.ticket
    page: dict[str, object] = {"session": session, "ticket": ticket, "contact": session.contact}
    if ticket is not None:
        notes = ticket_selectors.notes_visible_to(request.user, ticket)
        newest = list(notes.order_by("-created_at", "-id")[:NOTES_SHOWN])
        entries = list(ticket_selectors.time_entries_for(ticket))
        page.update(
            notes=newest[::-1],
            note_count=notes.count(),
            time_entries=entries,
            time_total=sum(entry.minutes for entry in entries),
        )
    return render(request, "chat/workspace/_context.html", page)
