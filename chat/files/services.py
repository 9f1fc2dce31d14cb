"""Files in a live chat: the paperclip, drag and drop and paste of both sides.

An upload arrives over HTTP (chat.files.views) and becomes a ``file`` message
like any other, through the one message writer (chat.messages): the next seq
of the session, the sender's ``client_id`` as the idempotency key (a retried
upload returns the stored message and stores nothing), written before it is
broadcast.

The rules of ticket attachments apply (tickets.services.validate_upload: the
size limit and the allowed extensions; the same private storage). On top of
them the bytes are sniffed: only a real PNG, JPEG, GIF or WebP image is
marked ``is_image`` and gets an inline preview; everything else, whatever
its name says, is served as a download only.

In an SMS or WhatsApp chat an agent's file goes out through the provider:
only a file the provider takes (its type and size,
chat.channels.providers.media_refusal) and, on WhatsApp, only inside the
number's 24-hour window, as free text; a refusal stores nothing. The message
is stored ``queued`` and sent like a text (chat.tasks.deliver_message,
exactly one provider call), the provider fetching the file from its public
URL (chat.channels.public_media).
"""

from __future__ import annotations

import uuid
from pathlib import PurePath

from django.conf import settings
from django.core.files.base import ContentFile, File
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import User
from chat import lifecycle, messages, selectors, tasks, whatsapp_window
from chat.channels.providers import media_refusal
from chat.enqueue import enqueue_on_commit
from chat.errors import ChatNotFound, InvalidState, MessageInvalid, WindowClosed
from chat.messages import SendResult
from chat.models import (
    ChatAttachment,
    ChatSession,
    Message,
    MessageKind,
    Participant,
    SessionStatus,
    sent_delivery_status,
)
from tickets import services as ticket_services
from tickets.errors import AttachmentRefused as TicketAttachmentRefused
from tickets.models import private_storage

# Enough bytes to tell the four raster formats apart (WebP needs 12).
SNIFF_BYTES = 16
RASTER_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})


class AttachmentRefused(MessageInvalid):
    """The file breaks a rule (size, type, empty); nothing was stored."""

    code = "attachment_refused"


class AttachmentTooLarge(AttachmentRefused):
    code = "attachment_too_large"


def sniff_image(head: bytes) -> str | None:
    """The content type of a raster image from its first bytes, or None.
    SVG (text that can carry script) is never one of them."""
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    return None


def read_head(handle: File) -> bytes:
    """The first bytes of a file, leaving it at the start for whoever reads next."""
    handle.seek(0)
    head = handle.read(SNIFF_BYTES)
    handle.seek(0)
    return head if isinstance(head, bytes) else head.encode("utf-8", "replace")


def _checked(upload: File) -> tuple[str, str, bool]:
    """(name, content type, is_image) of an upload that passes the ticket
    attachment rules; AttachmentRefused otherwise. Nothing is written."""
    name = PurePath(upload.name or "").name.strip()[:255]
    try:
        guessed = ticket_services.validate_upload(name=name, size=upload.size or 0)
    except TicketAttachmentRefused as exc:
        too_large = (upload.size or 0) > settings.ATTACHMENT_MAX_BYTES
        error = AttachmentTooLarge if too_large else AttachmentRefused
        raise error(exc.message) from exc
    image_type = sniff_image(read_head(upload))
    if image_type is not None:
        return name, image_type, True
    # Named like an image but the bytes are not one (or are SVG): keep no
    # image type the browser could act on; it is a plain download.
    if guessed.startswith("image/"):
        guessed = "application/octet-stream"
    return name, guessed, False


def _may_send(participant: Participant | None, *, content_type: str, size: int) -> None:
    """The state rules of chat.services.message_send: a participant in the room of an
    active chat (for a client that means an agent has answered it); in a
    phone chat, a file its provider takes, on WhatsApp inside the window."""
    if participant is None:
        raise ChatNotFound("That chat does not exist.")
    status = participant.session.status
    if status != SessionStatus.ACTIVE:
        raise InvalidState(
            "This chat has ended; files can no longer be sent."
            if status in (SessionStatus.ENDED, SessionStatus.CLOSED)
            else "Files can be sent once an agent has joined."
        )
    if not participant.in_room:
        raise InvalidState("You have left this chat.", code="not_in_room")
    if participant.session.by_phone:
        _may_go_to_phone(participant.session, content_type=content_type, size=size)


def _may_go_to_phone(session: ChatSession, *, content_type: str, size: int) -> None:
    refusal = media_refusal(session.channel, content_type=content_type, size=size)
    if refusal is not None:
        raise (AttachmentTooLarge if refusal.too_large else AttachmentRefused)(refusal.message)
    if not whatsapp_window.session_is_open(session, timezone.now()):
        raise WindowClosed(whatsapp_window.CLOSED_MESSAGE)


class _AlreadyStored(Exception):
    """A concurrent retry stored this client_id first: undo ours, answer with theirs."""

    def __init__(self, result: SendResult) -> None:
        super().__init__("already stored")
        self.result = result


def attachment_send(
    *, session_id: int, author: User, client_id: str | uuid.UUID, upload: File
) -> SendResult:
    """Store an uploaded file and its ``file`` message in one transaction.

    A resend with a ``client_id`` already stored returns the stored message
    and stores nothing. A refusal (rules, state, not a participant) leaves
    no row and no file behind; so does any failure after the file was
    written, because the file is deleted when the transaction does not commit.
    """
    client_uuid = messages.client_uuid(client_id)
    name, content_type, is_image = _checked(upload)

    # Cheap checks without a lock first, so a retry or a refusal does not
    # write megabytes to disk only to delete them; the file itself is then
    # written before the session row is locked, so other messages of the chat
    # do not wait for the disk. The locked transaction checks everything again.
    # The number's row comes along: a WhatsApp chat's window is read from it.
    participant = (
        Participant.objects.select_related("session__client__phone_client")
        .filter(session_id=session_id, user=author)
        .first()
    )
    if participant is not None:
        stored = messages.stored(participant.session_id, client_uuid)
        if stored is not None:
            return SendResult(stored, False)
    size = upload.size or 0
    _may_send(participant, content_type=content_type, size=size)

    attachment = ChatAttachment(
        session_id=session_id,
        uploaded_by=author,
        original_name=name,
        content_type=content_type,
        size=size,
        is_image=is_image,
    )
    upload.seek(0)
    attachment.file.save(name, upload, save=False)
    try:
        with transaction.atomic():
            try:
                participant = (
                    Participant.objects.select_related("session__client__phone_client")
                    .select_for_update(of=("session",))
                    .get(session_id=session_id, user=author)
                )
            except Participant.DoesNotExist as exc:  # pragma: no cover - removed meanwhile
                raise ChatNotFound("That chat does not exist.") from exc
            session = participant.session
            stored = messages.stored(session.pk, client_uuid)
            if stored is not None:
                raise _AlreadyStored(SendResult(stored, False))
            _may_send(participant, content_type=content_type, size=size)
            attachment.created_at = timezone.now()
            attachment.save()
            try:
                # As in message_send: the unique client_id refuses a retry
                # that raced this one (the savepoint undoes the seq it took).
                with transaction.atomic():
                    message = messages.append(
                        session,
                        author=author,
                        body=name,
                        kind=MessageKind.FILE,
                        client_id=client_uuid,
                        attachment=attachment,
                        # To a phone: sent by the provider, once (chat.channels.delivery).
                        delivery_status=sent_delivery_status(session.channel),
                    )
            except IntegrityError:
                stored = messages.stored(session.pk, client_uuid)
                if stored is None:  # pragma: no cover - another constraint failed
                    raise
                raise _AlreadyStored(SendResult(stored, False)) from None
            Participant.objects.filter(pk=participant.pk, last_read_seq__lt=message.seq).update(
                last_read_seq=message.seq
            )
            if session.by_phone:
                enqueue_on_commit(tasks.deliver_message, message.pk)
            return SendResult(message, True)
    except _AlreadyStored as already:
        private_storage.delete(attachment.file.name)
        return already.result
    except BaseException:
        # Rolled back (a refusal, a database error, an interrupted request):
        # the file must not outlive its row.
        private_storage.delete(attachment.file.name)
        raise


def attachment_receive(
    *, session_id: int, author: User, name: str, content: bytes, key: str
) -> Message:
    """A file an SMS or WhatsApp client sent (chat.inbound.media): the same
    rules and storage as an upload, in whatever state the chat is (a client
    writes before an agent answers). ``key`` is the provider's id of the file
    (unique): a second run returns the stored message and stores nothing.
    AttachmentRefused if the file breaks a rule; nothing is left behind."""
    stored = Message.objects.filter(provider_message_id=key).first()
    if stored is not None:
        return stored
    upload = ContentFile(content, name=name)
    name, content_type, is_image = _checked(upload)
    attachment = ChatAttachment(
        session_id=session_id,
        uploaded_by=author,
        original_name=name,
        content_type=content_type,
        size=len(content),
        is_image=is_image,
    )
    attachment.file.save(name, upload, save=False)
    try:
        with transaction.atomic():
            session = lifecycle.lock(session_id)
            attachment.created_at = timezone.now()
            attachment.save()
            return messages.append(
                session,
                author=author,
                body=name,
                kind=MessageKind.FILE,
                attachment=attachment,
                provider_message_id=key,
            )
    except IntegrityError:
        # Another run stored this key first.
        private_storage.delete(attachment.file.name)
        stored = Message.objects.filter(provider_message_id=key).first()
        if stored is None:  # pragma: no cover - another constraint failed
            raise
        return stored
    except BaseException:
        private_storage.delete(attachment.file.name)
        raise


# --- Reads ---------------------------------------------------------------------------


def attachment_for(user: User, attachment_id: int) -> ChatAttachment:
    """The attachment if ``user`` may read its chat (chat.selectors.session_for:
    a client its own chats, an agent the chats it takes part in, supervisors
    any); raises ChatAttachment.DoesNotExist otherwise, so a view answers the
    same 404 for "not yours" and "no such file"."""
    attachment = ChatAttachment.objects.filter(pk=attachment_id).first()
    if attachment is None:
        raise ChatAttachment.DoesNotExist
    try:
        selectors.session_for(user, attachment.session_id)
    except ChatNotFound as exc:
        raise ChatAttachment.DoesNotExist from exc
    return attachment
