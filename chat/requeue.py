"""Work whose Celery task was never queued, queued again by the beat sweep.

chat.enqueue queues a task after the commit that stored its work; when the
broker refused it (Redis restarting, an outage) the row is there and its task
is not. These sweeps (presence.tasks.REQUEUE_SWEEPS, run by their own beat
entry every REQUEUE_SWEEP_SECONDS; each ``(*, now) -> int``, the number of
tasks queued) find such rows by what the tasks leave behind:

- a message or a ChannelNotice still ``queued`` and not claimed lately
  (``send_claimed_at`` is set by every run of its send task, and kept when
  the provider was down and the task hands the row back for its retry:
  chat.channels.delivery): never claimed, its task never ran; claimed more
  than REQUEUE_AFTER_SECONDS ago, its retry was lost (the broker refused
  it, or a Redis restarted without its data lost it), since a live retry
  claims the row again within TASK_RETRY_WAIT_MAX_SECONDS;
- an ended chat whose transcript is not on its ticket (the attachment keyed
  on the chat, chat.transcripts) or not emailed (``transcript_emailed_at``,
  set even when the client has no address);
- a file an SMS/WhatsApp client sent that is still to be fetched (a
  PendingMedia row, deleted by the fetch task once the file or the line
  saying it could not be kept is in the chat: chat.inbound.media). One
  still pending after REQUEUE_WITHIN_SECONDS is given up: the line saying
  it could not be fetched is written, as the task writes it, and the row goes.

A Message customer email needs no sweep here: its own (chat.reach_out.emails)
queues the email of every message not yet emailed, the first one included,
again and again until it is sent.

A row is due REQUEUE_AFTER_SECONDS after it was made (its task, queued at
once, has had time to run, or to be handed out again by the broker after a
worker died with it), at most once per REQUEUE_EVERY_SECONDS (a stamp
on the row, set by a conditional UPDATE, so two sweeps at once queue each row
once and a task already retrying is not doubled every beat), and only within
REQUEUE_WITHIN_SECONDS of being made: an email the mail server keeps refusing
is not tried forever. Each run takes at most REQUEUE_BATCH rows per rule;
every task does its work once however often it is queued, so a row queued
again while its first task is still on the way is harmless.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from celery import Task
from django.conf import settings
from django.db.models import CharField, Exists, OuterRef, Q, QuerySet, Value
from django.db.models.functions import Cast, Concat

from chat import tasks
from chat.enqueue import enqueue
from chat.inbound import media
from chat.models import (
    ChannelNotice,
    ChatSession,
    DeliveryStatus,
    Message,
    PendingMedia,
    SessionStatus,
)
from chat.transcripts import TRANSCRIPT_KEY_PREFIX
from tickets.models import TicketAttachment

# A task the broker got is its business: a worker that dies with it has it
# handed out again by the broker within the visibility timeout and a restore
# check (docs/architecture.md, "Tasks"). Only later is a row stuck: its task
# never reached the broker, or Redis lost it (restarted without its data).
REQUEUE_AFTER_SECONDS = settings.TASK_VISIBILITY_TIMEOUT_SECONDS + 2 * (
    settings.TASK_RESTORE_CHECK_SECONDS
)
REQUEUE_EVERY_SECONDS = 300
REQUEUE_WITHIN_SECONDS = 6 * 3600
REQUEUE_BATCH = 100

# A task and the keyword arguments it is queued with.
Job = tuple[Task, dict[str, Any]]


def unsent(now: datetime) -> Q:
    """A message or notice no send task is on: every run claims the row, and
    a run that found the provider down keeps the claim's time as it hands the
    row back for its retry (chat.channels.delivery). That retry claims it
    again within TASK_RETRY_WAIT_MAX_SECONDS, far below REQUEUE_AFTER_SECONDS;
    a claim older than that was the last of a retry the broker lost."""
    return Q(delivery_status=DeliveryStatus.QUEUED) & (
        Q(send_claimed_at__isnull=True)
        | Q(send_claimed_at__lt=now - timedelta(seconds=REQUEUE_AFTER_SECONDS))
    )


def sweep_unsent_messages(*, now: datetime) -> int:
    """Messages to SMS/WhatsApp clients whose send task never ran, or whose
    retry was lost."""
    return _requeue(
        Message.objects.all(),
        unfinished=unsent(now),
        made="created_at",
        now=now,
        jobs=lambda message: [(tasks.deliver_message, {"message_id": message.pk})],
    )


def sweep_unsent_notices(*, now: datetime) -> int:
    """Notices to numbers that may not chat whose send task never ran, or
    whose retry was lost."""
    return _requeue(
        ChannelNotice.objects.all(),
        unfinished=unsent(now),
        made="created_at",
        now=now,
        jobs=lambda notice: [(tasks.deliver_notice, {"notice_id": notice.pk})],
    )


def sweep_transcripts(*, now: datetime) -> int:
    """Ended chats whose transcript is not attached or not emailed."""
    attached = TicketAttachment.objects.filter(
        ticket=OuterRef("ticket"),
        source_key=Concat(
            Value(TRANSCRIPT_KEY_PREFIX), Cast(OuterRef("pk"), output_field=CharField())
        ),
    )
    return _requeue(
        ChatSession.objects.filter(status=SessionStatus.ENDED).annotate(attached=Exists(attached)),
        unfinished=Q(transcript_emailed_at__isnull=True) | Q(ticket__isnull=False, attached=False),
        made="ended_at",
        stamp="transcript_requeued_at",
        now=now,
        jobs=_transcript_jobs,
    )


def _transcript_jobs(session: ChatSession) -> list[Job]:
    jobs: list[Job] = []
    if session.ticket_id is not None and not session.attached:  # type: ignore[attr-defined]
        jobs.append((tasks.attach_transcript, {"session_id": session.pk}))
    if session.transcript_emailed_at is None:
        jobs.append((tasks.email_transcript, {"session_id": session.pk}))
    return jobs


# What the line in the chat says of a file given up after the window.
NOT_FETCHED_IN_TIME = f"it was still waiting after {REQUEUE_WITHIN_SECONDS // 3600} hours"


def sweep_pending_media(*, now: datetime) -> int:
    """Files from SMS/WhatsApp clients whose fetch task never ran, or never
    finished (a rerun finds a stored file stored already). One whose task is
    still retrying a provider that is down may get a second task: the two
    store it once, under its key. Files pending past the window are given
    up; the number is of tasks queued and files given up."""
    return _give_up_media(now=now) + _requeue(
        PendingMedia.objects.all(),
        unfinished=Q(),  # a row is deleted once its file is settled
        made="created_at",
        now=now,
        jobs=lambda pending: [(media.fetch_media, media.fetch_arguments(pending))],
    )


def _give_up_media(*, now: datetime) -> int:
    """The oldest REQUEUE_BATCH files pending past the window get the line the
    fetch task writes when it gives up, once per key (two sweeps at once
    write it once; a file stored already gets none), and lose their row."""
    expired = PendingMedia.objects.filter(
        created_at__lt=now - timedelta(seconds=REQUEUE_WITHIN_SECONDS)
    ).order_by("created_at")[:REQUEUE_BATCH]
    given_up = 0
    for pending in expired:
        media.fetch_given_up(
            session_id=pending.session_id, key=pending.key, reason=NOT_FETCHED_IN_TIME
        )
        given_up += 1
    return given_up


def _requeue(
    rows: QuerySet[Any],
    *,
    unfinished: Q,
    made: str,
    now: datetime,
    jobs: Callable[[Any], list[Job]],
    stamp: str = "requeued_at",
) -> int:
    """Stamp the oldest REQUEUE_BATCH due rows of ``rows`` (``unfinished``,
    made inside the window, not stamped lately) and queue their tasks. The
    UPDATE checks all of it again, so of two sweeps at once each row goes to
    the one that stamped it (the rows are read back by the stamp's time)."""
    due = rows.filter(
        unfinished,
        Q(**{f"{stamp}__isnull": True})
        | Q(**{f"{stamp}__lt": now - timedelta(seconds=REQUEUE_EVERY_SECONDS)}),
        **{
            f"{made}__lt": now - timedelta(seconds=REQUEUE_AFTER_SECONDS),
            f"{made}__gte": now - timedelta(seconds=REQUEUE_WITHIN_SECONDS),
        },
    )
    ids = list(due.order_by(made).values_list("pk", flat=True)[:REQUEUE_BATCH])
    if not ids:
        return 0
    due.filter(pk__in=ids).update(**{stamp: now})
    stamped = list(rows.filter(pk__in=ids, **{stamp: now}).order_by(made))
    queued = 0
    for index, row in enumerate(stamped):
        for task, arguments in jobs(row):
            if not enqueue(task, **arguments):
                # The broker is away again (chat.enqueue warned): what was not
                # queued is due at the next beat, not REQUEUE_EVERY_SECONDS later.
                unqueued = [later.pk for later in stamped[index:]]
                rows.model.objects.filter(pk__in=unqueued, **{stamp: now}).update(**{stamp: None})
                return queued
            queued += 1
    return queued
