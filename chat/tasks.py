"""Thin Celery tasks of chat: load by id, call a service. Idempotent: each
service does its work once however often the task runs, also twice at once
(a message handed out again after a worker died, docs/architecture.md "Tasks").

Retries wait 1, 2, 4, 8, 16 s (jittered): the backoff caps at
TASK_RETRY_WAIT_MAX_SECONDS, which the broker's visibility timeout outlasts."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings

from chat import transcripts


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
