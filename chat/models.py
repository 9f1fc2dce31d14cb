from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models

from accounts.models import Company, Contact
from tickets.models import Ticket


class PermissionValue(models.TextChoices):
    INHERIT = "inherit", "Inherit"
    ALLOW = "allow", "Allow"
    DENY = "deny", "Deny"


class ChatSettings(models.Model):
    """The global layer of the chat permission: on or off for every client."""

    chat_enabled = models.BooleanField(
        default=True, help_text="Clients may chat unless a company or contact override says no."
    )

    class Meta:
        verbose_name = "chat settings"
        verbose_name_plural = "chat settings"

    def __str__(self) -> str:
        return "Chat is " + ("on" if self.chat_enabled else "off") + " for all clients"

    @classmethod
    def load(cls) -> ChatSettings:
        settings_row, _ = cls.objects.get_or_create(pk=1)
        return settings_row


class CompanyChatPermission(models.Model):
    company = models.OneToOneField(
        Company, on_delete=models.CASCADE, related_name="chat_permission"
    )
    value = models.CharField(
        max_length=10, choices=PermissionValue.choices, default=PermissionValue.INHERIT
    )

    def __str__(self) -> str:
        return f"{self.company}: {self.get_value_display()}"


class ContactChatPermission(models.Model):
    contact = models.OneToOneField(
        Contact, on_delete=models.CASCADE, related_name="chat_permission"
    )
    value = models.CharField(
        max_length=10, choices=PermissionValue.choices, default=PermissionValue.INHERIT
    )

    def __str__(self) -> str:
        return f"{self.contact}: {self.get_value_display()}"


class ChatQueue(models.Model):
    """Who is paged for a request: the members of the queue its company is
    routed to, or of the default queue."""

    name = models.CharField(max_length=100, unique=True)
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        related_name="chat_queues",
        blank=True,
        limit_choices_to={"role__in": ["agent", "supervisor", "administrator"]},
    )
    companies = models.ManyToManyField(
        Company,
        related_name="chat_queues",
        blank=True,
        help_text="Requests from these companies go to this queue.",
    )
    is_default = models.BooleanField(default=False)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_default"], condition=models.Q(is_default=True), name="one_default_queue"
            )
        ]

    def __str__(self) -> str:
        return self.name


class ChatKind(models.TextChoices):
    POST_TICKET = "post_ticket", "Post-ticket"
    PRE_TICKET = "pre_ticket", "Pre-ticket"
    PUSH = "push", "Push"


class SessionStatus(models.TextChoices):
    INVITED = "invited", "Invited"
    WAITING = "waiting", "Waiting"
    ACTIVE = "active", "Active"
    ENDED = "ended", "Ended"
    DECLINED = "declined", "Declined"
    ABANDONED = "abandoned", "Abandoned"
    CALLBACK = "callback", "Callback"
    CLOSED = "closed", "Closed"


class Outcome(models.TextChoices):
    """How a follow-up card (abandoned request, callback) was closed."""

    RESOLVED_PHONE = "resolved_phone", "Resolved by phone"
    RESOLVED_EMAIL = "resolved_email", "Resolved by email"
    TICKET_CREATED = "ticket_created", "Ticket created"
    NO_RESPONSE = "no_response", "No response"


OPEN_STATUSES = (SessionStatus.INVITED, SessionStatus.WAITING, SessionStatus.ACTIVE)


class ChatSession(models.Model):
    kind = models.CharField(max_length=20, choices=ChatKind.choices)
    status = models.CharField(max_length=20, choices=SessionStatus.choices)
    ticket = models.ForeignKey(
        Ticket, on_delete=models.PROTECT, null=True, blank=True, related_name="chat_sessions"
    )
    contact = models.ForeignKey(Contact, on_delete=models.PROTECT, related_name="chat_sessions")
    # The portal user that asked (or was asked) to chat.
    client = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="client_chat_sessions"
    )
    queue = models.ForeignKey(
        ChatQueue, on_delete=models.SET_NULL, null=True, blank=True, related_name="sessions"
    )
    subject = models.CharField(max_length=200, blank=True)
    requested_at = models.DateTimeField()
    answered_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    last_activity_at = models.DateTimeField()
    # The highest seq handed out; the next message takes last_seq + 1 under a
    # row lock, so seqs per session are gap-free and strictly increasing.
    last_seq = models.PositiveIntegerField(default=0)
    ended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    end_reason = models.TextField(blank=True)

    # Timers. Each *_due_at is the deadline a beat sweep looks for (indexed);
    # the matching *_at records when the sweep acted. See chat/timers.py.
    warning_due_at = models.DateTimeField(null=True, blank=True, db_index=True)
    warned_at = models.DateTimeField(null=True, blank=True)
    no_answer_due_at = models.DateTimeField(null=True, blank=True, db_index=True)
    no_answer_at = models.DateTimeField(null=True, blank=True)
    inactivity_due_at = models.DateTimeField(null=True, blank=True, db_index=True)
    inactive_at = models.DateTimeField(null=True, blank=True)
    # Marks the rows one sweep run changed, so it broadcasts exactly those;
    # indexed because the sweep reads them back by token.
    sweep_token = models.UUIDField(null=True, blank=True, db_index=True)

    # Follow-up
    outside_hours = models.BooleanField(
        default=False, help_text="Requested while the helpdesk was closed."
    )
    callback_phone = models.CharField(max_length=40, blank=True)
    callback_message = models.TextField(blank=True)
    outcome = models.CharField(max_length=20, choices=Outcome.choices, blank=True)
    outcome_note = models.TextField(blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    transcript_emailed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-requested_at", "-id"]
        indexes = [
            models.Index(fields=["status", "requested_at"]),
            models.Index(fields=["ticket", "-requested_at"]),
            models.Index(fields=["client", "status"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(kind="post_ticket") | models.Q(ticket__isnull=False),
                name="post_ticket_chat_has_ticket",
            ),
        ]

    def __str__(self) -> str:
        return f"Chat {self.pk} ({self.get_kind_display()}, {self.get_status_display()})"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def title(self) -> str:
        if self.ticket_id and self.ticket:
            return f"#{self.ticket_id} {self.ticket.subject}"
        return self.subject or f"Chat {self.pk}"


class ParticipantRole(models.TextChoices):
    CLIENT = "client", "Client"
    AGENT = "agent", "Agent"


class Participant(models.Model):
    session = models.ForeignKey(ChatSession, on_delete=models.CASCADE, related_name="participants")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="chat_participations"
    )
    role = models.CharField(max_length=10, choices=ParticipantRole.choices)
    joined_at = models.DateTimeField()
    left_at = models.DateTimeField(null=True, blank=True)
    last_read_seq = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["joined_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["session", "user"], name="one_participant_per_user")
        ]
        indexes = [models.Index(fields=["user", "left_at"])]

    def __str__(self) -> str:
        return f"{self.user} in chat {self.session_id}"

    @property
    def in_room(self) -> bool:
        return self.left_at is None


class MessageKind(models.TextChoices):
    TEXT = "text", "Text"
    SYSTEM = "system", "System"


class Message(models.Model):
    session = models.ForeignKey(ChatSession, on_delete=models.CASCADE, related_name="messages")
    seq = models.PositiveIntegerField()
    # Chosen by the sender; a resend with the same id returns the stored row.
    client_id = models.UUIDField(default=uuid.uuid4)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    kind = models.CharField(max_length=10, choices=MessageKind.choices, default=MessageKind.TEXT)
    body = models.TextField()
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["session", "seq"]
        constraints = [
            models.UniqueConstraint(fields=["session", "seq"], name="message_unique_seq"),
            models.UniqueConstraint(
                fields=["session", "client_id"], name="message_unique_client_id"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.session_id}#{self.seq}"


class SessionEvent(models.Model):
    """One row per status change: the audit trail and the source of SLA numbers."""

    session = models.ForeignKey(ChatSession, on_delete=models.CASCADE, related_name="events")
    old_status = models.CharField(max_length=20, choices=SessionStatus.choices, blank=True)
    new_status = models.CharField(max_length=20, choices=SessionStatus.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    reason = models.CharField(max_length=500, blank=True)
    at = models.DateTimeField()

    class Meta:
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["session", "at"])]

    def __str__(self) -> str:
        return f"{self.session_id}: {self.old_status or '-'} -> {self.new_status}"
