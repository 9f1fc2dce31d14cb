"""Django admin for tickets, their notes, attachments and time entries.

Status moves made from a list go through ``tickets.services`` (the actions);
the change form keeps the same invariants as the services (an assigned ticket
has an assignee, the contact belongs to the company, ``closed_at`` follows the
status) so an administrator cannot save a ticket the console could not.
Files are never uploaded here (uploads are checked in the portal/console) and
are linked through the access-checked download view, never by storage URL.
"""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.forms import BaseInlineFormSet, ModelForm
from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html
from django.utils.text import Truncator

from accounts.models import User
from tickets import services
from tickets.errors import TicketError
from tickets.models import Ticket, TicketAttachment, TicketNote, TicketStatus, TimeEntry

# The name of the access-checked download route (tickets/urls_files.py).
DOWNLOAD_ROUTE = "files:attachment"


def _download_link(attachment: TicketAttachment) -> str:
    try:
        url = reverse(DOWNLOAD_ROUTE, args=[attachment.pk])
    except NoReverseMatch:
        return attachment.original_name
    return format_html('<a href="{}">{}</a>', url, attachment.original_name)


def _human_size(size: int) -> str:
    value = float(size)
    for unit in ("B", "KB", "MB"):
        if value < 1024:
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} GB"


class TicketForm(ModelForm):
    class Meta:
        model = Ticket
        fields = ("subject", "description", "company", "contact", "assignee", "status")

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        company = cleaned.get("company")
        contact = cleaned.get("contact")
        assignee: User | None = cleaned.get("assignee")
        status = cleaned.get("status")
        if contact is not None and company is not None and contact.company_id != company.pk:
            self.add_error("contact", "This contact belongs to another company.")
        if assignee is not None and (not assignee.is_agent or not assignee.is_active):
            self.add_error("assignee", "Tickets can only be assigned to active staff.")
        if status == TicketStatus.ASSIGNED and assignee is None:
            self.add_error("assignee", "An assigned ticket needs an assignee.")
        if status == TicketStatus.UNASSIGNED and assignee is not None:
            self.add_error("status", "Set the status to Assigned, or clear the assignee.")
        return cleaned


class TimeEntryForm(ModelForm):
    class Meta:
        model = TimeEntry
        fields = ("ticket", "agent", "minutes", "note")

    def clean_minutes(self) -> int:
        # The same bounds as tickets.services.time_entry_add.
        minutes = self.cleaned_data["minutes"]
        if not 0 < minutes <= 24 * 60:
            raise forms.ValidationError("Minutes must be between 1 and 1440 (24 hours).")
        return minutes


class NoteInline(admin.TabularInline):
    model = TicketNote
    extra = 0
    fields = ("body", "is_internal", "author", "created_at")
    readonly_fields = ("author", "created_at")
    show_change_link = True

    def get_queryset(self, request: HttpRequest) -> QuerySet[TicketNote]:
        return super().get_queryset(request).select_related("author")


class AttachmentInline(admin.TabularInline):
    model = TicketAttachment
    extra = 0
    fields = (
        "download",
        "size_display",
        "content_type",
        "is_internal",
        "uploaded_by",
        "created_at",
    )
    readonly_fields = ("download", "size_display", "content_type", "uploaded_by", "created_at")
    can_delete = False
    show_change_link = True

    def get_queryset(self, request: HttpRequest) -> QuerySet[TicketAttachment]:
        return super().get_queryset(request).select_related("uploaded_by")

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description="File")
    def download(self, obj: TicketAttachment) -> str:
        return _download_link(obj)

    @admin.display(description="Size")
    def size_display(self, obj: TicketAttachment) -> str:
        return _human_size(obj.size)


class TimeEntryInline(admin.TabularInline):
    model = TimeEntry
    form = TimeEntryForm
    extra = 0
    fields = ("minutes", "note", "agent", "created_at")
    readonly_fields = ("agent", "created_at")

    def get_queryset(self, request: HttpRequest) -> QuerySet[TimeEntry]:
        return super().get_queryset(request).select_related("agent")


@admin.register(Ticket)
class TicketAdmin(admin.ModelAdmin):
    form = TicketForm
    list_display = (
        "number",
        "subject",
        "company",
        "contact_name",
        "assignee",
        "status",
        "created_at",
    )
    list_display_links = ("number", "subject")
    list_filter = (
        "status",
        ("assignee", admin.RelatedOnlyFieldListFilter),
        ("company", admin.RelatedOnlyFieldListFilter),
        "created_at",
    )
    search_fields = (
        "id__exact",
        "subject",
        "description",
        "company__name",
        "contact__name",
        "contact__email",
    )
    list_select_related = ("company", "contact", "assignee")
    autocomplete_fields = ("company", "contact", "assignee")
    date_hierarchy = "created_at"
    readonly_fields = ("number", "created_at", "updated_at", "closed_at")
    fieldsets = (
        (None, {"fields": ("number", "subject", "description")}),
        ("Client", {"fields": ("company", "contact")}),
        ("Work", {"fields": ("status", "assignee", "created_at", "updated_at", "closed_at")}),
    )
    inlines = (NoteInline, AttachmentInline, TimeEntryInline)
    actions = ("close_tickets", "reopen_tickets")

    @admin.display(description="Number", ordering="id")
    def number(self, obj: Ticket) -> str:
        return f"#{obj.pk}" if obj.pk else "—"

    @admin.display(description="Contact", ordering="contact__name")
    def contact_name(self, obj: Ticket) -> str:
        return obj.contact.name if obj.contact else "—"

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Ticket], search_term: str
    ) -> tuple[QuerySet[Ticket], bool]:
        # People quote tickets as "#123": that means the number, nothing else.
        quoted = re.fullmatch(r"\s*#(\d{1,18})\s*", search_term)
        if quoted:
            return queryset.filter(pk=int(quoted.group(1))), False
        return super().get_search_results(request, queryset, search_term)

    def save_model(self, request: HttpRequest, obj: Ticket, form: Any, change: bool) -> None:
        # The other fields are saved as edited; the status goes through its
        # service, which keeps closed_at with it.
        status = obj.status
        obj.status = (
            Ticket.objects.values_list("status", flat=True).get(pk=obj.pk)
            if change
            else TicketStatus.UNASSIGNED
        )
        super().save_model(request, obj, form, change)
        if status != obj.status:
            services.ticket_status_set(ticket=obj, status=status, actor=request.user)  # type: ignore[arg-type]
            obj.refresh_from_db()

    def save_formset(
        self, request: HttpRequest, form: Any, formset: BaseInlineFormSet, change: bool
    ) -> None:
        # Notes and time entries added here are written by whoever is logged in.
        instances = formset.save(commit=False)
        for instance in instances:
            if isinstance(instance, TicketNote) and instance.author_id is None:
                instance.author = request.user
            if isinstance(instance, TimeEntry) and not instance.agent_id:
                instance.agent = request.user
            instance.save()
        for deleted in formset.deleted_objects:
            deleted.delete()
        formset.save_m2m()

    @admin.action(description="Close selected tickets")
    def close_tickets(self, request: HttpRequest, queryset: QuerySet[Ticket]) -> None:
        self._apply(request, queryset, services.ticket_close, "closed")

    @admin.action(description="Reopen selected tickets")
    def reopen_tickets(self, request: HttpRequest, queryset: QuerySet[Ticket]) -> None:
        self._apply(request, queryset, services.ticket_reopen, "reopened")

    def _apply(
        self, request: HttpRequest, queryset: QuerySet[Ticket], service: Any, verb: str
    ) -> None:
        done = 0
        for ticket in queryset:
            try:
                service(ticket=ticket, actor=request.user)
                done += 1
            except TicketError as exc:
                self.message_user(request, f"#{ticket.pk}: {exc.message}", messages.WARNING)
        if done:
            self.message_user(request, f"{done} ticket(s) {verb}.", messages.SUCCESS)


class NoteForm(forms.ModelForm):
    class Meta:
        model = TicketNote
        fields = ("ticket", "author", "body", "is_internal")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Left empty, the note is written by the administrator saving it.
        self.fields["author"].required = False


@admin.register(TicketNote)
class TicketNoteAdmin(admin.ModelAdmin):
    form = NoteForm
    list_display = ("excerpt", "ticket", "author", "is_internal", "created_at")
    list_filter = ("is_internal", "created_at")
    search_fields = ("body", "ticket__subject", "author__email", "author__full_name")
    list_select_related = ("ticket", "author")
    autocomplete_fields = ("ticket", "author")
    readonly_fields = ("created_at",)
    date_hierarchy = "created_at"

    @admin.display(description="Note")
    def excerpt(self, obj: TicketNote) -> str:
        return Truncator(obj.body).chars(80)

    def save_model(self, request: HttpRequest, obj: TicketNote, form: Any, change: bool) -> None:
        if obj.author_id is None:
            obj.author = request.user
        super().save_model(request, obj, form, change)


@admin.register(TicketAttachment)
class TicketAttachmentAdmin(admin.ModelAdmin):
    list_display = (
        "original_name",
        "ticket",
        "size_display",
        "content_type",
        "is_internal",
        "uploaded_by",
        "created_at",
    )
    list_filter = ("is_internal", "content_type", "created_at")
    search_fields = ("original_name", "ticket__subject", "uploaded_by__email", "source_key")
    list_select_related = ("ticket", "uploaded_by")
    fields = (
        "download",
        "ticket",
        "note",
        "size_display",
        "content_type",
        "is_internal",
        "uploaded_by",
        "source_key",
        "created_at",
    )
    readonly_fields = (
        "download",
        "ticket",
        "note",
        "size_display",
        "content_type",
        "uploaded_by",
        "source_key",
        "created_at",
    )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.display(description="File")
    def download(self, obj: TicketAttachment) -> str:
        return _download_link(obj)

    @admin.display(description="Size", ordering="size")
    def size_display(self, obj: TicketAttachment) -> str:
        return _human_size(obj.size)


@admin.register(TimeEntry)
class TimeEntryAdmin(admin.ModelAdmin):
    form = TimeEntryForm
    list_display = ("ticket", "agent", "minutes", "excerpt", "created_at")
    list_filter = (("agent", admin.RelatedOnlyFieldListFilter), "created_at")
    search_fields = ("note", "ticket__subject", "agent__email", "agent__full_name")
    list_select_related = ("ticket", "agent")
    autocomplete_fields = ("ticket", "agent")
    readonly_fields = ("created_at",)
    date_hierarchy = "created_at"

    @admin.display(description="Note")
    def excerpt(self, obj: TimeEntry) -> str:
        return Truncator(obj.note).chars(80)
