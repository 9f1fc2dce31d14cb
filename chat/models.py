from __future__ import annotations

import re
import uuid
from datetime import datetime, timedelta
from pathlib import PurePath
from typing import ClassVar

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.storage import Storage
from django.db import models
from django.utils import timezone

from accounts.models import Company, Contact
from chat.placeholders import (
    PLACEHOLDERS,
    numbered_placeholders,
    numbered_problem,
    unknown_placeholders,
)
from tickets.models import Ticket, private_storage


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


class Channel(models.TextChoices):
    """Where the client writes from: the portal (a socket), or a phone by SMS
    or WhatsApp (webhooks in, a provider's API out; chat.channels)."""

    WEB = "web", "Portal"
    SMS = "sms", "SMS"
    WHATSAPP = "whatsapp", "WhatsApp"


PHONE_CHANNELS = (Channel.SMS, Channel.WHATSAPP)


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
    channel = models.CharField(max_length=10, choices=Channel.choices, default=Channel.WEB)
    ticket = models.ForeignKey(
        Ticket, on_delete=models.PROTECT, null=True, blank=True, related_name="chat_sessions"
    )
    # Empty only for an SMS or WhatsApp chat from a number no contact has,
    # until an agent links it to one (chat.agent_tools.contacts).
    contact = models.ForeignKey(
        Contact, on_delete=models.PROTECT, null=True, blank=True, related_name="chat_sessions"
    )
    # The portal user that asked (or was asked) to chat; on SMS and WhatsApp
    # the user that stands for the phone number (PhoneClient).
    client = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="client_chat_sessions"
    )
    queue = models.ForeignKey(
        ChatQueue, on_delete=models.SET_NULL, null=True, blank=True, related_name="sessions"
    )
    subject = models.CharField(max_length=200, blank=True)
    # The address the client's socket came from when it asked (see
    # realtime/client_ip.py for which proxies are trusted); an IP block uses it.
    client_ip = models.GenericIPAddressField(null=True, blank=True)
    # SMS and WhatsApp: the client's number (E.164), where replies go.
    client_address = models.CharField(max_length=20, blank=True)
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
    # Not indexed, unlike the other deadlines: every message moves it, and an
    # index on it stops PostgreSQL from updating the row in place (a HOT
    # update), so each message would rewrite every index of this table. The
    # inactivity sweep finds active chats through the (status, requested_at)
    # index instead (docs/performance.md, "HOT updates of the session row").
    inactivity_due_at = models.DateTimeField(null=True, blank=True)
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
    # When the requeue sweep (chat.requeue) last queued the transcript tasks of
    # this ended chat again, because the transcript was not attached or not
    # emailed: once per REQUEUE_EVERY_SECONDS, not on every beat.
    transcript_requeued_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-requested_at", "-id"]
        indexes = [
            models.Index(fields=["status", "requested_at"]),
            models.Index(fields=["ticket", "-requested_at"]),
            models.Index(fields=["client", "status"]),
            # The requeue sweep's chats ended lately (chat.requeue). Not a partial
            # index on status: SQLite's planner then prefers (status, requested_at).
            models.Index(fields=["status", "ended_at"], name="session_status_ended_at"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(kind="post_ticket") | models.Q(ticket__isnull=False),
                name="post_ticket_chat_has_ticket",
            ),
            models.CheckConstraint(
                condition=models.Q(channel="web", contact__isnull=False)
                | (~models.Q(channel="web") & ~models.Q(client_address="")),
                name="phone_chat_has_number_portal_chat_has_contact",
            ),
        ]

    def __str__(self) -> str:
        return f"Chat {self.pk} ({self.get_kind_display()}, {self.get_status_display()})"

    @property
    def by_phone(self) -> bool:
        """SMS or WhatsApp: replies go out through a provider (chat.channels)."""
        return self.channel != Channel.WEB

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
    # True once the chat was handed to someone else (Transfer / Assign): that
    # agent comes back only if invited or handed the chat again, not by Join.
    transferred_away = models.BooleanField(default=False)
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
    # A file someone attached (chat.files): body is the file's name.
    FILE = "file", "File"


class DeliveryStatus(models.TextChoices):
    """How far a message sent to a phone got (chat.channels.delivery): only
    forward, except to failed."""

    QUEUED = "queued", "Queued"
    SENDING = "sending", "Sending"
    SENT = "sent", "Sent"
    DELIVERED = "delivered", "Delivered"
    READ = "read", "Read"
    FAILED = "failed", "Failed"


def sent_delivery_status(channel: str) -> str:
    """What a message sent into a chat on ``channel`` starts as: queued for
    the provider in an SMS or WhatsApp chat (only agents send there: the
    client writes through a webhook), nothing in a portal chat."""
    return "" if channel == Channel.WEB else DeliveryStatus.QUEUED.value


class Delivered(models.Model):
    """What a row sent to, or received from, an SMS/WhatsApp provider carries.
    ``provider_message_id`` is the provider's id of it (unique: a webhook the
    provider retries finds the row it stored the first time; a send task run
    again finds the message sent); the delivery fields are set only on what
    goes out."""

    provider_message_id = models.CharField(max_length=120, null=True, blank=True, unique=True)
    # Database defaults: chat.message_sql inserts messages without the ORM.
    delivery_status = models.CharField(
        max_length=10, choices=DeliveryStatus.choices, blank=True, default="", db_default=""
    )
    # The provider's words when delivery failed.
    delivery_error = models.TextField(blank=True, default="", db_default="")
    # When delivery_status last changed.
    delivery_at = models.DateTimeField(null=True, blank=True)
    # When a send task claimed the row (queued -> sending) before calling the
    # provider: a claim that never ended tells of a task that died mid-call.
    # Kept when the claim is handed back (the provider was down): a queued row
    # claimed lately has a task that retries it (chat.requeue leaves it alone).
    send_claimed_at = models.DateTimeField(null=True, blank=True)
    # When the requeue sweep (chat.requeue) last queued the send task of a row
    # still queued and not claimed lately (the broker refused or lost its
    # task): once per REQUEUE_EVERY_SECONDS, not on every beat.
    requeued_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        abstract = True


class Message(Delivered):
    # The unique (session, seq) and (session, client_id) indexes serve every
    # lookup by session; the one index of its own holds only the messages
    # queued for a provider (the requeue sweep's), so a portal chat's insert
    # does not pay for it.
    session = models.ForeignKey(
        ChatSession, on_delete=models.CASCADE, related_name="messages", db_index=False
    )
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
    # When the other side (client vs staff) first read it: the double tick and
    # its hover time. Set once, by chat.receipts; None for system lines.
    read_at = models.DateTimeField(null=True, blank=True)
    # The file of a ``file`` message (chat.files), written with it.
    attachment = models.OneToOneField(
        "ChatAttachment",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="message",
    )

    class Meta:
        ordering = ["session", "seq"]
        constraints = [
            models.UniqueConstraint(fields=["session", "seq"], name="message_unique_seq"),
            models.UniqueConstraint(
                fields=["session", "client_id"], name="message_unique_client_id"
            ),
        ]
        indexes = [
            models.Index(
                fields=["created_at"],
                condition=models.Q(delivery_status="queued"),
                name="message_queued_created",
            )
        ]

    def __str__(self) -> str:
        return f"{self.session_id}#{self.seq}"


class PhoneClient(models.Model):
    """A phone number that writes by SMS or WhatsApp, and the user that stands
    for it in its chats (a chat, its messages and a block name a user): role
    client, inactive and without a usable password, so it can never log in.
    One per number, on whichever channel it writes; its name is the matched
    contact's, the WhatsApp profile name, or the number (chat.inbound)."""

    number = models.CharField(max_length=20, unique=True, help_text="E.164")
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="phone_client"
    )
    # The name WhatsApp last gave for this number, if any.
    profile_name = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField()
    # When the number's last WhatsApp message reached us: WhatsApp's 24-hour
    # window for free text runs from it (chat.whatsapp_window).
    whatsapp_received_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return self.number


class AutoReplyKind(models.TextChoices):
    OUTSIDE_HOURS = "outside_hours", "Outside office hours"
    NO_ANSWER = "no_answer", "Nobody answered in time"
    NOT_AVAILABLE = "not_available", "A number that may not chat"


class AutoReply(models.Model):
    """What an SMS or WhatsApp client is told automatically, one row per kind
    (seeded by a migration, edited in admin; chat.auto_replies sends them):
    once per request made outside office hours (``{opens_at}``: when the
    helpdesk opens next), once per request nobody answered in time, and at
    most once a day to a number that may not chat."""

    # The placeholders each kind may use, and its text until an admin edits it
    # (the migration that seeds the rows has the same words).
    PLACEHOLDERS: ClassVar[dict[str, tuple[str, ...]]] = {
        AutoReplyKind.OUTSIDE_HOURS: ("opens_at",),
        AutoReplyKind.NO_ANSWER: (),
        AutoReplyKind.NOT_AVAILABLE: (),
    }
    DEFAULTS: ClassVar[dict[str, str]] = {
        AutoReplyKind.OUTSIDE_HOURS: (
            "Thank you for your message. We are closed right now and open again "
            "{opens_at}; we will answer you here then."
        ),
        AutoReplyKind.NO_ANSWER: "Everyone is busy; we will answer here.",
        AutoReplyKind.NOT_AVAILABLE: (
            "Thank you for your message. Chat is not available to you here; "
            "please contact the helpdesk another way and we will get back to you."
        ),
    }

    kind = models.CharField(max_length=20, choices=AutoReplyKind.choices, unique=True)
    body = models.TextField(
        max_length=1000,
        help_text="Sent as it is to the client's phone. Outside office hours, {opens_at} "
        "becomes when the helpdesk opens next, e.g. “Monday 09:00 (Europe/London)”.",
    )

    class Meta:
        verbose_name = "auto-reply"
        verbose_name_plural = "auto-replies"
        ordering = ["kind"]

    def __str__(self) -> str:
        return self.get_kind_display()

    def clean(self) -> None:
        allowed = self.PLACEHOLDERS.get(self.kind, ())
        unknown = unknown_placeholders(self.body or "", allowed)
        if unknown:
            usable = ", ".join("{" + name + "}" for name in allowed) or "none"
            raise ValidationError(
                {"body": f"Unknown placeholder {', '.join(unknown)}. This reply may use: {usable}."}
            )


class ChannelNotice(Delivered):
    """A message to a phone outside any chat: the one polite answer to a
    number that may not chat (a contact denied chat, a blocked client). Sent
    once by chat.channels.delivery, like an agent's message."""

    phone_client = models.ForeignKey(PhoneClient, on_delete=models.CASCADE, related_name="notices")
    channel = models.CharField(max_length=10, choices=Channel.choices)
    body = models.TextField()
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(fields=["phone_client", "created_at"]),
            models.Index(
                fields=["created_at"],
                condition=models.Q(delivery_status="queued"),
                name="notice_queued_created",
            ),
        ]

    def __str__(self) -> str:
        return f"Notice to {self.phone_client} ({self.get_channel_display()})"


class PendingMedia(models.Model):
    """A file an SMS or WhatsApp client sent that is still to be fetched
    (chat.inbound.media): stored with the message that brought it and
    deleted once the file, or the line saying it could not be kept, is in the
    chat. One whose task the broker refused is queued again by the requeue
    sweep (chat.requeue) from what is stored here: the task's arguments; one
    still here after the sweep's window is given up (the line, then deleted)."""

    session = models.ForeignKey(ChatSession, on_delete=models.CASCADE, related_name="+")
    channel = models.CharField(max_length=10, choices=Channel.choices)
    # The file's key (chat.inbound.media.media_key): the provider_message_id
    # its message gets, so the same length.
    key = models.CharField(max_length=120, unique=True)
    # The provider's handle and words, as they came: a URL, a media id, a name.
    ref = models.TextField()
    content_type = models.TextField(blank=True)
    filename = models.TextField(blank=True)
    created_at = models.DateTimeField()
    # When the requeue sweep last queued its task: once per REQUEUE_EVERY_SECONDS.
    requeued_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "pending media"
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["created_at"], name="pending_media_created")]

    def __str__(self) -> str:
        return self.key


class ReachChannel(models.TextChoices):
    """How Message customer reaches a client: a phone chat, or an email with
    a link to the portal (the ticket's page, or the home for a chat without a
    ticket), where the client answers (the chat's channel is then ``web``)."""

    WHATSAPP = "whatsapp", "WhatsApp"
    SMS = "sms", "SMS"
    EMAIL = "email", "Email"


class ReachOut(models.Model):
    """A chat an agent started with a client who had left (Message customer,
    chat.reach_out): by whom, from which closed chat or ticket, on which
    channel. ``request_key`` is the browser's id for one Message customer:
    sent again after a dropped connection it finds this chat instead of
    starting another. An email reach-out emails the agents' messages to
    the client until it joins the chat in the portal: each message once
    (``emailed_seq``, claimed by the task that sends them), the ones written
    after the first in one email a little later (``email_queued_at``: when
    the beat sweep last queued that task, chat.reach_out.emails)."""

    session = models.OneToOneField(
        ChatSession, on_delete=models.CASCADE, primary_key=True, related_name="reach_out"
    )
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    channel = models.CharField(max_length=10, choices=ReachChannel.choices)
    from_session = models.ForeignKey(
        ChatSession, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    from_ticket = models.ForeignKey(
        Ticket, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    request_key = models.UUIDField(editable=False)
    # Email: the portal page where the client answers (the ticket's page, or
    # the portal's home for a chat without a ticket).
    portal_url = models.CharField(max_length=500, blank=True)
    # Email: the seq of the last message an email covered (the claim the
    # sending task moves: chat.reach_email), and when that email went out, kept
    # as the record of the last email to the client (nothing decides by it).
    emailed_seq = models.PositiveIntegerField(default=0)
    emailed_at = models.DateTimeField(null=True, blank=True)
    # Email: when the beat sweep last queued the task (chat.reach_out.emails).
    email_queued_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["by", "request_key"], name="reach_out_unique_request")
        ]

    def __str__(self) -> str:
        return f"Chat {self.session_id}: reached out by {self.get_channel_display()}"


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


def _default_block_expiry() -> datetime:
    return timezone.now() + timedelta(seconds=settings.CHAT_BLOCK_SECONDS)


class ChatBlock(models.Model):
    """A client (and optionally an IP address) that may not request chats
    until ``expires_at``. A block stops counting the moment it expires (the
    check compares with now); the beat sweep then clears ``active`` so the
    admin list shows it as over. ``lifted_at`` is set only when someone lifts
    it by hand before it expires."""

    client = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="chat_blocks",
        limit_choices_to={"role": "client"},
    )
    ip_address = models.GenericIPAddressField(
        null=True,
        blank=True,
        verbose_name="IP address",
        help_text="Also refuse requests from this address (shared by offices and mobile "
        "carriers: it may block other people too).",
    )
    reason = models.TextField()
    session = models.ForeignKey(
        ChatSession,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="blocks",
        help_text="The chat the client was blocked from.",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(default=_default_block_expiry)
    active = models.BooleanField(default=True)
    lifted_at = models.DateTimeField(null=True, blank=True)
    lifted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    # The frame's client_id, chosen by the browser for one Block (named
    # otherwise here: client_id is the client foreign key's column). Sent again
    # after a dropped connection, it returns this block instead of adding one.
    request_key = models.UUIDField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            # The request check (by client, by address) and the expiry sweep.
            models.Index(fields=["client", "active", "expires_at"]),
            models.Index(fields=["ip_address", "active", "expires_at"]),
            models.Index(fields=["active", "expires_at"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(lifted_at__isnull=True) | models.Q(active=False),
                name="lifted_block_is_inactive",
            ),
            models.UniqueConstraint(
                fields=["session", "created_by", "request_key"], name="block_unique_request_key"
            ),
        ]

    def __str__(self) -> str:
        target = f"{self.client}" + (f" / {self.ip_address}" if self.ip_address else "")
        return f"Block of {target}"

    def clean(self) -> None:
        if self.active and self.expires_at and self.expires_at <= timezone.now():
            raise ValidationError({"expires_at": "An active block must end in the future."})


class ChatInvitation(models.Model):
    """An agent asked into a live chat by one of its agents (or a supervisor).
    While it is open (``accepted_at`` empty) the invitee may join the chat
    even though it was already answered; nobody else may."""

    session = models.ForeignKey(ChatSession, on_delete=models.CASCADE, related_name="invitations")
    invitee = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="chat_invitations"
    )
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            # Inviting again while one is open re-sends it; after a join (and a
            # later leave) a new invitation is a new row.
            models.UniqueConstraint(
                fields=["session", "invitee"],
                condition=models.Q(accepted_at__isnull=True),
                name="one_open_invitation_per_agent",
            )
        ]

    def __str__(self) -> str:
        return f"{self.invitee} invited to chat {self.session_id}"


class TemplateKind(models.TextChoices):
    GREETING = "greeting", "Greeting"
    FAREWELL = "farewell", "Farewell"


class ChatTemplate(models.Model):
    """A greeting or farewell an agent inserts into the message box. Global
    when ``owner`` is empty, else one agent's own. ``{client_first_name}`` and
    ``{agent_name}`` are filled in for the chat (see chat/placeholders.py)."""

    kind = models.CharField(max_length=10, choices=TemplateKind.choices)
    title = models.CharField(max_length=100)
    body = models.TextField(
        max_length=2000,
        help_text="Placeholders: {client_first_name}, {agent_name}.",
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="chat_templates",
        limit_choices_to={"role__in": ["agent", "supervisor", "administrator"]},
        help_text="Leave empty for a template every agent sees.",
    )
    ordering = models.PositiveSmallIntegerField(
        default=0, help_text="Lower numbers come first in the agent's menu."
    )

    class Meta:
        ordering = ["kind", "ordering", "title", "id"]
        indexes = [models.Index(fields=["owner", "kind"])]

    def __str__(self) -> str:
        scope = self.owner.display_name if self.owner_id and self.owner else "global"
        return f"{self.get_kind_display()}: {self.title} ({scope})"

    def clean(self) -> None:
        unknown = unknown_placeholders(self.body or "")
        if unknown:
            allowed = ", ".join("{" + name + "}" for name in PLACEHOLDERS)
            raise ValidationError(
                {
                    "body": f"Unknown placeholder {', '.join(unknown)}. "
                    f"Use only {allowed} (the braces included)."
                }
            )


# Meta's rules for a template's name and language code.
WHATSAPP_TEMPLATE_NAME = re.compile(r"^[a-z0-9_]{1,512}$")
WHATSAPP_LANGUAGE = re.compile(r"^[a-z]{2,3}(_[A-Z]{2})?$")


class WhatsAppTemplate(models.Model):
    """A message template that Meta approved for the business number: all
    that may go to a WhatsApp client outside its 24-hour window
    (chat.whatsapp_window). It is made and approved in Meta's WhatsApp
    Manager; here it is copied (name, language, body) so that agents can
    choose it and fill its ``{{1}}``, ``{{2}}``... Only approved ones are
    offered."""

    name = models.CharField(
        max_length=512,
        help_text="The template's name in WhatsApp Manager: lower-case letters, digits "
        "and underscores, e.g. ticket_follow_up.",
    )
    language = models.CharField(
        max_length=15,
        default="en_US",
        help_text="Its language code in WhatsApp Manager: en_US, de...",
    )
    body = models.TextField(
        max_length=1024,
        help_text="The body text as approved, with {{1}}, {{2}}... where the agent fills in "
        "values. The chat shows the filled text.",
    )
    approved = models.BooleanField(
        default=False, help_text="Meta approved it: only approved templates are offered to agents."
    )

    class Meta:
        verbose_name = "WhatsApp template"
        ordering = ["name", "language"]
        constraints = [
            models.UniqueConstraint(fields=["name", "language"], name="whatsapp_template_unique")
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.language})"

    @property
    def placeholder_count(self) -> int:
        return len(numbered_placeholders(self.body))

    def clean(self) -> None:
        errors: dict[str, str] = {}
        if self.name and not WHATSAPP_TEMPLATE_NAME.match(self.name):
            errors["name"] = "Use the name as WhatsApp Manager has it: a-z, 0-9 and _ only."
        if self.language and not WHATSAPP_LANGUAGE.match(self.language):
            errors["language"] = "A language code such as en, en_US or pt_BR."
        problem = numbered_problem(self.body or "")
        if problem:
            errors["body"] = problem
        if errors:
            raise ValidationError(errors)


class WhatsAppTemplateMessage(models.Model):
    """A chat message that went out as a WhatsApp template: what Meta is
    sent (chat.channels.delivery) beside the filled text the chat shows.
    Name and language are copied, so that an edited or deleted template
    does not change what was sent."""

    message = models.OneToOneField(
        "Message", on_delete=models.CASCADE, primary_key=True, related_name="whatsapp_template"
    )
    template = models.ForeignKey(
        WhatsAppTemplate, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    name = models.CharField(max_length=512)
    language = models.CharField(max_length=15)
    # The values of {{1}}, {{2}}..., in order.
    parameters = models.JSONField(default=list)

    def __str__(self) -> str:
        return f"{self.name} in message {self.message_id}"


class ChatTransfer(models.Model):
    """A live chat handed to another agent (Transfer) or placed with one by a
    supervisor (Assign): who moved it, from whom, to whom, and why. The reason
    is for staff only; the client sees a system line without it."""

    session = models.ForeignKey(ChatSession, on_delete=models.CASCADE, related_name="transfers")
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    from_agent = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="Empty when a supervisor assigned a waiting request.",
    )
    to_agent = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    to_queue = models.ForeignKey(
        ChatQueue,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="Set when the chat was sent to a queue, which picked the agent.",
    )
    reason = models.CharField(max_length=500)
    at = models.DateTimeField()

    class Meta:
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["session", "at"])]

    def __str__(self) -> str:
        return f"Chat {self.session_id} transferred at {self.at:%Y-%m-%d %H:%M}"


class ChatComment(models.Model):
    """A note about a chat for staff only: a supervisor watching it, or an agent
    in it, writing to the agents. Never part of the conversation: it is not a
    Message (no seq, no transcript, no replay to the client) and is delivered
    only to staff sockets (chat.supervision)."""

    session = models.ForeignKey(ChatSession, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    body = models.TextField()
    # Staff named with @first-name or @email-local-part in the body.
    mentions = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="chat_comment_mentions"
    )
    created_at = models.DateTimeField()
    # Chosen by the browser for one comment: sent again after a dropped
    # connection, it returns the stored comment instead of posting it twice.
    client_id = models.UUIDField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["session", "created_at"])]
        constraints = [
            models.UniqueConstraint(
                fields=["session", "author", "client_id"], name="comment_unique_client_id"
            )
        ]

    def __str__(self) -> str:
        return f"Comment on chat {self.session_id} by {self.author}"


def chat_attachment_path(instance: ChatAttachment, filename: str) -> str:
    # As tickets.models.attachment_path: the stored name never comes from the
    # user (no path tricks, no collisions), in the same private storage.
    suffix = PurePath(filename).suffix.lower()[:10]
    return f"chats/{instance.session_id}/{uuid.uuid4().hex}{suffix}"


def chat_private_storage() -> Storage:
    # A callable, so migrations refer to this function instead of freezing
    # the storage's directory of the machine that made them.
    return private_storage


class ChatAttachment(models.Model):
    """A file attached in a live chat, stored privately (tickets.models
    ``private_storage``) and served only by chat.files.views after an access
    check. ``is_image`` is set only when the bytes are a PNG, JPEG, GIF or
    WebP image (sniffed, not taken from the name): only those get an inline
    preview; everything else is a download."""

    session = models.ForeignKey(ChatSession, on_delete=models.CASCADE, related_name="attachments")
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    file = models.FileField(
        upload_to=chat_attachment_path, storage=chat_private_storage, max_length=255
    )
    original_name = models.CharField(max_length=255)
    content_type = models.CharField(max_length=100, default="application/octet-stream")
    size = models.PositiveBigIntegerField()
    is_image = models.BooleanField(default=False)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return self.original_name


class VisitorInfo(models.Model):
    """Where the client of a chat came from, recorded when it asked to chat
    (or accepted a pushed chat): staff only, never in a payload a client gets
    (chat.visitors). The IP address is ``ChatSession.client_ip``. Everything
    here came from the browser (headers, a cookie), so it is shown as text."""

    session = models.OneToOneField(
        ChatSession, on_delete=models.CASCADE, primary_key=True, related_name="visitor_info"
    )
    user_agent = models.CharField(max_length=500, blank=True)
    # The first portal page of this browser session (Django session).
    landing_page = models.CharField(max_length=500, blank=True)
    landing_at = models.DateTimeField(null=True, blank=True)
    # From the long-lived sb_first_visit cookie: this browser's first portal page.
    first_visit_page = models.CharField(max_length=500, blank=True)
    first_visit_at = models.DateTimeField(null=True, blank=True)
    recorded_at = models.DateTimeField()

    class Meta:
        verbose_name = "visitor info"
        verbose_name_plural = "visitor info"

    def __str__(self) -> str:
        return f"Visitor of chat {self.session_id}"


class PageView(models.Model):
    """A portal page the client opened while its chat was open: a system line
    for staff. Not a Message (no seq, no replay, transcript or email to the
    client); delivered to staff sockets only (chat.visitors)."""

    session = models.ForeignKey(ChatSession, on_delete=models.CASCADE, related_name="page_views")
    path = models.CharField(max_length=500)
    title = models.CharField(max_length=200, blank=True)
    viewed_at = models.DateTimeField()

    class Meta:
        ordering = ["viewed_at", "id"]
        indexes = [models.Index(fields=["session", "viewed_at"])]

    def __str__(self) -> str:
        return f"{self.path} in chat {self.session_id}"
