"""What goes out to a phone, sent exactly once, and how far it got.

Two kinds of rows go out: an agent's message in an SMS or WhatsApp chat
(stored ``queued`` by chat.message_sql; a WhatsApp template goes out as one,
chat.whatsapp_templates; a file as one, chat.files, which the provider fetches
from its public URL, chat.channels.public_media) and a ChannelNotice (an answer to a
number outside any chat). Each is sent by a Celery task (chat.tasks) that may
run any number of times, and the provider is called once:

1. the row is claimed with a conditional UPDATE (``queued`` -> ``sending``
   WHERE it is still queued): of two runs at once one wins, and a run after
   the send finds the row sent and stops;
2. the provider is called;
3. its message id is stored, status ``sent`` (WHERE it is still ``sending``).

A failure that certainly sent nothing (the provider was not reached, or
answered 429/5xx) hands the claim back (``sending`` -> ``queued``) and the task
tries again later; after the last try, or on a refusal (a bad number...), the
row is ``failed`` with the provider's words, which the agent sees.

**The crash window.** If the process dies between 2 and 3 (or the provider
took the request but never answered), the row stays ``sending`` without a
provider id: it may or may not have reached the client, and nothing here can
tell. It is never sent again, because a text sent twice to a client is worse
than one the agent sends again: the next run of the task (a dead worker's
task is handed to another, acks_late) finds the claim older than
CLAIM_STALE_SECONDS and marks the row ``failed`` ("may or may not have been
sent"). A younger claim may belong to a run still waiting for the provider:
that run stays, and the task looks again later.

Status reports (the providers' webhooks) move a row forward only: sent <
delivered < read; failed only before delivered. Each change of a message is
broadcast to its chat's room (``chat.delivery``).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.db.models import Model
from django.utils import timezone

from chat import broadcasts
from chat.channels import public_media
from chat.channels.providers import provider_for
from chat.channels.providers.base import (
    OutboundMedia,
    OutboundTemplate,
    ProviderUnavailable,
    SendError,
    StatusReport,
)
from chat.models import ChannelNotice, DeliveryStatus, Message, WhatsAppTemplateMessage
from chat.payloads import delivery_payload

# Longer than a provider call can take (chat.channels.providers.base.TIMEOUT).
CLAIM_STALE_SECONDS = 120

S = DeliveryStatus
# Which states a status report may move a row from: only forward.
MOVES_FROM: dict[str, tuple[str, ...]] = {
    S.SENT: (S.QUEUED, S.SENDING),
    S.DELIVERED: (S.QUEUED, S.SENDING, S.SENT),
    S.READ: (S.QUEUED, S.SENDING, S.SENT, S.DELIVERED),
    S.FAILED: (S.QUEUED, S.SENDING, S.SENT),
}

INTERRUPTED = (
    "The send was interrupted: it may or may not have reached the client. "
    "Send it again if the client did not get it."
)


class Outcome(enum.Enum):
    SENT = "sent"
    FAILED = "failed"
    DONE = "done"  # nothing to do: sent, failed or claimed by another run before
    RETRY = "retry"  # try again later: nothing was sent, or another run is sending


@dataclass(frozen=True)
class Outgoing:
    """One row as it goes out: to ``number`` on ``channel``, ``body`` or,
    for a WhatsApp template, ``template`` (``body`` is then its filled text,
    which the chat shows), or for a file ``media`` (``body`` is its name)."""

    row: Any
    channel: str
    number: str
    body: str
    template: OutboundTemplate | None = None
    media: OutboundMedia | None = None


def _template(message: Message) -> OutboundTemplate | None:
    try:
        sent = message.whatsapp_template
    except WhatsAppTemplateMessage.DoesNotExist:
        return None
    return OutboundTemplate(sent.name, sent.language, tuple(sent.parameters))


def _media(message: Message) -> OutboundMedia | None:
    attachment = message.attachment
    if attachment is None:
        return None
    # The file message has no words of its own (its body is the file's name,
    # which a document carries as its filename): no caption.
    return OutboundMedia(
        url=public_media.public_url(attachment.pk),
        content_type=attachment.content_type,
        filename=attachment.original_name,
    )


class Delivery:
    """One row that goes out: where, what, and how it is announced."""

    def __init__(self, model: type[Message] | type[ChannelNotice], row_id: int) -> None:
        self.model = model
        self.row_id = row_id

    def rows(self) -> Any:
        return self.model.objects.filter(pk=self.row_id)

    def load(self) -> Outgoing | None:
        """What goes out, or None when the row is gone."""
        if self.model is Message:
            message = (
                Message.objects.select_related("session", "whatsapp_template", "attachment")
                .filter(pk=self.row_id)
                .first()
            )
            if message is None:
                return None
            session = message.session
            return Outgoing(
                message,
                session.channel,
                session.client_address,
                message.body,
                _template(message),
                _media(message),
            )
        notice = ChannelNotice.objects.select_related("phone_client").filter(pk=self.row_id)
        row = notice.first()
        if row is None:
            return None
        return Outgoing(row, row.channel, row.phone_client.number, row.body)

    def announce(self) -> None:
        if self.model is Message:
            _announce(Message.objects.get(pk=self.row_id))


def message_deliver(*, message_id: int) -> Outcome:
    return _deliver(Delivery(Message, message_id))


def notice_deliver(*, notice_id: int) -> Outcome:
    return _deliver(Delivery(ChannelNotice, notice_id))


def message_give_up(*, message_id: int, reason: str) -> None:
    """The task's last try found the provider unavailable: failed."""
    _fail(Delivery(Message, message_id), reason, from_status=(S.QUEUED,))


def notice_give_up(*, notice_id: int, reason: str) -> None:
    _fail(Delivery(ChannelNotice, notice_id), reason, from_status=(S.QUEUED,))


def _deliver(delivery: Delivery) -> Outcome:
    loaded = delivery.load()
    if loaded is None:
        return Outcome.DONE
    row = loaded.row
    if row.delivery_status == S.SENDING and not row.provider_message_id:
        stale = timezone.now() - timedelta(seconds=CLAIM_STALE_SECONDS)
        if row.send_claimed_at is not None and row.send_claimed_at > stale:
            return Outcome.RETRY  # another run may still be waiting for the provider
        _fail(delivery, INTERRUPTED, from_status=(S.SENDING,))
        return Outcome.FAILED
    if row.delivery_status != S.QUEUED or row.provider_message_id:
        return Outcome.DONE
    provider = provider_for(loaded.channel)
    if provider is None:
        _fail(delivery, "This channel is switched off: nothing was sent.", from_status=(S.QUEUED,))
        return Outcome.FAILED
    # 1. Claim: committed before the call, so a second run sees it.
    now = timezone.now()
    if (
        not delivery.rows()
        .filter(delivery_status=S.QUEUED)
        .update(delivery_status=S.SENDING, send_claimed_at=now)
    ):
        return Outcome.DONE
    # 2. The one call.
    try:
        if loaded.template is not None:
            provider_id = provider.send_template(to=loaded.number, template=loaded.template)
        elif loaded.media is not None:
            provider_id = provider.send_media(to=loaded.number, media=loaded.media)
        else:
            provider_id = provider.send_text(to=loaded.number, body=loaded.body)
    except ProviderUnavailable:
        # Nothing was sent: the claim goes back for the next try. Its time
        # stays: the retry claims the row again within a retry wait, so the
        # requeue sweep (chat.requeue) leaves a row claimed lately alone and
        # queues one claimed long ago again (its retry was lost by the broker).
        delivery.rows().filter(delivery_status=S.SENDING).update(delivery_status=S.QUEUED)
        return Outcome.RETRY
    except SendError as exc:
        _fail(delivery, str(exc), from_status=(S.SENDING,))
        return Outcome.FAILED
    # Anything else raised by the call leaves the claim in place: the crash
    # window of the module docstring (a later run marks it failed).
    # 3. Sent. A status report cannot have moved it meanwhile: it finds rows
    # by the provider id stored here.
    with transaction.atomic():
        delivery.rows().filter(delivery_status=S.SENDING).update(
            provider_message_id=provider_id, delivery_status=S.SENT, delivery_at=timezone.now()
        )
        delivery.announce()
    return Outcome.SENT


def _fail(delivery: Delivery, reason: str, *, from_status: tuple[str, ...]) -> None:
    with transaction.atomic():
        changed = (
            delivery.rows()
            .filter(delivery_status__in=from_status)
            .update(delivery_status=S.FAILED, delivery_error=reason, delivery_at=timezone.now())
        )
        if changed:
            delivery.announce()


def status_record(report: StatusReport) -> bool:
    """A provider's status report: the row with that provider id moves
    forward (never back). False when nothing moved: an unknown id, or a
    report older than what the row knows."""
    moves_from = MOVES_FROM.get(report.status)
    if moves_from is None:
        return False
    changes = {"delivery_status": report.status, "delivery_at": timezone.now()}
    if report.status == S.FAILED:
        changes["delivery_error"] = report.error
    model: type[Model]
    for model in (Message, ChannelNotice):
        with transaction.atomic():
            moved = model.objects.filter(  # type: ignore[attr-defined]
                provider_message_id=report.provider_message_id, delivery_status__in=moves_from
            ).update(**changes)
            if moved:
                if model is Message:
                    _announce(Message.objects.get(provider_message_id=report.provider_message_id))
                return True
    return False


def _announce(message: Message) -> None:
    payload = delivery_payload(message)
    if payload is not None:
        broadcasts.delivery_changed(
            session_id=message.session_id, seq=message.seq, delivery=payload
        )
