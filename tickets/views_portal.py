"""The client portal: my tickets, one ticket, a new ticket, a note.

Every ticket is looked up through ``tickets_visible_to``; anything outside it
(another contact's ticket, a guessed id) is a 404, never a 403, so ids cannot
be probed.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from tickets import selectors, services
from tickets.errors import TicketError
from tickets.forms import NoteForm, TicketCreateForm
from tickets.models import Ticket
from tickets.permissions import client_required

PAGE_SIZE = 50


def _own_ticket(request: HttpRequest, ticket_id: int) -> Ticket:
    return get_object_or_404(selectors.tickets_visible_to(request.user), pk=ticket_id)


@require_GET
@client_required
def home(request: HttpRequest) -> HttpResponse:
    tickets = selectors.ticket_list(request.user, with_note_count=False)
    page = Paginator(tickets, PAGE_SIZE).get_page(request.GET.get("page"))
    contact = getattr(request.user, "contact", None)
    return render(request, "portal/home.html", {"page_obj": page, "contact": contact})


@require_http_methods(["GET", "POST"])
@client_required
def ticket_create(request: HttpRequest) -> HttpResponse:
    contact = getattr(request.user, "contact", None)
    if contact is None:
        messages.error(
            request, "Your login is not linked to a company yet. Please contact the helpdesk."
        )
        return redirect("portal:home")
    is_post = request.method == "POST"
    form = TicketCreateForm(request.POST, request.FILES) if is_post else TicketCreateForm()
    if is_post and form.is_valid():
        data = form.cleaned_data
        try:
            ticket = services.ticket_create(
                subject=data["subject"],
                description=data["description"],
                company=contact.company,
                contact=contact,
                created_by=request.user,
                files=[data["file"]] if data["file"] else [],
            )
        except TicketError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, f"Ticket #{ticket.number} created.")
            return redirect("portal:ticket_detail", ticket_id=ticket.pk)
    return render(
        request, "portal/ticket_create.html", {"form": form}, status=400 if is_post else 200
    )


def _render_ticket(
    request: HttpRequest, ticket: Ticket, note_form: NoteForm, *, status: int = 200
) -> HttpResponse:
    context = {
        "ticket": ticket,
        "notes": selectors.notes_visible_to(request.user, ticket),
        "ticket_files": selectors.ticket_files_visible_to(request.user, ticket),
        "note_form": note_form,
        "tab": "notes",
        "max_upload_mb": settings.ATTACHMENT_MAX_BYTES / (1024 * 1024),
    }
    return render(request, "portal/ticket_detail.html", context, status=status)


@require_GET
@client_required
def ticket_detail(request: HttpRequest, ticket_id: int) -> HttpResponse:
    return _render_ticket(request, _own_ticket(request, ticket_id), NoteForm())


@require_POST
@client_required
def note_add(request: HttpRequest, ticket_id: int) -> HttpResponse:
    ticket = _own_ticket(request, ticket_id)
    form = NoteForm(request.POST, request.FILES)
    if form.is_valid():
        file = form.cleaned_data["file"]
        try:
            services.note_add(
                ticket=ticket,
                author=request.user,
                body=form.cleaned_data["body"],
                files=[file] if file else [],
            )
        except TicketError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, "Note added.")
            return redirect("portal:ticket_detail", ticket_id=ticket.pk)
    return _render_ticket(request, ticket, form, status=400)
