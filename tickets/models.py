from __future__ import annotations

import uuid
from pathlib import PurePath

from django.conf import settings
from django.core.files.storage import FileSystemStorage, Storage
from django.db import models
from django.utils.functional import LazyObject

from accounts.models import Company, Contact


class PrivateStorage(LazyObject):
    """Uploads live outside every public URL; only access-checked views serve them."""

    def _setup(self) -> None:
        self._wrapped = FileSystemStorage(location=settings.PRIVATE_MEDIA_ROOT, base_url=None)


private_storage = PrivateStorage()


def ticket_private_storage() -> Storage:
    # A callable, so migrations refer to this function instead of freezing
    # PRIVATE_MEDIA_ROOT of the machine that made them (which made every other
    # checkout see a model change).
    return private_storage


class TicketStatus(models.TextChoices):
    UNASSIGNED = "unassigned", "Unassigned"
    ASSIGNED = "assigned", "Assigned"
    CLOSED = "closed", "Closed"


class Ticket(models.Model):
    subject = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="tickets")
    contact = models.ForeignKey(
        Contact, on_delete=models.PROTECT, related_name="tickets", null=True, blank=True
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="assigned_tickets",
    )
    status = models.CharField(
        max_length=20, choices=TicketStatus.choices, default=TicketStatus.UNASSIGNED
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["status", "-created_at"]),
            models.Index(fields=["contact", "-created_at"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(status="assigned") | models.Q(assignee__isnull=False),
                name="ticket_assigned_has_assignee",
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.number} {self.subject}"

    @property
    def number(self) -> int:
        """The ticket number people quote is its primary key: unique, gap-tolerant,
        and assigned by the database without a race."""
        return self.pk


class TicketNote(models.Model):
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="notes")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    body = models.TextField()
    is_internal = models.BooleanField(
        default=False, help_text="Internal notes are visible to staff only, never to clients."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["ticket", "created_at"])]

    def __str__(self) -> str:
        return f"Note on #{self.ticket_id} by {self.author}"


def attachment_path(instance: TicketAttachment, filename: str) -> str:
    # The stored name never comes from the user: no path tricks, no collisions.
    suffix = PurePath(filename).suffix.lower()[:10]
    return f"tickets/{instance.ticket_id}/{uuid.uuid4().hex}{suffix}"


class TicketAttachment(models.Model):
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="attachments")
    note = models.ForeignKey(
        TicketNote, on_delete=models.SET_NULL, null=True, blank=True, related_name="attachments"
    )
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    file = models.FileField(
        upload_to=attachment_path, storage=ticket_private_storage, max_length=255
    )
    original_name = models.CharField(max_length=255)
    content_type = models.CharField(max_length=100, default="application/octet-stream")
    size = models.PositiveBigIntegerField()
    is_internal = models.BooleanField(default=False)
    # Set for files the system generates (chat transcripts) so a retried task
    # can find the one it already made instead of adding a second.
    source_key = models.CharField(max_length=100, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["ticket", "source_key"],
                condition=~models.Q(source_key=""),
                name="attachment_unique_source_key",
            )
        ]

    def __str__(self) -> str:
        return self.original_name


class TimeEntry(models.Model):
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="time_entries")
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="time_entries"
    )
    minutes = models.PositiveIntegerField()
    note = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # Chosen by the browser for one "Add time entry" (chat window) or one
    # rendering of the ticket page's time form: sent again (a dropped
    # connection, a double submit), it returns the stored entry instead of
    # logging the time twice. Unique per agent, so one agent's ids say
    # nothing about another's entries.
    client_id = models.UUIDField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name_plural = "time entries"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(minutes__gt=0), name="time_entry_minutes_positive"
            ),
            models.UniqueConstraint(
                fields=["agent", "client_id"], name="time_entry_unique_client_id"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.minutes} min on #{self.ticket_id} by {self.agent}"
