"""Message customer by email: what the agents write after the first message,
while the client has not joined the chat, reaches it by email too, in
batches rather than one email per message.

The beat sweep (presence.tasks.SWEEPS) finds the live email reach-outs whose
client has never been in the chat and whose oldest message not yet emailed
was written REACH_OUT_EMAIL_BATCH_SECONDS ago or more, and queues the email
task for each (chat.tasks.email_reach_out): one email with every message not
yet emailed (chat.reach_email, which emails each message once). A chat is
queued again only after as long again (``email_queued_at``), should its
task have been lost; a repeated task sends nothing (and leaves the stamp).
Which messages are due and which chats are emailed are chat.reach_email_rules,
the rules the task sends by. Nothing is queued once
the client is in the chat or the chat is over: the transcript email
(chat.transcripts) carries the whole chat then.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from chat import tasks
from chat.enqueue import enqueue_on_commit
from chat.models import Message, ReachChannel, ReachOut
from chat.reach_email_rules import awaits_client, emailed_messages

# Chats queued per sweep; the rest wait for the next one, seconds later.
BATCH = 200


def sweep_reach_out_emails(*, now: datetime | None = None) -> int:
    """Queue the email of every email reach-out with messages due; returns how many."""
    now = now or timezone.now()
    wait = timedelta(seconds=settings.REACH_OUT_EMAIL_BATCH_SECONDS)
    # The rules chat.reach_email sends by (chat.reach_email_rules), and a wait.
    due_message = Message.objects.filter(
        emailed_messages(
            session=OuterRef("session"),
            client=OuterRef("session__client"),
            after_seq=OuterRef("emailed_seq"),
        ),
        created_at__lte=now - wait,
    )
    with transaction.atomic():
        due = list(
            ReachOut.objects.filter(awaits_client("session__"), channel=ReachChannel.EMAIL)
            .filter(Q(email_queued_at__isnull=True) | Q(email_queued_at__lte=now - wait))
            .filter(Exists(due_message))
            .values_list("session_id", flat=True)[:BATCH]
        )
        ReachOut.objects.filter(session_id__in=due).update(email_queued_at=now)
        for session_id in due:
            # A broker that refuses it: the next sweep after ``wait`` queues it again.
            enqueue_on_commit(tasks.email_reach_out, session_id)
    return len(due)
