"""Thin Celery tasks of chat: load by id, call a service. Idempotent: each
service does its work once however often the task runs."""

from __future__ import annotations

from celery import shared_task

from chat import transcripts


@shared_task(
    name="chat.tasks.attach_transcript",
    autoretry_for=(Exception,),
    retry_backoff=True,
    max_retries=5,
)
def attach_transcript(session_id: int) -> bool:
    return transcripts.transcript_attach(session_id=session_id)


@shared_task(
    name="chat.tasks.email_transcript",
    autoretry_for=(Exception,),
    retry_backoff=True,
    max_retries=5,
)
def email_transcript(session_id: int) -> bool:
    return transcripts.transcript_email(session_id=session_id)
