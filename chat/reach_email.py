"""Message customer by email (chat.reach_out): the agents' messages to a
portal client who has not joined the chat yet, with the link to the portal
page where it answers with Join chat (the ticket's page, or the portal's
home for a chat without a ticket) and lands in the chat the agent started.

The first message goes at once (chat.reach_out.services queues the task when
the chat starts); what the agents write after it, while the client has not
joined, goes in one email a little later (chat.reach_out.emails queues
the task then). Once the client is in the chat, or the chat is over (its
transcript is emailed then, chat.transcripts), nothing more is emailed.

Each message is emailed once however often the task runs
(chat.tasks.email_reach_out), as the transcript is: ``ReachOut.emailed_seq``
is moved past the messages by a conditional UPDATE in the transaction that
sends, so a repeated or concurrent task finds them covered and sends
nothing, and a failed send rolls the claim back for the retry.
"""

from __future__ import annotations

from typing import Any

from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.db.models import QuerySet
from django.template.loader import render_to_string
from django.utils import timezone

from accounts.time_zones import format_in
from chat.formatting import render_markdown, render_plain
from chat.models import ChatSession, Message, MessageKind, ReachChannel, ReachOut
from chat.reach_email_rules import awaits_client, emailed_messages


def _unsent_messages(session: ChatSession, *, after_seq: int) -> QuerySet[Message]:
    """The agents' messages in the chat after ``after_seq``, oldest first."""
    return (
        Message.objects.filter(
            emailed_messages(session=session, client=session.client_id, after_seq=after_seq)
        )
        .select_related("author")
        .order_by("seq")
    )


def _awaits_client(session: ChatSession) -> bool:
    return ChatSession.objects.filter(awaits_client(), pk=session.pk).exists()


def reach_out_email(*, session_id: int) -> bool:
    """Email the agents' messages of an email reach-out that no email has
    carried yet, in one email; True if one was sent now."""
    with transaction.atomic():
        reach = (
            ReachOut.objects.select_related(
                "session__client", "session__contact", "session__ticket", "by"
            )
            .filter(session_id=session_id, channel=ReachChannel.EMAIL)
            .first()
        )
        if reach is None:
            return False
        session = reach.session
        unsent = list(_unsent_messages(session, after_seq=reach.emailed_seq))
        if not unsent or not _awaits_client(session):
            # ``email_queued_at`` stays: the sweep queues this chat again only
            # after as long again, should it ever find something due here.
            return False
        claimed = ReachOut.objects.filter(
            session_id=session_id, emailed_seq=reach.emailed_seq
        ).update(emailed_seq=unsent[-1].seq, emailed_at=timezone.now(), email_queued_at=None)
        address = (session.contact.email if session.contact else "") or session.client.email
        if not claimed or not address:
            return False
        _email(reach, unsent, address=address, first=reach.emailed_seq == 0).send()
        return True


def _email(
    reach: ReachOut, unsent: list[Message], *, address: str, first: bool
) -> EmailMultiAlternatives:
    session = reach.session
    agent = reach.by.display_name if reach.by else "An engineer"
    context: dict[str, Any] = {
        "agent": agent,
        "first": first,
        "ticket": session.ticket,
        "subject": session.subject,
        "messages": [_line(message, session) for message in unsent],
        "portal_url": reach.portal_url,
    }
    email = EmailMultiAlternatives(
        subject=_subject(agent, session, first=first),
        body=render_to_string("chat/email/reach_out.txt", context),
        to=[address],
    )
    email.attach_alternative(render_to_string("chat/email/reach_out.html", context), "text/html")
    return email


def _subject(agent: str, session: ChatSession, *, first: bool) -> str:
    ticket = session.ticket
    if ticket is not None:
        wrote = "wrote about" if first else "wrote again about"
        return f"{agent} {wrote} ticket #{ticket.pk}: {ticket.subject}"
    wrote = "wrote to you" if first else "wrote again"
    return f"{agent} {wrote}: {session.subject}"


def _line(message: Message, session: ChatSession) -> dict[str, Any]:
    """One message as the email shows it, its time in the client's zone (a
    file by its name: the file itself is in the chat, behind the portal's
    login)."""
    is_file = message.kind == MessageKind.FILE
    return {
        "author": message.author.display_name if message.author else "",
        "at": format_in(message.created_at, session.client, "TIME_FORMAT"),
        "body": f"sent a file: {message.body}" if is_file else message.body,
        "body_html": render_plain(f"sent a file: {message.body}")
        if is_file
        else render_markdown(message.body),
    }
