"""Django admin for chat: the permission layers, queues and their members, and
chat sessions with their transcripts (read-only: the record of what was said
is never edited)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import Count, QuerySet
from django.http import HttpRequest
from django.utils.html import format_html

from chat.agent_tools.blocks import block_lift, block_restore
from chat.models import (
    AutoReply,
    AutoReplyKind,
    ChatAttachment,
    ChatBlock,
    ChatComment,
    ChatInvitation,
    ChatQueue,
    ChatSession,
    ChatSettings,
    ChatTemplate,
    ChatTransfer,
    CompanyChatPermission,
    ContactChatPermission,
    Message,
    PageView,
    Participant,
    SessionEvent,
    VisitorInfo,
    WhatsAppTemplate,
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


class TransferInline(ReadOnlyInline):
    """Who moved the chat, from whom, to whom and why (Transfer / Assign)."""

    model = ChatTransfer
    fk_name = "session"
    fields = ["at", "by", "from_agent", "to_agent", "to_queue", "reason"]
    readonly_fields = fields


class InvitationInline(ReadOnlyInline):
    model = ChatInvitation
    fk_name = "session"
    fields = ["created_at", "invited_by", "invitee", "accepted_at"]
    readonly_fields = fields


class CommentInline(ReadOnlyInline):
    """Supervisors' internal comments (staff only, never shown to the client)."""

    model = ChatComment
    fields = ["created_at", "author", "body"]
    readonly_fields = fields


class AttachmentInline(ReadOnlyInline):
    model = ChatAttachment
    fields = ["created_at", "uploaded_by", "original_name", "content_type", "size", "is_image"]
    readonly_fields = fields


class VisitorInfoInline(ReadOnlyInline):
    model = VisitorInfo
    fields = [
        "user_agent",
        "landing_page",
        "landing_at",
        "first_visit_page",
        "first_visit_at",
        "recorded_at",
    ]
    readonly_fields = fields


class PageViewInline(ReadOnlyInline):
    model = PageView
    fields = ["viewed_at", "path", "title"]
    readonly_fields = fields


@admin.register(ChatSession)
class ChatSessionAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "kind",
        "channel",
        "status",
        "title_display",
        "client",
        "company",
        "queue",
        "requested_at",
        "answered_at",
        "ended_at",
    ]
    list_filter = ["status", "kind", "channel", "queue", "requested_at"]
    search_fields = [
        "client_address",
        "subject",
        "ticket__subject",
        "client__email",
        "contact__name",
        "contact__company__name",
    ]
    list_select_related = ["client", "contact__company", "queue", "ticket"]
    date_hierarchy = "requested_at"
    inlines = [
        ParticipantInline,
        EventInline,
        TransferInline,
        InvitationInline,
        CommentInline,
        AttachmentInline,
        VisitorInfoInline,
        PageViewInline,
    ]
    readonly_fields = [
        "kind",
        "status",
        "channel",
        "client_address",
        "ticket",
        "contact",
        "client",
        "queue",
        "subject",
        "client_ip",
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
        return obj.contact.company.name if obj.contact else "—"

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


@admin.register(ChatTemplate)
class ChatTemplateAdmin(admin.ModelAdmin):
    """Greetings and farewells of the chat window. Global without an owner,
    else one agent's own; the model's clean() refuses unknown placeholders."""

    list_display = ["title", "kind", "scope", "ordering", "short_body"]
    list_filter = ["kind", ("owner", admin.EmptyFieldListFilter), "owner"]
    list_editable = ["ordering"]
    search_fields = ["title", "body", "owner__email", "owner__full_name"]
    list_select_related = ["owner"]
    fields = ["kind", "title", "body", "owner", "ordering"]

    @admin.display(description="for", ordering="owner__full_name")
    def scope(self, obj: ChatTemplate) -> str:
        return obj.owner.display_name if obj.owner else "Everyone (global)"

    @admin.display(description="body")
    def short_body(self, obj: ChatTemplate) -> str:
        # Plain text: the admin escapes it (a body is admin input).
        return obj.body[:80]


@admin.register(WhatsAppTemplate)
class WhatsAppTemplateAdmin(admin.ModelAdmin):
    """Templates approved by Meta in WhatsApp Manager, copied here so that
    agents can send them once a client's 24-hour window has closed. The
    model's clean() checks the name, the language code and that the
    placeholders are {{1}}, {{2}}... without gaps."""

    list_display = ["name", "language", "approved", "short_body"]
    list_filter = ["approved", "language"]
    list_editable = ["approved"]
    search_fields = ["name", "body"]
    fields = ["name", "language", "body", "approved"]

    @admin.display(description="body")
    def short_body(self, obj: WhatsAppTemplate) -> str:
        return obj.body[:80]


@admin.register(AutoReply)
class AutoReplyAdmin(admin.ModelAdmin):
    """What SMS and WhatsApp clients are told automatically: one row per kind
    (a migration seeds them), edited, never added twice or deleted. The
    model's clean() refuses a placeholder the kind does not have."""

    list_display = ["kind", "body"]
    fields = ["kind", "body"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return ["kind"] if obj is not None else []

    def has_add_permission(self, request: HttpRequest) -> bool:
        # Only a kind whose row is missing (the migration seeds every one).
        return AutoReply.objects.count() < len(AutoReplyKind.values)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(ChatBlock)
class ChatBlockAdmin(admin.ModelAdmin):
    """Clients (and addresses) blocked from requesting chats: from the console's
    Block action, or added here. Untick Active (or use the action) to lift one
    early; the beat sweep clears Active when a block expires."""

    list_display = [
        "client",
        "ip_address",
        "short_reason",
        "created_by",
        "created_at",
        "expires_at",
        "active",
    ]
    # Only the people who did block someone, not every user.
    list_filter = [
        "active",
        "expires_at",
        "created_at",
        ("created_by", admin.RelatedOnlyFieldListFilter),
    ]
    search_fields = [
        "client__email",
        "client__full_name",
        "ip_address",
        "reason",
        "created_by__email",
        "created_by__full_name",
    ]
    list_select_related = ["client", "created_by"]
    date_hierarchy = "created_at"
    autocomplete_fields = ["client"]
    fields = [
        "client",
        "ip_address",
        "reason",
        "expires_at",
        "active",
        "session",
        "created_by",
        "created_at",
        "lifted_at",
        "lifted_by",
    ]
    readonly_fields = ["session", "created_by", "created_at", "lifted_at", "lifted_by"]
    actions = ["lift_blocks"]

    @admin.display(description="reason")
    def short_reason(self, obj: ChatBlock) -> str:
        return obj.reason[:80]

    def save_model(self, request: HttpRequest, obj: ChatBlock, form: Any, change: bool) -> None:
        if not change:
            obj.created_by = request.user  # type: ignore[assignment]
            super().save_model(request, obj, form, change)
            return
        if "active" not in form.changed_data:
            super().save_model(request, obj, form, change)
            return
        # Lifted by hand (who and when), or put back in force: the other
        # fields are saved as edited, the Active box through its service.
        in_force = obj.active
        obj.active = not in_force
        super().save_model(request, obj, form, change)
        if in_force:
            block_restore(block_id=obj.pk)
        else:
            block_lift(block_id=obj.pk, by=request.user)  # type: ignore[arg-type]
        obj.refresh_from_db()

    @admin.action(description="Lift selected blocks")
    def lift_blocks(self, request: HttpRequest, queryset: QuerySet[ChatBlock]) -> None:
        lifted = sum(
            block_lift(block_id=pk, by=request.user)  # type: ignore[arg-type]
            for pk in queryset.values_list("pk", flat=True)
        )
        self.message_user(request, f"{lifted} block(s) lifted.")
