"""Django admin for chat: the permission layers, queues and their members, and
chat sessions with their transcripts (read-only: the record of what was said
is never edited)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import Count, QuerySet
from django.http import HttpRequest
from django.utils.html import format_html

from chat.models import (
    ChatQueue,
    ChatSession,
    ChatSettings,
    CompanyChatPermission,
    ContactChatPermission,
    Message,
    Participant,
    SessionEvent,
)
from chat.transcripts import transcript_text


@admin.register(ChatSettings)
class ChatSettingsAdmin(admin.ModelAdmin):
    list_display = ["__str__", "chat_enabled"]
    list_editable = ["chat_enabled"]
    list_display_links = ["__str__"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        # One row: the global layer.
        return not ChatSettings.objects.exists()

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(CompanyChatPermission)
class CompanyChatPermissionAdmin(admin.ModelAdmin):
    list_display = ["company", "value"]
    list_filter = ["value"]
    list_editable = ["value"]
    search_fields = ["company__name"]
    autocomplete_fields = ["company"]
    list_select_related = ["company"]


@admin.register(ContactChatPermission)
class ContactChatPermissionAdmin(admin.ModelAdmin):
    list_display = ["contact", "company", "value"]
    list_filter = ["value", "contact__company"]
    list_editable = ["value"]
    search_fields = ["contact__name", "contact__email", "contact__company__name"]
    autocomplete_fields = ["contact"]
    list_select_related = ["contact__company"]

    @admin.display(ordering="contact__company__name")
    def company(self, obj: ContactChatPermission) -> str:
        return obj.contact.company.name


@admin.register(ChatQueue)
class ChatQueueAdmin(admin.ModelAdmin):
    list_display = ["name", "is_default", "member_count", "company_count"]
    list_filter = ["is_default"]
    search_fields = ["name"]
    filter_horizontal = ["members", "companies"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[ChatQueue]:
        return (
            super()
            .get_queryset(request)
            .annotate(
                member_total=Count("members", distinct=True),
                company_total=Count("companies", distinct=True),
            )
        )

    @admin.display(description="members", ordering="member_total")
    def member_count(self, obj: Any) -> int:
        return obj.member_total

    @admin.display(description="companies", ordering="company_total")
    def company_count(self, obj: Any) -> int:
        return obj.company_total


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ParticipantInline(ReadOnlyInline):
    model = Participant
    fields = ["user", "role", "joined_at", "left_at", "last_read_seq"]
    readonly_fields = fields


class EventInline(ReadOnlyInline):
    model = SessionEvent
    fields = ["at", "old_status", "new_status", "actor", "reason"]
    readonly_fields = fields


@admin.register(ChatSession)
class ChatSessionAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "kind",
        "status",
        "title_display",
        "client",
        "company",
        "queue",
        "requested_at",
        "answered_at",
        "ended_at",
    ]
    list_filter = ["status", "kind", "queue", "requested_at"]
    search_fields = [
        "subject",
        "ticket__subject",
        "client__email",
        "contact__name",
        "contact__company__name",
    ]
    list_select_related = ["client", "contact__company", "queue", "ticket"]
    date_hierarchy = "requested_at"
    inlines = [ParticipantInline, EventInline]
    readonly_fields = [
        "kind",
        "status",
        "ticket",
        "contact",
        "client",
        "queue",
        "subject",
        "requested_at",
        "answered_at",
        "ended_at",
        "closed_at",
        "last_activity_at",
        "last_seq",
        "ended_by",
        "end_reason",
        "transcript",
    ]
    fields = readonly_fields

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description="title")
    def title_display(self, obj: ChatSession) -> str:
        return obj.title

    @admin.display(ordering="contact__company__name")
    def company(self, obj: ChatSession) -> str:
        return obj.contact.company.name

    @admin.display(description="transcript")
    def transcript(self, obj: ChatSession) -> str:
        # format_html escapes the transcript: message bodies are user input.
        return format_html('<pre style="white-space: pre-wrap">{}</pre>', transcript_text(obj))


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin):
    list_display = ["session", "seq", "kind", "author", "created_at", "short_body"]
    list_filter = ["kind"]
    search_fields = ["body"]
    list_select_related = ["author", "session"]
    readonly_fields = ["session", "seq", "client_id", "author", "kind", "body", "created_at"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description="body")
    def short_body(self, obj: Message) -> str:
        return obj.body[:80]
