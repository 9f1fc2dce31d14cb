"""Every write of live chat.

Each service is one transaction: it locks or conditionally updates the session,
checks the current state, records the transition as a ``SessionEvent``, writes
messages before anything is broadcast, and schedules broadcasts (and Celery
tasks) with ``transaction.on_commit`` so nobody hears of a change that rolled
back.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from chat import events, message_sql, routing, selectors, visitors
from chat.errors import (
    AlreadyAnswered,
    AtCapacity,
    ChatForbidden,
    ChatNotAllowed,
    ChatNotFound,
    ChatUnavailable,
    ClientOffline,
    InvalidState,
    MessageInvalid,
)
from chat.models import (
    OPEN_STATUSES,
    ChatAttachment,
    ChatKind,
    ChatSession,
    Message,
    MessageKind,
    Participant,
    ParticipantRole,
    SessionEvent,
    SessionStatus,
)
from chat.permissions import chat_allowed_for_user
from chat.receipts import participant_mark_read  # noqa: F401 - callers use services.*
from officehours import services as officehours
from tickets import services as ticket_services
from tickets.models import Ticket, TicketNote, TicketStatus

SUBJECT_MAX = 200


def _now():  # type: ignore[no-untyped-def]
    return timezone.now()


def _after(now, seconds: int):  # type: ignore[no-untyped-def]
    return now + timedelta(seconds=seconds)


def _lock(session_id: int) -> ChatSession:
    """The session row, locked until the transaction ends (PostgreSQL); on
    SQLite the IMMEDIATE transaction already serializes writers."""
    try:
        return (
            ChatSession.objects.select_for_update(of=("self",))
            .select_related("contact__company", "client", "ticket")
            .get(pk=session_id)
        )
    except ChatSession.DoesNotExist as exc:
        raise ChatNotFound("That chat does not exist.") from exc


def _record(
    session: ChatSession, *, old: str, new: str, actor: User | None, reason: str = ""
) -> SessionEvent:
    return SessionEvent.objects.create(
        session=session,
        old_status=old,
        new_status=new,
        actor=actor,
        reason=reason[:500],
        at=_now(),
    )


def _append(
    session: ChatSession,
    *,
    author: User | None,
    body: str,
    kind: str = MessageKind.TEXT,
    client_id: uuid.UUID | None = None,
    attachment: ChatAttachment | None = None,
) -> Message:
    """Give the next seq to a new message. The caller holds the session lock.
    ``attachment``: the file of a ``file`` message (chat.attachments)."""
    now = _now()
    session.last_seq += 1
    session.last_activity_at = now
    changes: dict[str, object] = {"last_seq": session.last_seq, "last_activity_at": now}
    if session.status == SessionStatus.ACTIVE:
        # Any message restarts the inactivity clock in the same locked row, so
        # the inactivity sweep cannot act on a chat that just had one.
        changes["inactivity_due_at"] = _after(now, settings.INACTIVITY_SECONDS)
        changes["inactive_at"] = None
        session.inactive_at = None
    ChatSession.objects.filter(pk=session.pk).update(**changes)
    message = Message.objects.create(
        session=session,
        seq=session.last_seq,
        client_id=client_id or uuid.uuid4(),
        author=author,
        kind=kind,
        body=body,
        created_at=now,
        attachment=attachment,
    )
    events.message_created(message)
    return message


def _system_line(session: ChatSession, body: str, *, author: User | None = None) -> Message:
    return _append(session, author=author, body=body, kind=MessageKind.SYSTEM)


def _participant(session: ChatSession, user: User) -> Participant | None:
    return Participant.objects.filter(session=session, user=user).first()


def _require_agent(user: User) -> None:
    if not user.is_authenticated or not user.is_agent:
        raise ChatForbidden("Only staff can do this.")


def _require_client(user: User) -> None:
    if not user.is_authenticated or not user.is_client or getattr(user, "contact", None) is None:
        raise ChatForbidden("Only a client with a portal contact can do this.")


# --- Requests -------------------------------------------------------------------


# What a blocked client (or anyone at a blocked address) is told: nothing
# about the block, so it reads like any other moment without chat.
UNAVAILABLE_MESSAGE = (
    "Chat is not available right now. Please create a ticket and we will get back to you."
)


def session_request(
    *,
    client: User,
    kind: str,
    ticket_id: int | None = None,
    subject: str = "",
    client_ip: str | None = None,
    visit: visitors.Visit | None = None,
) -> ChatSession:
    """A client asks to chat. Post-ticket requests name one of the client's own
    tickets; pre-ticket requests give a subject. Asking again while a chat on
    the same ticket is still open returns that chat instead of a second one.
    ``client_ip`` (chat.client_ip) is recorded on the chat and checked
    against IP blocks (chat.blocks); ``visit`` (user agent, landing page,
    first visit) is recorded for staff (chat.visitors)."""
    _require_client(client)
    if not chat_allowed_for_user(client):
        raise ChatNotAllowed("Chat is not available for your account. Please create a ticket.")
    if selectors.client_blocked(client=client, ip_address=client_ip):
        raise ChatUnavailable(UNAVAILABLE_MESSAGE)
    contact = client.contact
    subject = subject.strip()
    ticket: Ticket | None = None
    if kind == ChatKind.POST_TICKET:
        ticket = Ticket.objects.filter(pk=ticket_id, contact=contact).first()
        if ticket is None:
            raise ChatNotFound("That ticket does not exist.")
        if ticket.status == TicketStatus.CLOSED:
            raise InvalidState("This ticket is closed; create a new ticket to chat about it.")
        subject = ticket.subject
    elif kind == ChatKind.PRE_TICKET:
        if not subject:
            raise MessageInvalid("Tell us what the chat is about.", code="subject_required")
        if len(subject) > SUBJECT_MAX:
            raise MessageInvalid(
                f"The subject may be at most {SUBJECT_MAX} characters.", code="subject_too_long"
            )
    else:
        raise MessageInvalid("Unknown kind of chat request.", code="invalid_kind")

    with transaction.atomic():
        if ticket is not None:
            existing = (
                ChatSession.objects.select_for_update(of=("self",))
                .filter(ticket=ticket, client=client, status__in=OPEN_STATUSES)
                .first()
            )
            if existing is not None:
                _rejoin_room(existing, client)
                return existing
        now = _now()
        # Outside office hours nobody is paged: the request is recorded for
        # follow-up (an abandoned card) and the client is told when we open.
        closed = not officehours.is_open(now)
        session = ChatSession.objects.create(
            kind=kind,
            status=SessionStatus.ABANDONED if closed else SessionStatus.WAITING,
            ticket=ticket,
            contact=contact,
            client=client,
            queue=routing.queue_for_company(contact.company_id),
            subject=subject,
            client_ip=client_ip,
            requested_at=now,
            last_activity_at=now,
            outside_hours=closed,
            ended_at=now if closed else None,
            warning_due_at=None if closed else _after(now, settings.QUEUE_WARNING_SECONDS),
            no_answer_due_at=None if closed else _after(now, settings.NO_ANSWER_SECONDS),
        )
        Participant.objects.create(
            session=session, user=client, role=ParticipantRole.CLIENT, joined_at=now
        )
        visitors.visit_record(session=session, visit=visit)
        _record(session, old="", new=SessionStatus.WAITING, actor=client, reason="requested")
        _system_line(session, f"{client.display_name} requested a chat.")
        if closed:
            _record(
                session,
                old=SessionStatus.WAITING,
                new=SessionStatus.ABANDONED,
                actor=None,
                reason="outside office hours",
            )
            _system_line(session, closed_line(now))
            events.session_outside_hours(session)
        else:
            events.session_requested(session)
        return session


def closed_line(now):  # type: ignore[no-untyped-def]
    """What a client is told when it asks to chat outside office hours."""
    opening = ""
    if officehours.next_opening(now) is not None:
        opening = f" We open again {officehours.describe_next_opening(now)}."
    return f"Support is closed right now.{opening} Leave a note and we will get back to you."


def _rejoin_room(session: ChatSession, user: User) -> None:
    """A participant who left an open chat comes back into the room."""
    updated = Participant.objects.filter(session=session, user=user, left_at__isnull=False).update(
        left_at=None
    )
    if updated:
        _system_line(_lock(session.pk), f"{user.display_name} rejoined the chat.")
        events.session_changed(session.pk)


def session_join(*, session_id: int, agent: User) -> ChatSession:
    """An agent answers a waiting request. Exactly one agent wins: the status
    moves waiting -> active with a conditional UPDATE, and whoever updates no
    row is told the request was taken."""
    _require_agent(agent)
    with transaction.atomic():
        now = _now()
        won = ChatSession.objects.filter(pk=session_id, status=SessionStatus.WAITING).update(
            status=SessionStatus.ACTIVE,
            answered_at=now,
            last_activity_at=now,
            inactivity_due_at=_after(now, settings.INACTIVITY_SECONDS),
        )
        session = _lock(session_id)
        if not won:
            # An agent invited into the chat (chat/invites.py) may join it
            # although it was answered; anyone else is too late.
            from chat.invites import invitation_accept

            if invitation_accept(session=session, agent=agent):
                return session
            participant = _participant(session, agent)
            if session.status == SessionStatus.ACTIVE and participant is not None:
                if participant.transferred_away:
                    # Handed over: back only by an invitation or another transfer.
                    raise AlreadyAnswered("This chat was handed to another agent.")
                # Pressing Join again (another tab): back in the room, no new event.
                if not participant.in_room:
                    _check_capacity(agent, exclude_session_id=session.pk)
                    _rejoin_room(session, agent)
                return session
            if session.status == SessionStatus.ACTIVE:
                raise AlreadyAnswered("Another agent has already taken this chat.")
            raise InvalidState(f"This chat can no longer be joined (it is {session.status}).")
        # After winning the session row (session first, then agent: the order
        # every caller of _check_capacity keeps, so none can deadlock another);
        # a refusal rolls the win back and the request stays in the queue.
        _check_capacity(agent, exclude_session_id=session.pk)
        Participant.objects.create(
            session=session, user=agent, role=ParticipantRole.AGENT, joined_at=now
        )
        _record(
            session,
            old=SessionStatus.WAITING,
            new=SessionStatus.ACTIVE,
            actor=agent,
            reason="answered",
        )
        _system_line(session, f"{agent.display_name} joined the chat.")
        events.session_answered(session, agent)
        return session


def _check_capacity(agent: User, *, exclude_session_id: int | None = None) -> None:
    """Refuse with AtCapacity if ``agent`` is already in MAX_CHATS_PER_AGENT
    live chats (active, or pushed and waiting for the client), not counting
    ``exclude_session_id``. Call it inside the transaction that adds the agent
    to a chat (join, invitation, push, transfer), after locking that chat.

    It locks the agent's user row first, so two chats joined at once by the
    same agent are counted one after the other: the second count runs once
    the first join has committed (PostgreSQL; on SQLite the IMMEDIATE
    transaction already serializes writers). FOR NO KEY UPDATE does not hold
    up inserts that merely reference the user (messages, connections)."""
    list(User.objects.select_for_update(no_key=True).filter(pk=agent.pk).values_list("pk"))
    live = selectors.live_places().filter(user=agent)
    if exclude_session_id is not None:
        live = live.exclude(session_id=exclude_session_id)
    limit = settings.MAX_CHATS_PER_AGENT
    if live.count() >= limit:
        raise AtCapacity(
            f"You are already in {limit} live chats, the most one agent may have. "
            "End or leave one before taking another."
        )


# --- Messages -----------------------------------------------------------------


@dataclass(frozen=True)
class SendResult:
    message: Message
    created: bool
    # The message as broadcast (chat.payloads.message_payload), when this call
    # built it: the sender's ack reuses it.
    payload: dict[str, Any] | None = None


def message_send(
    *,
    session_id: int,
    author: User,
    client_id: str | uuid.UUID,
    body: str,
    origin_channel: str | None = None,
) -> SendResult:
    """Store a message, then broadcast it. A resend with a ``client_id`` already
    stored returns the stored message and creates nothing, whatever the state
    of the chat now (the first send was acknowledged or is about to be).
    ``origin_channel``: the socket it came from, which is answered with the
    message and so is left out of the broadcast."""
    try:
        client_uuid = client_id if isinstance(client_id, uuid.UUID) else uuid.UUID(str(client_id))
    except ValueError as exc:
        raise MessageInvalid("client_id must be a UUID.", code="invalid_client_id") from exc
    body = (body or "").strip()
    if not body:
        raise MessageInvalid("A message cannot be empty.", code="message_empty")
    limit = settings.CHAT_MESSAGE_MAX_CHARS
    if len(body) > limit:
        raise MessageInvalid(
            f"A message may be at most {limit:,} characters.", code="message_too_long"
        )
    now = _now()
    # The hot path of chat: its SQL is written out in chat.message_sql
    # (docs/performance.md, chat benchmark, findings 5, 14 and 16).
    if message_sql.sends_in_one_statement():
        # PostgreSQL: one statement, its own transaction (or part of the
        # caller's), the session row locked while it runs.
        sent = message_sql.send_text_message(
            session_id=session_id,
            author_id=author.pk,
            client_id=client_uuid,
            body=body,
            created_at=now,
            inactivity_due_at=_after(now, settings.INACTIVITY_SECONDS),
        )
        if sent is None:
            raise ChatNotFound("That chat does not exist.")
        place, message_id = sent
        if message_id is None:
            return _not_sent(session_id, client_uuid, place)
        return _sent(session_id, place, message_id, author, client_uuid, body, now, origin_channel)
    place, message_id = _store_on_sqlite(session_id, author, client_uuid, body, now)
    if message_id is None:
        return _not_sent(session_id, client_uuid, place)
    # The payload is built once the write lock is free again: the other
    # writers (every daphne process's sends) wait for it.
    return _sent(session_id, place, message_id, author, client_uuid, body, now, origin_channel)


def _store_on_sqlite(
    session_id: int, author: User, client_id: uuid.UUID, body: str, now: datetime
) -> tuple[message_sql.Participation, int | None]:
    """SQLite: the four statements in one IMMEDIATE transaction, which
    serializes writers. The new message's id, or None when nothing was stored
    (the chat is not open to the author, or has ``client_id`` already)."""
    with transaction.atomic():
        # The author's participation and the chat's state first.
        place = message_sql.lock_participation(session_id, author.pk)
        if place is None:
            raise ChatNotFound("That chat does not exist.")
        if place.status != SessionStatus.ACTIVE or not place.in_room:
            return place, None
        # A resend is rare: rather than look for its client_id on every send,
        # the insert skips a client_id the chat already has, and the seq it
        # would have taken stays free (nothing else was written yet).
        message_id = message_sql.insert_text_message(
            session_id=session_id,
            seq=place.last_seq + 1,
            client_id=client_id,
            author_id=author.pk,
            body=body,
            created_at=now,
        )
        if message_id is None:
            return place, None
        # As _append does for every other line: any message restarts the
        # inactivity clock in the same locked row, so the inactivity sweep
        # cannot act on a chat that just had one.
        message_sql.advance_session(
            session_id=session_id,
            seq=place.last_seq + 1,
            activity_at=now,
            inactivity_due_at=_after(now, settings.INACTIVITY_SECONDS),
        )
        # What one sends one has read.
        message_sql.mark_read_up_to(participant_id=place.participant_id, seq=place.last_seq + 1)
        return place, message_id


def _sent(
    session_id: int,
    place: message_sql.Participation,
    message_id: int,
    author: User,
    client_id: uuid.UUID,
    body: str,
    now: datetime,
    origin_channel: str | None,
) -> SendResult:
    """The message just stored (as the row reads), broadcast after commit."""
    message = Message(
        id=message_id,
        session_id=session_id,
        seq=place.last_seq + 1,
        client_id=client_id,
        author=author,
        kind=MessageKind.TEXT,
        body=body,
        created_at=now,
    )
    message._state.adding = False
    message._state.db = transaction.get_connection().alias
    payload = events.message_created(message, except_channel=origin_channel)
    return SendResult(message, True, payload)


def _not_sent(
    session_id: int, client_id: uuid.UUID, place: message_sql.Participation
) -> SendResult:
    """Nothing was stored. A resend of a message stored earlier (even before
    the chat ended or the author left) is answered with the stored message;
    otherwise the chat is not open to this author."""
    stored = _stored_message(session_id, client_id)
    if stored is not None:
        return SendResult(stored, False)
    if place.status != SessionStatus.ACTIVE:
        raise InvalidState(
            "This chat has ended; messages can no longer be sent."
            if place.status in (SessionStatus.ENDED, SessionStatus.CLOSED)
            else "Messages can be sent once an agent has joined."
        )
    if not place.in_room:
        raise InvalidState("You have left this chat.", code="not_in_room")
    # Not reached: the insert skips only a client_id the chat has, and
    # messages are never deleted on their own.
    raise InvalidState("The message could not be stored; send it again.")


def _stored_message(session_id: int, client_id: uuid.UUID) -> Message | None:
    return (
        Message.objects.select_related("author")
        .filter(session_id=session_id, client_id=client_id)
        .first()
    )


# --- End and leave ----------------------------------------------------------------


class EndOutcome:
    ATTACH = "attach"  # post-ticket and push: transcript onto the ticket
    CREATE_TICKET = "create_ticket"  # pre-ticket: new ticket with the transcript
    CLOSE = "close"  # pre-ticket: no ticket, a reason is required


def session_end(
    *,
    session_id: int,
    agent: User,
    outcome: str = EndOutcome.ATTACH,
    subject: str = "",
    reason: str = "",
) -> ChatSession:
    with transaction.atomic():
        session = _lock(session_id)
        if agent.is_client:
            _check_client_may_end(session, agent)
            outcome = EndOutcome.ATTACH if session.ticket_id else EndOutcome.CLOSE
            reason = reason or "ended by the client after a period without activity"
        else:
            _require_agent(agent)
        if session.status != SessionStatus.ACTIVE:
            raise InvalidState(f"Only an active chat can be ended (this one is {session.status}).")
        participant = _participant(session, agent)
        if not agent.is_supervisor and (participant is None or not participant.in_room):
            # Only who is in the chat ends it (not an agent who left or was
            # transferred away).
            raise ChatNotFound("That chat does not exist.")
        reason = reason.strip()
        if session.kind == ChatKind.PRE_TICKET:
            if outcome == EndOutcome.CREATE_TICKET:
                subject = (subject or session.subject).strip()
                ticket = ticket_services.ticket_create(
                    subject=subject,
                    description=f"Created from chat {session.pk}.",
                    company=session.contact.company,
                    contact=session.contact,
                )
                session.ticket = ticket
            elif outcome == EndOutcome.CLOSE:
                if not reason:
                    raise MessageInvalid(
                        "Say why the chat is closed without a ticket.", code="reason_required"
                    )
            else:
                raise MessageInvalid(
                    "Choose Create ticket or Close without ticket.", code="invalid_outcome"
                )
        elif outcome not in (EndOutcome.ATTACH, ""):
            raise MessageInvalid("This chat is ended onto its ticket.", code="invalid_outcome")
        now = _now()
        session.status = SessionStatus.ENDED
        session.ended_at = now
        session.ended_by = agent
        session.end_reason = reason
        session.save(update_fields=["status", "ended_at", "ended_by", "end_reason", "ticket"])
        _record(
            session,
            old=SessionStatus.ACTIVE,
            new=SessionStatus.ENDED,
            actor=agent,
            reason=reason or outcome,
        )
        _system_line(session, f"{agent.display_name} ended the chat.", author=agent)
        events.session_ended(session)
        return session


def _check_client_may_end(session: ChatSession, client: User) -> None:
    """Clients end a live chat only after INACTIVITY_SECONDS without a message
    (computed here, not only from the sweep's flag, so it is on time)."""
    if session.client_id != client.pk:
        raise ChatNotFound("That chat does not exist.")
    if session.status != SessionStatus.ACTIVE:
        raise InvalidState(f"Only an active chat can be ended (this one is {session.status}).")
    quiet_since = _now() - timedelta(seconds=settings.INACTIVITY_SECONDS)
    if session.inactive_at is None and session.last_activity_at > quiet_since:
        raise ChatForbidden(
            "The engineer ends the chat. You can end it yourself after "
            f"{_duration(settings.INACTIVITY_SECONDS)} without messages.",
            code="end_not_allowed",
        )


def _duration(seconds: int) -> str:
    if seconds % 3600 == 0:
        hours = seconds // 3600
        return "an hour" if hours == 1 else f"{hours} hours"
    if seconds % 60 == 0:
        minutes = seconds // 60
        return "a minute" if minutes == 1 else f"{minutes} minutes"
    return f"{seconds} seconds"


def session_leave(*, session_id: int, user: User) -> ChatSession:
    """Leave the room. A client leaving an unanswered request abandons it; an
    agent may leave an active chat only while another agent stays in it."""
    with transaction.atomic():
        session = _lock(session_id)
        participant = _participant(session, user)
        if participant is None:
            raise ChatNotFound("That chat does not exist.")
        if not participant.in_room:
            return session
        now = _now()
        if session.status == SessionStatus.WAITING and participant.role == ParticipantRole.CLIENT:
            ChatSession.objects.filter(pk=session.pk).update(
                status=SessionStatus.ABANDONED, ended_at=now
            )
            _record(
                session,
                old=SessionStatus.WAITING,
                new=SessionStatus.ABANDONED,
                actor=user,
                reason="client left before an agent answered",
            )
            session.status = SessionStatus.ABANDONED
            session.ended_at = now
        elif session.status == SessionStatus.ACTIVE and participant.role == ParticipantRole.AGENT:
            others = Participant.objects.filter(
                session=session, role=ParticipantRole.AGENT, left_at__isnull=True
            ).exclude(pk=participant.pk)
            if not others.exists():
                raise InvalidState("End the chat before leaving it.", code="end_first")
        Participant.objects.filter(pk=participant.pk).update(left_at=now)
        _system_line(session, f"{user.display_name} left the chat.")
        events.session_left(session, user)
        return session


# --- Push chat -------------------------------------------------------------------


def session_push(*, ticket_id: int, agent: User) -> ChatSession:
    """An agent invites the ticket's contact to chat. Only while the contact is
    online in the portal; the client must accept or decline."""
    from presence.selectors import is_online

    _require_agent(agent)
    ticket = (
        Ticket.objects.select_related("contact__user", "contact__company")
        .filter(pk=ticket_id)
        .first()
    )
    if ticket is None:
        raise ChatNotFound("That ticket does not exist.")
    contact = ticket.contact
    client = contact.user if contact else None
    if client is None or not client.is_active:
        raise ClientOffline("This ticket's contact has no portal login.")
    if not is_online(user=client):
        raise ClientOffline(f"{client.display_name} is not online in the portal right now.")
    with transaction.atomic():
        open_session = (
            ChatSession.objects.select_for_update(of=("self",))
            .filter(ticket=ticket, client=client, status__in=OPEN_STATUSES)
            .first()
        )
        if open_session is not None:
            raise InvalidState(
                "There is already an open chat on this ticket.", code="chat_already_open"
            )
        _check_capacity(agent)
        now = _now()
        session = ChatSession.objects.create(
            kind=ChatKind.PUSH,
            status=SessionStatus.INVITED,
            ticket=ticket,
            contact=contact,
            client=client,
            queue=routing.queue_for_company(contact.company_id),
            subject=ticket.subject,
            requested_at=now,
            last_activity_at=now,
        )
        Participant.objects.create(
            session=session, user=agent, role=ParticipantRole.AGENT, joined_at=now
        )
        _record(session, old="", new=SessionStatus.INVITED, actor=agent, reason="pushed")
        _system_line(session, f"{agent.display_name} invited {client.display_name} to chat.")
        events.session_invited(session, agent)
        return session


def push_answer(
    *, session_id: int, client: User, accept: bool, visit: visitors.Visit | None = None
) -> ChatSession:
    """The client accepts or declines a pushed chat; accepting records its
    ``visit`` (chat.visitors) as a request does."""
    with transaction.atomic():
        session = _lock(session_id)
        if session.client_id != client.pk:
            raise ChatNotFound("That chat does not exist.")
        if session.status != SessionStatus.INVITED:
            raise InvalidState("This chat invitation is no longer open.")
        now = _now()
        if accept:
            session.status = SessionStatus.ACTIVE
            session.answered_at = now
            session.inactivity_due_at = _after(now, settings.INACTIVITY_SECONDS)
            session.save(update_fields=["status", "answered_at", "inactivity_due_at"])
            Participant.objects.update_or_create(
                session=session,
                user=client,
                defaults={"role": ParticipantRole.CLIENT, "joined_at": now, "left_at": None},
            )
            visitors.visit_record(session=session, visit=visit)
            _record(
                session,
                old=SessionStatus.INVITED,
                new=SessionStatus.ACTIVE,
                actor=client,
                reason="accepted",
            )
            _system_line(session, f"{client.display_name} joined the chat.")
        else:
            session.status = SessionStatus.DECLINED
            session.ended_at = now
            session.save(update_fields=["status", "ended_at"])
            _record(
                session,
                old=SessionStatus.INVITED,
                new=SessionStatus.DECLINED,
                actor=client,
                reason="declined",
            )
            _system_line(session, f"{client.display_name} declined the chat.")
            Participant.objects.filter(session=session, left_at__isnull=True).update(left_at=now)
        events.push_answered(session, accepted=accept)
        return session


# --- Transcript ------------------------------------------------------------------


def transcript_attach(*, session_id: int) -> bool:
    """Attach the transcript of an ended chat to its ticket, with a note.
    Idempotent: the file is keyed on the session, so a retried or repeated
    task leaves one file and one note. Returns True if it attached now."""
    from chat.transcripts import transcript_filename, transcript_text

    with transaction.atomic():
        session = _lock(session_id)
        if session.ticket is None or session.status not in (
            SessionStatus.ENDED,
            SessionStatus.CLOSED,
        ):
            return False
        attachment, created = ticket_services.system_attachment_add(
            ticket=session.ticket,
            name=transcript_filename(session),
            content=transcript_text(session).encode("utf-8"),
            content_type="text/plain",
            source_key=f"chat-transcript-{session.pk}",
        )
        if created:
            note = TicketNote.objects.create(
                ticket=session.ticket,
                author=session.ended_by,
                body=(
                    f"Chat {session.pk} ended; the transcript is attached as "
                    f"{attachment.original_name}."
                ),
                is_internal=False,
            )
            attachment.note = note
            attachment.save(update_fields=["note"])
            Ticket.objects.filter(pk=session.ticket_id).update(updated_at=_now())
        return created
