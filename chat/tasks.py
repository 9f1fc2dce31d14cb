"""Thin Celery tasks of chat: load by id, call a service. Idempotent: each
service does its work once however often the task runs, also twice at once
(a message handed out again after a worker died, docs/architecture.md "Tasks").

Retries wait 1, 2, 4, 8, 16 s (jittered): the backoff caps at
TASK_RETRY_WAIT_MAX_SECONDS, which the broker's visibility timeout outlasts."""

from __future__ import annotations

from collections.abc import Callable

from celery import Task, shared_task
from django.conf import settings

from chat import reach_email, transcripts
from chat.channels import delivery

# Tries of a send to a provider that was down or busy. The wait before each
# grows 1, 2, 4, 8 s, then stays at TASK_RETRY_WAIT_MAX_SECONDS: a longer
# countdown would outlast the broker's visibility timeout and the waiting
# message would be handed out again. About five minutes in all.
DELIVERY_TRIES = 20


@shared_task(
    name="chat.tasks.attach_transcript",
    autoretry_for=(Exception,),
    retry_backoff=True,
    retry_backoff_max=settings.TASK_RETRY_WAIT_MAX_SECONDS,
    max_retries=5,
)
def attach_transcript(session_id: int) -> bool:
    return transcripts.transcript_attach(session_id=session_id)


@shared_task(
    name="chat.tasks.email_transcript",
    autoretry_for=(Exception,),
    retry_backoff=True,
    retry_backoff_max=settings.TASK_RETRY_WAIT_MAX_SECONDS,
    max_retries=5,
)
def email_transcript(session_id: int) -> bool:
    return transcripts.transcript_email(session_id=session_id)


@shared_task(
    name="chat.tasks.email_reach_out",
    autoretry_for=(Exception,),
    retry_backoff=True,
    retry_backoff_max=settings.TASK_RETRY_WAIT_MAX_SECONDS,
    max_retries=5,
)
def email_reach_out(session_id: int) -> bool:
    """Message customer by email: the agents' messages not yet emailed and
    the link to the portal, each message sent once (chat.reach_email)."""
    return reach_email.reach_out_email(session_id=session_id)


@shared_task(name="chat.tasks.deliver_message", bind=True, max_retries=DELIVERY_TRIES)
def deliver_message(self: Task, message_id: int) -> str:
    """An agent's message to an SMS/WhatsApp client: one provider call
    however often this runs (chat.channels.delivery)."""
    outcome = delivery.message_deliver(message_id=message_id)
    if outcome is delivery.Outcome.RETRY:
        return _later(self, lambda: delivery.message_give_up(message_id=message_id, reason=GAVE_UP))
    return outcome.value


@shared_task(name="chat.tasks.deliver_notice", bind=True, max_retries=DELIVERY_TRIES)
def deliver_notice(self: Task, notice_id: int) -> str:
    """An answer to a phone outside any chat (chat.models.ChannelNotice)."""
    outcome = delivery.notice_deliver(notice_id=notice_id)
    if outcome is delivery.Outcome.RETRY:
        return _later(self, lambda: delivery.notice_give_up(notice_id=notice_id, reason=GAVE_UP))
    return outcome.value


GAVE_UP = "The provider could not be reached: nothing was sent."


def _later(task: Task, give_up: Callable[[], None]) -> str:
    """Try again after a growing wait; after the last try, or where there is
    no later (tasks run inline: the test settings), give up."""
    if task.request.is_eager or task.request.retries >= DELIVERY_TRIES:
        give_up()
        return "failed"
    wait = min(2**task.request.retries, settings.TASK_RETRY_WAIT_MAX_SECONDS)
    raise task.retry(countdown=wait)
