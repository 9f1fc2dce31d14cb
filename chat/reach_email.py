"""Message customer by email (chat.reach_out): the agent's first message to a
portal client, with the link to the ticket's page in the portal, where the
client answers with Join chat and lands in the chat the agent started.

Sent once however often the task runs (chat.tasks.email_reach_out), as the
transcript is: ``ReachOut.emailed_at`` is claimed by a conditional UPDATE in
the transaction that sends, so a repeated or concurrent task finds it set and
sends nothing, and a failed send rolls the claim back for the retry.
"""

from __future__ import annotations

from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone

from chat.formatting import render_markdown
from chat.models import MessageKind, ReachChannel, ReachOut


def reach_out_email(*, session_id: int) -> bool:
    """Email the first message of an email reach-out; True if sent now."""
    with transaction.atomic():
        claimed = ReachOut.objects.filter(
            session_id=session_id, channel=ReachChannel.EMAIL, emailed_at__isnull=True
        ).update(emailed_at=timezone.now())
        if not claimed:
            return False
        reach = ReachOut.objects.select_related(
            "session__client", "session__contact", "session__ticket", "by"
        ).get(session_id=session_id)
        session = reach.session
        ticket = session.ticket
        message = session.messages.filter(kind=MessageKind.TEXT).order_by("seq").first()
        address = (session.contact.email if session.contact else "") or session.client.email
        if ticket is None or message is None or not address:
            return False
        agent = reach.by.display_name if reach.by else "An engineer"
        context = {
            "agent": agent,
            "ticket": ticket,
            "message": message,
            "body_html": render_markdown(message.body),
            "portal_url": reach.portal_url,
        }
        email = EmailMultiAlternatives(
            subject=f"{agent} wrote about ticket #{ticket.pk}: {ticket.subject}",
            body=render_to_string("chat/email/reach_out.txt", context),
            to=[address],
        )
        email.attach_alternative(
            render_to_string("chat/email/reach_out.html", context), "text/html"
        )
        email.send()
        return True
