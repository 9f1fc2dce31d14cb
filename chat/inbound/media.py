"""Files an SMS or WhatsApp client sends: fetched from the provider by a
Celery task and stored as chat files under the attachment rules
(chat.files.services.attachment_receive: size, allowed types, sniffed
images, private storage).

Each file is keyed by its message's provider id and its place in it
(:func:`media_key`, the row's unique ``provider_message_id``), so a task run
twice, or queued twice by a retried webhook, stores it once. A file that
cannot be kept (too large, a type not allowed, gone at the provider) becomes
a line saying so, under the same key; a provider that is down is tried again
a few times first; so is a file still to be fetched after the requeue
sweep's window (:func:`fetch_given_up`).

The webhook's transaction stores each file as to be fetched (a PendingMedia
row, :func:`fetch_later`) and queues its task after commit; the task deletes
the row once the file or the line is in the chat. So a file whose task the
broker refused is still there to fetch: the requeue sweep (chat.requeue)
queues its task again from the row.
"""

from __future__ import annotations

import mimetypes
from typing import Any

from celery import Task, shared_task
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from chat import lifecycle, messages
from chat.channels.providers import provider_for
from chat.channels.providers.base import InboundMedia, MediaError
from chat.enqueue import enqueue_on_commit
from chat.files import services as files
from chat.formatting import human_size
from chat.models import ChatSession, Message, MessageKind, PendingMedia

FETCH_TRIES = 5


def media_key(provider_message_id: str, index: int) -> str:
    """The unique key of one file of a message (its row's provider id)."""
    return f"{provider_message_id}#media{index}"


def fetch_later(
    *, session_id: int, channel: str, provider_message_id: str, items: tuple[InboundMedia, ...]
) -> None:
    """The files of one message, stored as to be fetched in the caller's
    transaction, each one's task queued after it commits."""
    now = timezone.now()
    for index, item in enumerate(items):
        pending = PendingMedia.objects.create(
            session_id=session_id,
            channel=channel,
            key=media_key(provider_message_id, index),
            ref=item.ref,
            content_type=item.content_type,
            filename=item.filename,
            created_at=now,
        )
        enqueue_on_commit(fetch_media, **fetch_arguments(pending))


def fetch_arguments(pending: PendingMedia) -> dict[str, Any]:
    """What :func:`fetch_media` is queued with for a file still to be fetched."""
    return {
        "session_id": pending.session_id,
        "channel": pending.channel,
        "key": pending.key,
        "ref": pending.ref,
        "content_type": pending.content_type,
        "filename": pending.filename,
    }


@shared_task(name="chat.inbound.fetch_media", bind=True, max_retries=FETCH_TRIES)
def fetch_media(
    self: Task,
    *,
    session_id: int,
    channel: str,
    key: str,
    ref: str,
    content_type: str,
    filename: str,
) -> str:
    item = InboundMedia(ref, content_type, filename)
    try:
        outcome = media_receive(session_id=session_id, channel=channel, key=key, media=item)
    except SoftTimeLimitExceeded as exc:
        # A download slower than the task's time limit: as a provider that is busy.
        failure = MediaError("the download took too long", retry=True)
        failure.__cause__ = exc
    except MediaError as exc:
        failure = exc
    else:
        return _fetched(key, outcome)
    # Tasks run inline (the test settings) have no later to try in. The wait
    # stays under TASK_RETRY_WAIT_MAX_SECONDS (the broker's visibility timeout).
    if failure.retry and not self.request.is_eager and self.request.retries < FETCH_TRIES:
        wait = min(10 * 2**self.request.retries, settings.TASK_RETRY_WAIT_MAX_SECONDS)
        raise self.retry(countdown=wait) from failure
    return fetch_given_up(session_id=session_id, key=key, reason=str(failure))


def fetch_given_up(*, session_id: int, key: str, reason: str) -> str:
    """The file under ``key`` is not fetched: the line saying so (``reason``
    says why), written once per key, and nothing left to fetch. A file stored
    already keeps its message and gets no line."""
    line = _line(session_id, key, f"sent a file that could not be fetched: {reason}.")
    return _fetched(key, line)


def _fetched(key: str, outcome: str) -> str:
    # The file, or the line saying it could not be kept, is in the chat under
    # its key: nothing is left to fetch (a run that dies before this leaves
    # the row to the sweep, and the next run finds the file stored already).
    PendingMedia.objects.filter(key=key).delete()
    return outcome


def media_receive(*, session_id: int, channel: str, key: str, media: InboundMedia) -> str:
    """Fetch one file and store it as a file message of the client; what
    happened, in a word. MediaError when fetching may succeed later."""
    if Message.objects.filter(provider_message_id=key).exists():
        return "stored already"
    provider = provider_for(channel)
    if provider is None:
        return _line(
            session_id, key, "sent a file, which could not be fetched: the channel is off."
        )
    fetched = provider.fetch_media(media, max_bytes=settings.ATTACHMENT_MAX_BYTES)
    name = media.filename or _name_for(fetched.content_type or media.content_type)
    client = ChatSession.objects.select_related("client").get(pk=session_id).client
    try:
        files.attachment_receive(
            session_id=session_id, author=client, name=name, content=fetched.content, key=key
        )
    except files.AttachmentRefused as exc:
        size = human_size(len(fetched.content))
        return _line(session_id, key, f"sent {name} ({size}), which could not be kept: {exc}")
    return "stored"


def _name_for(content_type: str) -> str:
    """A name for a file the provider gave none (an MMS picture)."""
    extension = mimetypes.guess_extension(content_type.split(";")[0].strip()) or ""
    stem = "image" if content_type.startswith("image/") else "file"
    return f"{stem}{'.jpg' if extension == '.jpe' else extension}"


def _line(session_id: int, key: str, what: str) -> str:
    """A line in the chat about a file that could not be kept, once per key."""
    try:
        with transaction.atomic():
            session = lifecycle.lock(session_id)
            messages.append(
                session,
                author=session.client,
                kind=MessageKind.SYSTEM,
                body=f"{session.client.display_name} {what}",
                provider_message_id=key,
            )
    except IntegrityError:
        return "stored already"
    return "not kept"
