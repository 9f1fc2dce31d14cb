"""Read receipts and the typing indicator.

A chat has two sides: the client, and the staff in the room. A text message is
*read* once the other side has read past it: ``Message.read_at`` is set, once,
by the first read marker of the other side that covers it (an agent reading a
client's message, the client reading any agent's). The browser shows a double
tick and the time on hover from it, so it survives reloads.

Only people in the room (participants, client or agent role, not left) mark
anything read or say they are typing. A supervisor watching a chat may open it
but is no participant: its read markers are accepted and ignored.

Typing is not stored: a ``chat.typing`` event to the chat's group that every
socket of the typist drops (see the hook in chat.frames.chats).
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from accounts.models import User
from chat import broadcasts, selectors
from chat.errors import ChatForbidden, InvalidState
from chat.models import Message, MessageKind, Participant, ParticipantRole, SessionStatus

# Roles whose reading counts. A future watcher role stays outside on purpose.
READER_ROLES = (ParticipantRole.CLIENT, ParticipantRole.AGENT)


def participant_mark_read(*, session_id: int, user: User, seq: int) -> int:
    """Record that ``user`` has read up to ``seq``; returns its read marker.

    The marker only moves forward and never past the last message. Messages
    of the other side up to ``seq`` get their ``read_at`` (kept if already
    set). Someone who may see the chat without being in it (a supervisor
    watching) moves nothing and gets 0; anyone else is told the chat does not
    exist.
    """
    with transaction.atomic():
        participant = (
            Participant.objects.select_related("session")
            .filter(session_id=session_id, user=user)
            .first()
        )
        if participant is None or participant.role not in READER_ROLES:
            selectors.session_for(user, session_id)  # ChatNotFound for outsiders
            return 0
        if not participant.in_room:
            return participant.last_read_seq
        session = participant.session
        seq = min(max(0, int(seq)), session.last_seq)
        moved = Participant.objects.filter(pk=participant.pk, last_read_seq__lt=seq).update(
            last_read_seq=seq
        )
        # Not only when the marker moved: sending a message moves the sender's
        # marker too (chat.messages.send_text), and the read that follows
        # must still stamp the other side's messages before it.
        now = timezone.now()
        unread = Message.objects.filter(
            session_id=session_id,
            seq__lte=seq,
            kind__in=(MessageKind.TEXT, MessageKind.FILE),
            read_at__isnull=True,
        )
        if participant.role == ParticipantRole.CLIENT:
            unread = unread.exclude(author_id=session.client_id).exclude(author__isnull=True)
        else:
            unread = unread.filter(author_id=session.client_id)
        stamped = unread.update(read_at=now)
        if moved or stamped:
            broadcasts.read_moved(
                session_id=session_id,
                user=user,
                seq=seq,
                side=participant.role,
                read_at=now if stamped else None,
            )
        return max(seq, participant.last_read_seq)


def typing_notify(*, session_id: int, user: User) -> None:
    """Tell the others in the chat that ``user`` is typing (nothing stored).

    Only a participant in the room of an active chat may; a supervisor who
    watches is refused, an outsider is told the chat does not exist."""
    participant = (
        Participant.objects.select_related("session")
        .filter(session_id=session_id, user=user)
        .first()
    )
    if participant is None or participant.role not in READER_ROLES:
        selectors.session_for(user, session_id)  # ChatNotFound for outsiders
        raise ChatForbidden("Only people in the chat can type in it.", code="not_participant")
    if not participant.in_room:
        raise InvalidState("You have left this chat.", code="not_in_room")
    if participant.session.status != SessionStatus.ACTIVE:
        raise InvalidState("This chat is not open for messages.", code="chat_not_active")
    broadcasts.typing_started(session_id=session_id, user=user)
