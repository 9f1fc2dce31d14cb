"""The agent console: the ticket queue and one ticket with its actions.

Each action is its own POST URL. On success: a message and a redirect to the
ticket (so a reload never posts twice). On a form error the ticket page is
rendered again with the form's errors and what was typed (status 400). A
``TicketError`` from a service means nothing was written; it is shown the
same way. The time form sent again with other values is answered 409
(``time_entry_add``).
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from tickets import selectors, services
from tickets.errors import TicketError
from tickets.forms import AssignForm, StaffNoteForm, TimeEntryForm
from tickets.models import Ticket, TicketStatus
from tickets.permissions import staff_required
from tickets.view_actions import apply_ticket_change

PAGE_SIZE = 50


def _ticket(request: HttpRequest, ticket_id: int) -> Ticket:
    return get_object_or_404(selectors.tickets_visible_to(request.user), pk=ticket_id)


@require_GET
@staff_required
def ticket_list(request: HttpRequest) -> HttpResponse:
    status = request.GET.get("status", TicketStatus.UNASSIGNED)
    if status not in TicketStatus.values:
        status = TicketStatus.UNASSIGNED
    tickets = selectors.ticket_list(request.user, status=status, with_note_count=False)
    page = Paginator(tickets, PAGE_SIZE).get_page(request.GET.get("page"))
    counts = selectors.ticket_status_counts(request.user)
    tabs = [{"status": s.value, "label": s.label, "count": counts[s.value]} for s in TicketStatus]
    return render(
        request,
        "console/ticket_list.html",
        {"page_obj": page, "status": status, "tabs": tabs},
    )


def _render_ticket(
    request: HttpRequest,
    ticket: Ticket,
    *,
    note_form: StaffNoteForm | None = None,
    assign_form: AssignForm | None = None,
    time_form: TimeEntryForm | None = None,
    status: int = 200,
) -> HttpResponse:
    staff = selectors.assignable_staff()
    if assign_form is None:
        # Default to me: the common case is taking the ticket yourself.
        assign_form = AssignForm(assignees=staff, initial={"assignee": request.user.pk})
    time_entries = list(selectors.time_entries_for(ticket))
    context = {
        "ticket": ticket,
        "notes": selectors.notes_visible_to(request.user, ticket),
        "attachments": selectors.attachments_visible_to(request.user, ticket),
        "ticket_files": selectors.ticket_files_visible_to(request.user, ticket),
        "time_entries": time_entries,
        "time_total": sum(entry.minutes for entry in time_entries),
        "note_form": note_form or StaffNoteForm(),
        "assign_form": assign_form,
        "time_form": time_form or TimeEntryForm(initial={"client_id": uuid.uuid4()}),
        "is_closed": ticket.status == TicketStatus.CLOSED,
        "assigned_to_me": ticket.assignee_id == request.user.pk,
        "max_upload_mb": settings.ATTACHMENT_MAX_BYTES / (1024 * 1024),
        "tab": "notes",
    }
    return render(request, "console/ticket_detail.html", context, status=status)


def _back(ticket: Ticket) -> HttpResponse:
    return redirect("console:ticket_detail", ticket_id=ticket.pk)


@require_GET
@staff_required
def ticket_detail(request: HttpRequest, ticket_id: int) -> HttpResponse:
    return _render_ticket(request, _ticket(request, ticket_id))


@require_POST
@staff_required
def note_add(request: HttpRequest, ticket_id: int) -> HttpResponse:
    ticket = _ticket(request, ticket_id)
    form = StaffNoteForm(request.POST, request.FILES)
    if form.is_valid():
        file = form.cleaned_data["file"]
        is_internal = form.cleaned_data["is_internal"]
        try:
            services.note_add(
                ticket=ticket,
                author=request.user,
                body=form.cleaned_data["body"],
                is_internal=is_internal,
                files=[file] if file else [],
            )
        except TicketError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, "Internal note added." if is_internal else "Note added.")
            return _back(ticket)
    return _render_ticket(request, ticket, note_form=form, status=400)


@require_POST
@staff_required
def ticket_assign(request: HttpRequest, ticket_id: int) -> HttpResponse:
    ticket = _ticket(request, ticket_id)
    form = AssignForm(request.POST, assignees=selectors.assignable_staff())
    if form.is_valid():
        assignee = form.cleaned_data["assignee"]
        try:
            services.ticket_assign(ticket=ticket, assignee=assignee, actor=request.user)
        except TicketError as exc:
            form.add_error(None, exc.message)
        else:
            who = "you" if assignee.pk == request.user.pk else assignee.display_name
            messages.success(request, f"Ticket #{ticket.number} assigned to {who}.")
            return _back(ticket)
    return _render_ticket(request, ticket, assign_form=form, status=400)


@require_POST
@staff_required
def ticket_close(request: HttpRequest, ticket_id: int) -> HttpResponse:
    ticket = _ticket(request, ticket_id)
    apply_ticket_change(request, services.ticket_close, ticket, "closed")
    return _back(ticket)


@require_POST
@staff_required
def ticket_reopen(request: HttpRequest, ticket_id: int) -> HttpResponse:
    ticket = _ticket(request, ticket_id)
    apply_ticket_change(request, services.ticket_reopen, ticket, "reopened")
    return _back(ticket)


@require_POST
@staff_required
def time_entry_add(request: HttpRequest, ticket_id: int) -> HttpResponse:
    ticket = _ticket(request, ticket_id)
    form = TimeEntryForm(request.POST)
    if form.is_valid():
        minutes, note = form.cleaned_data["minutes"], form.cleaned_data["note"]
        try:
            entry = services.time_entry_add(
                ticket=ticket,
                agent=request.user,
                minutes=minutes,
                note=note,
                client_id=form.cleaned_data["client_id"],
            )
        except TicketError as exc:
            if exc.code == "client_id_reused":
                form = _with_new_form_id(request)
            form.add_error(None, exc.message)
        else:
            if (entry.minutes, entry.note) == (minutes, note.strip()):
                messages.success(request, f"{minutes} min logged.")
                return _back(ticket)
            # The same form sent again with other values (a page brought back
            # with the Back button): the first entry stands, and these values
            # are offered again under a new id rather than silently dropped.
            form = _with_new_form_id(request)
            form.add_error(
                None,
                f"This form already logged {entry.minutes} min. "
                f"Press Add time again to log {minutes} min as well.",
            )
            return _render_ticket(request, ticket, time_form=form, status=409)
    if "client_id" in form.errors:
        # A form id that is not one: the values come back under a good one.
        errors = form.errors["client_id"]
        form = _with_new_form_id(request)
        form.add_error(None, f"Form id: {' '.join(errors)}")
    return _render_ticket(request, ticket, time_form=form, status=400)


def _with_new_form_id(request: HttpRequest) -> TimeEntryForm:
    """The time form with what was typed, under a new id, so that pressing
    Add time again logs it."""
    form = TimeEntryForm({**request.POST.dict(), "client_id": str(uuid.uuid4())})
    form.is_valid()
    return form
