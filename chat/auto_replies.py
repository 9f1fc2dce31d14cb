"""What SMS and WhatsApp clients are told automatically, once per event: a
request made outside office hours (with when the helpdesk opens next), a
request nobody answered in time, and a number that may not chat. The words
are administrators' (chat.models.AutoReply, one row per kind, edited in
Django admin).

A reply in a chat is a system line of the chat (the agents see it, with its
delivery tick, and the transcript keeps it) stored ``queued`` and sent by
the same task as an agent's message: one provider call however often it runs
(chat.channels.delivery). Exactly one per event:

- outside office hours, the reply is written with the request itself, under
  the number's lock (chat.inbound.receive); a provider's retry of the same
  message is recognised before that and starts nothing;
- nobody answering: the no-answer sweep (chat.timers) writes the replies of
  exactly the requests it stamped (chat.lifecycle.move_many), so a second
  run, or a second beat, finds none left to stamp;
- a number that may not chat gets a ChannelNotice (it has no chat) at most
  once a day (chat.inbound.receive).
"""

from __future__ import annotations

import uuid
from datetime import datetime

from django.db.models import QuerySet

from chat import lifecycle, messages, tasks
from chat.enqueue import enqueue_on_commit
from chat.models import (
    AutoReply,
    AutoReplyKind,
    ChatSession,
    DeliveryStatus,
    MessageKind,
    SessionStatus,
)
from chat.placeholders import render
from officehours import services as officehours

# The reply's client_id in its chat (unique per chat): a second one of the
# same kind could never be stored there.
_NAMESPACE = uuid.UUID("7f0c3c1e-5b7d-4d53-9c1c-2f6c8d0e3a41")
# {opens_at} when the schedule names no opening at all.
NO_OPENING = "as soon as we can"


def auto_reply_text(kind: str, values: dict[str, str] | None = None) -> str:
    """The administrators' words for ``kind`` (the default while its row is
    missing), with its placeholders filled in."""
    body = AutoReply.objects.filter(kind=kind).values_list("body", flat=True).first()
    return render(body or AutoReply.DEFAULTS[kind], values or {})


def opens_at(now: datetime) -> str:
    """When the helpdesk opens next, in words (officehours)."""
    if officehours.next_opening(now) is None:
        return NO_OPENING
    return officehours.describe_next_opening(now)


def outside_hours_reply(session: ChatSession, *, now: datetime) -> None:
    """Tell the client of a request made while the helpdesk is closed when it
    opens. The caller holds the chat's lock and made the request now."""
    client_id = uuid.uuid5(_NAMESPACE, f"{session.pk}:{AutoReplyKind.OUTSIDE_HOURS}")
    if messages.stored(session.pk, client_id) is not None:
        return
    text = auto_reply_text(AutoReplyKind.OUTSIDE_HOURS, {"opens_at": opens_at(now)})
    reply = messages.append(
        session,
        author=None,
        kind=MessageKind.SYSTEM,
        body=text,
        client_id=client_id,
        delivery_status=DeliveryStatus.QUEUED,
    )
    _send_after_commit([reply.pk])


def no_answer_replies(sessions: QuerySet[ChatSession], *, now: datetime) -> lifecycle.Swept:
    """The no-answer sweep for SMS and WhatsApp requests: each one still
    waiting in ``sessions`` is stamped told (``no_answer_at``: it stays in the
    queue) and gets the reply as its line, sent after commit."""
    text = auto_reply_text(AutoReplyKind.NO_ANSWER)
    swept = lifecycle.move_many(
        sessions,
        from_status=SessionStatus.WAITING,
        now=now,
        changes={"no_answer_at": now},
        line_for=lambda row: text,
        line_delivery=DeliveryStatus.QUEUED,
    )
    _send_after_commit([line.pk for line in swept.lines])
    return swept


def _send_after_commit(message_ids: list[int]) -> None:
    for message_id in message_ids:
        enqueue_on_commit(tasks.deliver_message, message_id)
