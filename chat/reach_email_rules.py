"""Message customer by email: which of the agents' messages its emails carry,
and while which chats they are sent. Written once for the three that ask
(chat.reach_email sends the email, chat.reach_out.emails queues it, and
selectors.chats_to_join lists the chats the portal offers to join), so that
they cannot disagree.
"""

from __future__ import annotations

from django.db.models import Exists, OuterRef, Q

from chat.models import MessageKind, Participant, SessionStatus

# What of the agents' writing an email carries (system lines are the chat's own).
EMAILED_KINDS = (MessageKind.TEXT, MessageKind.FILE)


def emailed_messages(*, session: object, client: object, after_seq: object) -> Q:
    """Of ``Message``: the agents' text and files in ``session`` after
    ``after_seq`` (values, or OuterRefs from a subquery)."""
    agents = Q(author__isnull=False) & ~Q(author=client)
    return agents & Q(session=session, seq__gt=after_seq, kind__in=EMAILED_KINDS)


def awaits_client(path: str = "") -> Q:
    """Of ``ChatSession``, or of a model that reaches it by ``path`` (such as
    ``"session__"``): the chat is live and its client has never been in it,
    so only email reaches it (once in, it reads the chat; when the chat is
    over, its transcript)."""
    been_in = Participant.objects.filter(
        session=OuterRef(f"{path}pk"), user=OuterRef(f"{path}client")
    )
    return Q(**{f"{path}status": SessionStatus.ACTIVE}) & ~Exists(been_in)
