"""The supervisor console at /console/supervisor/: tabs Chats (filled and kept
live over the socket by static/js/chat/supervisor.js), Closed and Tickets
(rendered here, paged), the live numbers above them, and a chat's
transcript with its comments.

Access as the rest of the console (tickets.permissions): anonymous visitors
go to the login page; anyone logged in who is not a supervisor or an
administrator gets the 403 page.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial, wraps
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from chat.errors import ChatNotFound
from chat.formatting import render_markdown, render_plain
from chat.models import MessageKind
from chat.supervision import selectors as supervision
from tickets import selectors as ticket_selectors
from tickets import services as ticket_services
from tickets.forms import AssignForm
from tickets.models import Ticket, TicketStatus
from tickets.view_actions import apply_ticket_change

View = Callable[..., HttpResponse]
PAGE_SIZE = 50
TABS = (("chats", "Chats"), ("closed", "Closed"), ("tickets", "Tickets"))
STATE_LABELS = {s.value: s.label for s in supervision.REQUEST_STATES}


def supervisor_required(view: View) -> View:
    """Supervisors and administrators (User.is_supervisor)."""

    @login_required
    @wraps(view)
    def wrapper(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
        if not request.user.is_supervisor:
            raise PermissionDenied("The supervisor console is for supervisors.")
        return view(request, *args, **kwargs)

    return wrapper


@require_GET
@supervisor_required
def console(request: HttpRequest) -> HttpResponse:
    tab = request.GET.get("tab", "chats")
    if tab not in dict(TABS):
        tab = "chats"
    context: dict[str, object] = {"tab": tab, "tabs": TABS}
    if tab == "closed":
        page = Paginator(supervision.closed_chats(), PAGE_SIZE).get_page(request.GET.get("page"))
        context.update(page_obj=page, query_prefix="tab=closed&")
    elif tab == "tickets":
        state = request.GET.get("state", TicketStatus.UNASSIGNED)
        if state not in STATE_LABELS:
            state = TicketStatus.UNASSIGNED
        counts = supervision.follow_up_counts()
        page = Paginator(supervision.follow_up_requests(state=state), PAGE_SIZE).get_page(
            request.GET.get("page")
        )
        context.update(
            page_obj=page,
            state=state,
            query_prefix=f"tab=tickets&state={state}&",
            states=[
                {"state": key, "label": label, "count": counts[key]}
                for key, label in STATE_LABELS.items()
            ],
            # One list for every row's Assign menu: a fixed number of queries.
            assignees=list(ticket_selectors.assignable_staff()),
        )
    return render(request, "chat/supervisor.html", context)


@require_GET
@supervisor_required
def transcript(request: HttpRequest, session_id: int) -> HttpResponse:
    try:
        session, chat_messages, comments = supervision.transcript_for_supervisor(session_id)
    except ChatNotFound:
        raise Http404("No such chat") from None
    lines = [
        {
            "kind": m.kind,
            "author": m.author.display_name if m.author else "",
            "body_html": (
                render_markdown(m.body) if m.kind == MessageKind.TEXT else render_plain(m.body)
            ),
            "at": m.created_at,
            "is_comment": False,
        }
        for m in chat_messages
    ]
    # Comments interleaved by time, marked as internal (the client never
    # sees this page, the portal's history or the transcript file).
    lines += [
        {
            "kind": "comment",
            "author": c.author.display_name if c.author else "",
            "body": c.body,
            "mentions": [u.display_name for u in c.mentions.all()],
            "at": c.created_at,
            "is_comment": True,
        }
        for c in comments
    ]
    lines.sort(key=lambda line: line["at"])
    return render(
        request,
        "chat/supervisor_transcript.html",
        {"session": session, "lines": lines, "comment_count": len(comments)},
    )


# --- Tickets tab actions (tickets.services) --------------------------------------------------


def _back(request: HttpRequest) -> HttpResponse:
    state = request.POST.get("state", "")
    query = {"tab": "tickets", "state": state if state in STATE_LABELS else "unassigned"}
    return redirect(f"{reverse('supervisor:console')}?{urlencode(query)}")


@require_POST
@supervisor_required
def ticket_assign(request: HttpRequest, ticket_id: int) -> HttpResponse:
    ticket = get_object_or_404(Ticket, pk=ticket_id)
    form = AssignForm(request.POST, assignees=ticket_selectors.assignable_staff())
    if not form.is_valid():
        messages.error(request, "Choose who to assign the ticket to.")
        return _back(request)
    assignee = form.cleaned_data["assignee"]
    apply_ticket_change(
        request,
        partial(ticket_services.ticket_assign, assignee=assignee),
        ticket,
        f"assigned to {assignee.display_name}",
    )
    return _back(request)


@require_POST
@supervisor_required
def ticket_close(request: HttpRequest, ticket_id: int) -> HttpResponse:
    ticket = get_object_or_404(Ticket, pk=ticket_id)
    apply_ticket_change(request, ticket_services.ticket_close, ticket, "closed")
    return _back(request)


@require_POST
@supervisor_required
def ticket_reopen(request: HttpRequest, ticket_id: int) -> HttpResponse:
    ticket = get_object_or_404(Ticket, pk=ticket_id)
    apply_ticket_change(request, ticket_services.ticket_reopen, ticket, "reopened")
    return _back(request)
