"""Every write to tickets, notes, attachments and time entries.

One transaction per function; the current state is checked and a
``TicketError`` with a stable code is raised when a move is not allowed.
Writes that staff consoles show (a new ticket, its status and assignee, its
time) are announced in their transaction (``tickets.events``), heard by the
consoles once it commits.
"""

from __future__ import annotations

import mimetypes
import uuid
from pathlib import PurePath

from django.conf import settings
from django.core.files.base import ContentFile, File
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import Company, Contact, User
from tickets import events
from tickets.errors import AttachmentRefused, TicketError
from tickets.models import (
    Ticket,
    TicketAttachment,
    TicketNote,
    TicketStatus,
    TimeEntry,
    private_storage,
)


def _require_staff(user: User) -> None:
    if not user.is_agent:
        raise TicketError("Only staff may do this.", code="forbidden")


def ticket_create(
    *,
    subject: str,
    description: str = "",
    company: Company,
    contact: Contact | None,
    created_by: User | None = None,
    files: list[File] | None = None,
) -> Ticket:
    """Open a ticket, optionally with files attached to the ticket itself.
    Every file is checked before anything is written: a refused file leaves
    no ticket behind."""
    subject = subject.strip()
    if not subject:
        raise TicketError("A subject is required.", code="subject_required")
    if len(subject) > 200:
        raise TicketError("The subject may be at most 200 characters.", code="subject_too_long")
    if contact is not None and contact.company_id != company.pk:
        raise TicketError("The contact does not belong to that company.", code="contact_company")
    if created_by is not None and created_by.is_client:
        own = contact is not None and contact.user_id == created_by.pk
        if not own:
            raise TicketError("Clients can only open tickets for themselves.", code="forbidden")
    files = files or []
    content_types = [validate_upload(name=f.name or "", size=f.size or 0) for f in files]
    written: list[str] = []
    try:
        with transaction.atomic():
            ticket = Ticket.objects.create(
                subject=subject, description=description.strip(), company=company, contact=contact
            )
            for upload, content_type in zip(files, content_types, strict=True):
                attachment = _store_attachment(
                    ticket=ticket,
                    note=None,
                    uploaded_by=created_by,
                    upload=upload,
                    content_type=content_type,
                    is_internal=False,
                )
                written.append(attachment.file.name)
            events.announce(ticket.pk, "created")
            return ticket
    except BaseException:
        _delete_files(written)
        raise


def ticket_assign(*, ticket: Ticket, assignee: User, actor: User) -> Ticket:
    _require_staff(actor)
    if not assignee.is_agent or not assignee.is_active:
        raise TicketError("Tickets can only be assigned to active staff.", code="bad_assignee")
    with transaction.atomic():
        locked = Ticket.objects.select_for_update().get(pk=ticket.pk)
        if locked.status == TicketStatus.CLOSED:
            raise TicketError("Reopen the ticket before assigning it.", code="ticket_closed")
        previous = locked.status
        locked.assignee = assignee
        locked.status = TicketStatus.ASSIGNED
        locked.save(update_fields=["assignee", "status", "updated_at"])
        events.announce(locked.pk, "assigned", previous_status=previous)
        return locked


def ticket_take_if_unassigned(*, ticket_id: int, agent: User) -> bool:
    """``agent`` becomes the assignee of an open ticket nobody has (an agent
    answering a chat on it takes it); a ticket someone has, or a closed one,
    is left as it is. True if the agent took it."""
    _require_staff(agent)
    with transaction.atomic():
        locked = Ticket.objects.select_for_update().get(pk=ticket_id)
        if locked.assignee_id is not None or locked.status == TicketStatus.CLOSED:
            return False
        ticket_assign(ticket=locked, assignee=agent, actor=agent)
        return True


def ticket_close(*, ticket: Ticket, actor: User) -> Ticket:
    _require_staff(actor)
    with transaction.atomic():
        locked = Ticket.objects.select_for_update().get(pk=ticket.pk)
        if locked.status == TicketStatus.CLOSED:
            raise TicketError("The ticket is already closed.", code="ticket_closed")
        previous = locked.status
        locked.status = TicketStatus.CLOSED
        locked.closed_at = timezone.now()
        locked.save(update_fields=["status", "closed_at", "updated_at"])
        events.announce(locked.pk, "closed", previous_status=previous)
        return locked


def ticket_reopen(*, ticket: Ticket, actor: User) -> Ticket:
    _require_staff(actor)
    with transaction.atomic():
        locked = Ticket.objects.select_for_update().get(pk=ticket.pk)
        if locked.status != TicketStatus.CLOSED:
            raise TicketError("Only a closed ticket can be reopened.", code="ticket_not_closed")
        locked.status = TicketStatus.ASSIGNED if locked.assignee_id else TicketStatus.UNASSIGNED
        locked.closed_at = None
        locked.save(update_fields=["status", "closed_at", "updated_at"])
        events.announce(locked.pk, "reopened", previous_status=TicketStatus.CLOSED)
        return locked


def ticket_status_set(*, ticket: Ticket, status: str, actor: User) -> Ticket:
    """Set the status an administrator chose (Django admin's ticket form), with
    ``closed_at`` following it as ticket_close and ticket_reopen keep it: set
    when the ticket closes, cleared when it opens again."""
    _require_staff(actor)
    if status not in TicketStatus.values:
        raise TicketError(f"Unknown ticket status {status!r}.", code="invalid_status")
    with transaction.atomic():
        locked = Ticket.objects.select_for_update().get(pk=ticket.pk)
        previous = locked.status
        if status == TicketStatus.CLOSED:
            locked.closed_at = locked.closed_at or timezone.now()
        else:
            locked.closed_at = None
        locked.status = status
        locked.save(update_fields=["status", "closed_at", "updated_at"])
        events.announce(locked.pk, "status", previous_status=previous)
        return locked


def validate_upload(*, name: str, size: int) -> str:
    """Check an upload's size and type; returns its content type."""
    if size > settings.ATTACHMENT_MAX_BYTES:
        limit_mb = settings.ATTACHMENT_MAX_BYTES / (1024 * 1024)
        raise AttachmentRefused(f"The file is larger than the {limit_mb:g} MB limit.")
    if size == 0:
        raise AttachmentRefused("The file is empty.")
    extension = PurePath(name).suffix.lower().lstrip(".")
    allowed = [e.lower() for e in settings.ATTACHMENT_ALLOWED_EXTENSIONS]
    if extension not in allowed:
        raise AttachmentRefused(
            f"Files of type .{extension or '(none)'} are not accepted. "
            f"Allowed: {', '.join('.' + e for e in allowed)}."
        )
    return mimetypes.guess_type(name)[0] or "application/octet-stream"


def note_add(
    *,
    ticket: Ticket,
    author: User,
    body: str,
    is_internal: bool = False,
    files: list[File] | None = None,
) -> TicketNote:
    """Add a note, optionally with files. Clients can only add public notes.
    Every file is checked before anything is written, so a refused file leaves
    neither the note nor the other files behind."""
    body = body.strip()
    files = files or []
    if not body and not files:
        raise TicketError("Write a note or attach a file.", code="note_empty")
    if author.is_client:
        if is_internal:
            raise TicketError("Clients cannot write internal notes.", code="forbidden")
        # Views already 404 on other people's tickets; this is the last line.
        if not Contact.objects.filter(pk=ticket.contact_id, user=author).exists():
            raise TicketError("This is not your ticket.", code="forbidden")
    content_types = [validate_upload(name=f.name or "", size=f.size or 0) for f in files]
    written: list[str] = []
    try:
        with transaction.atomic():
            note = TicketNote.objects.create(
                ticket=ticket, author=author, body=body, is_internal=is_internal
            )
            for upload, content_type in zip(files, content_types, strict=True):
                attachment = _store_attachment(
                    ticket=ticket,
                    note=note,
                    uploaded_by=author,
                    upload=upload,
                    content_type=content_type,
                    is_internal=is_internal,
                )
                written.append(attachment.file.name)
            Ticket.objects.filter(pk=ticket.pk).update(updated_at=timezone.now())
            return note
    except BaseException:
        _delete_files(written)
        raise


def _delete_files(names: list[str]) -> None:
    """Files are written before their rows commit; remove them if it failed."""
    for name in names:
        private_storage.delete(name)


def _store_attachment(
    *,
    ticket: Ticket,
    note: TicketNote | None,
    uploaded_by: User | None,
    upload: File,
    content_type: str,
    is_internal: bool,
    source_key: str = "",
) -> TicketAttachment:
    original_name = PurePath(upload.name or "file").name[:255]
    attachment = TicketAttachment(
        ticket=ticket,
        note=note,
        uploaded_by=uploaded_by,
        original_name=original_name,
        content_type=content_type,
        size=upload.size or 0,
        is_internal=is_internal,
        source_key=source_key,
    )
    attachment.file.save(original_name, upload, save=False)
    try:
        attachment.save()
    except BaseException:
        _delete_files([attachment.file.name])
        raise
    return attachment


def system_attachment_add(
    *,
    ticket: Ticket,
    name: str,
    content: bytes,
    content_type: str,
    source_key: str,
    note: str = "",
    note_author: User | None = None,
) -> tuple[TicketAttachment, bool]:
    """Attach a file the system generated (e.g. a chat transcript), with a
    public ``note`` that carries it when one is given.

    Idempotent on ``source_key`` (unique per ticket): a second call returns the
    existing file and ``False`` and writes nothing. Returns ``(attachment,
    created)``.
    """
    with transaction.atomic():
        existing = TicketAttachment.objects.filter(ticket=ticket, source_key=source_key).first()
        if existing:
            return existing, False
        attachment = _store_attachment(
            ticket=ticket,
            note=None,
            uploaded_by=None,
            upload=ContentFile(content, name=name),
            content_type=content_type,
            is_internal=False,
            source_key=source_key,
        )
        if note:
            attachment.note = TicketNote.objects.create(
                ticket=ticket, author=note_author, body=note, is_internal=False
            )
            attachment.save(update_fields=["note"])
            Ticket.objects.filter(pk=ticket.pk).update(updated_at=timezone.now())
        return attachment, True


def time_entry_add(
    *,
    ticket: Ticket,
    agent: User,
    minutes: int,
    note: str = "",
    client_id: uuid.UUID | str | None = None,
) -> TimeEntry:
    """Log ``minutes`` on ``ticket``. With a ``client_id`` the agent already
    used, the stored entry is returned and nothing new is written (a resend
    after a dropped connection), whatever the minutes and note say now."""
    _require_staff(agent)
    if minutes <= 0:
        raise TicketError("Minutes must be a positive whole number.", code="minutes_invalid")
    if minutes > 24 * 60:
        raise TicketError("A time entry may be at most 24 hours.", code="minutes_invalid")
    with transaction.atomic():
        if client_id is not None:
            stored = TimeEntry.objects.filter(agent=agent, client_id=client_id).first()
            if stored is not None:
                return _same_ticket(stored, ticket)
        try:
            # A savepoint: a resend racing this one may commit the same
            # client_id first; its row is then the answer.
            with transaction.atomic():
                entry = TimeEntry.objects.create(
                    ticket=ticket,
                    agent=agent,
                    minutes=minutes,
                    note=note.strip(),
                    client_id=client_id,
                )
                events.announce(ticket.pk, "time", time_entry=entry)
                return entry
        except IntegrityError:
            if client_id is None:
                raise
            stored = TimeEntry.objects.filter(agent=agent, client_id=client_id).first()
            if stored is None:
                raise
            return _same_ticket(stored, ticket)


def _same_ticket(stored: TimeEntry, ticket: Ticket) -> TimeEntry:
    """A resend is for the ticket of the first try; the same id on another
    ticket is a browser bug, refused rather than answered with that entry."""
    if stored.ticket_id != ticket.pk:
        raise TicketError(
            "This time entry was already logged on another ticket.", code="client_id_reused"
        )
    return stored
