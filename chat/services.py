"""The lifecycle of a chat as its people drive it: a client requests (or is
pushed) a chat, an agent joins it, both send messages, an agent ends it, each
side leaves.

Each service is one transaction: it locks the session, checks the current
state and who is asking, changes the status through the lifecycle kernel
(chat.lifecycle: the transition table, the recorded event, the system line),
writes messages through the one message writer (chat.messages), and has
chat.broadcasts tell the browsers, and Celery start the transcript tasks,
once the transaction commits.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts.models import Contact, User
from accounts.time_zones import format_in
from chat import broadcasts, lifecycle, messages, queues, selectors, tasks, whatsapp_window
from chat.access import require_agent, require_client, require_queue_member
from chat.capacity import check_capacity
from chat.enqueue import enqueue_on_commit
from chat.errors import (
    AlreadyAnswered,
    ChatForbidden,
    ChatNotAllowed,
    ChatNotFound,
    ChatUnavailable,
    ClientOffline,
    InvalidState,
    MessageInvalid,
    WindowClosed,
)
from chat.messages import SendResult
from chat.models import (
    OPEN_STATUSES,
    Channel,
    ChatInvitation,
    ChatKind,
    ChatSession,
    DeliveryStatus,
    Message,
    Participant,
    ParticipantRole,
    SessionStatus,
)
from chat.permissions import chat_allowed_for_user
from chat.visitors.recording import Visit, visit_record
from officehours import services as officehours
from presence.selectors import is_online
from tickets import services as ticket_services
from tickets.models import Ticket, TicketStatus

SUBJECT_MAX = 200

# What a blocked client (or anyone at a blocked address) is told: nothing
# about the block, so it reads like any other moment without chat.
UNAVAILABLE_MESSAGE = (
    "Chat is not available right now. Please create a ticket and we will get back to you."
)


# --- Requests -------------------------------------------------------------------


def session_request(
    *,
    client: User,
    kind: str,
    ticket_id: int | None = None,
    subject: str = "",
    client_ip: str | None = None,
    visit: Visit | None = None,
) -> ChatSession:
    """A client asks to chat. Post-ticket requests name one of the client's own
    tickets; pre-ticket requests give a subject. Asking again while a chat on
    the same ticket is still open returns that chat instead of a second one,
    also on a closed ticket (an agent reached the client about it: Message
    customer), where no new chat starts.
    ``client_ip`` (realtime.client_ip) is recorded on the chat and checked
    against IP blocks (chat.agent_tools.blocks); ``visit`` (user agent, landing
    page, first visit) is recorded for staff (chat.visitors)."""
    _require_client_may_chat(client, client_ip)
    contact = client.contact
    subject = subject.strip()
    ticket: Ticket | None = None
    if kind == ChatKind.POST_TICKET:
        ticket = Ticket.objects.filter(pk=ticket_id, contact=contact).first()
        if ticket is None:
            raise ChatNotFound("That ticket does not exist.")
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
                _enter_room(existing, client)
                return existing
            if ticket.status == TicketStatus.CLOSED:
                # Only a chat an agent started on it (Message customer) is
                # joined on a closed ticket; the client starts none there.
                raise InvalidState("This ticket is closed; create a new ticket to chat about it.")
        session = _open_request(
            client=client,
            contact=contact,
            kind=kind,
            ticket=ticket,
            subject=subject,
            channel=Channel.WEB,
            client_ip=client_ip,
        )
        visit_record(session=session, visit=visit)
        return session


def phone_request(
    *, client: User, contact: Contact | None, channel: str, address: str, subject: str
) -> ChatSession:
    """A client writes by SMS or WhatsApp with no chat open (chat.inbound has
    found who it is and checked that it may chat, in its transaction): a
    pre-ticket request like the portal's, paged to its company's queue (an
    unknown number's goes to the default queue), or recorded for follow-up
    when the helpdesk is closed. ``client`` is the number's PhoneClient user,
    ``address`` the number."""
    return _open_request(
        client=client,
        contact=contact,
        kind=ChatKind.PRE_TICKET,
        ticket=None,
        subject=subject,
        channel=channel,
        client_address=address,
    )


def _open_request(
    *,
    client: User,
    contact: Contact | None,
    kind: str,
    ticket: Ticket | None,
    subject: str,
    channel: str,
    client_ip: str | None = None,
    client_address: str = "",
) -> ChatSession:
    """A new request, whichever channel it came on: paged to the queue of the
    contact's company, or, outside office hours, recorded for follow-up."""
    now = timezone.now()
    # Outside office hours nobody is paged: the request is recorded for
    # follow-up (an abandoned card) and the client is told when we open.
    closed = not officehours.is_open(now)
    warning_due = now + timedelta(seconds=settings.QUEUE_WARNING_SECONDS)
    no_answer_due = now + timedelta(seconds=settings.NO_ANSWER_SECONDS)
    session = lifecycle.start(
        status=SessionStatus.WAITING,
        actor=client,
        reason="requested",
        line=f"{client.display_name} requested a chat.",
        kind=kind,
        channel=channel,
        ticket=ticket,
        contact=contact,
        client=client,
        queue=queues.queue_for_company(contact.company_id if contact else None),
        subject=subject,
        client_ip=client_ip,
        client_address=client_address,
        requested_at=now,
        last_activity_at=now,
        outside_hours=closed,
        warning_due_at=None if closed else warning_due,
        no_answer_due_at=None if closed else no_answer_due,
    )
    Participant.objects.create(
        session=session, user=client, role=ParticipantRole.CLIENT, joined_at=now
    )
    if closed:
        lifecycle.move(
            session,
            SessionStatus.ABANDONED,
            actor=None,
            reason="outside office hours",
            changes={"ended_at": now},
            # A phone's client is told by an auto-reply instead (chat.inbound).
            line=closed_line(now) if channel == Channel.WEB else None,
        )
        broadcasts.session_outside_hours(selectors.session_payloads_of([session.pk])[0])
    else:
        payload = selectors.session_payload_of(session.pk)
        broadcasts.session_requested(
            payload, paged_agent_ids=selectors.available_agent_ids(queue_id=session.queue_id)
        )
    return session


def _require_client_may_chat(client: User, client_ip: str | None) -> None:
    """A portal client whose account has chat and whom no block stops
    (requesting a chat and entering one alike)."""
    require_client(client)
    if not chat_allowed_for_user(client):
        raise ChatNotAllowed("Chat is not available for your account. Please create a ticket.")
    if selectors.client_blocked(client=client, ip_address=client_ip):
        raise ChatUnavailable(UNAVAILABLE_MESSAGE)


def closed_line(now: datetime) -> str:
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
        messages.system_line(lifecycle.lock(session.pk), f"{user.display_name} rejoined the chat.")
        broadcasts.session_changed(selectors.session_payload_of(session.pk))


def session_enter(*, session_id: int, client: User, client_ip: str | None = None) -> ChatSession:
    """The client joins a chat an agent started for it by email (Message
    customer; the portal's home lists it with Join chat), or goes back into
    one it left. Only its own chat, while it is live, and only while the
    client may chat."""
    _require_client_may_chat(client, client_ip)
    with transaction.atomic():
        # Filtered by its owner: another client's chat is neither read nor locked.
        session = lifecycle.lock(session_id, client=client, channel=Channel.WEB)
        if session.status in (SessionStatus.INVITED, SessionStatus.WAITING):
            raise InvalidState("This chat has not started yet.")
        if session.status != SessionStatus.ACTIVE:
            raise InvalidState("This chat has ended.")
        _enter_room(session, client)
        return session


def _enter_room(session: ChatSession, client: User) -> None:
    """The client asks to chat on a ticket that has a chat open: back into
    the room if it left it, or in for the first time when an agent started
    the chat by messaging it (chat.reach_out: Message customer by email)."""
    if Participant.objects.filter(session=session, user=client).exists():
        _rejoin_room(session, client)
        return
    Participant.objects.create(
        session=session, user=client, role=ParticipantRole.CLIENT, joined_at=timezone.now()
    )
    messages.system_line(lifecycle.lock(session.pk), f"{client.display_name} joined the chat.")
    broadcasts.session_changed(selectors.session_payload_of(session.pk))


# --- Joining ----------------------------------------------------------------------


def session_join(*, session_id: int, agent: User) -> ChatSession:
    """An agent answers a waiting request. Only a member of the request's
    queue or a supervisor may (chat.queues). Exactly one agent wins: the
    session is locked and moves waiting -> active; whoever comes next finds it
    taken. A chat on a ticket nobody is assigned to makes the agent its
    assignee. An agent invited into an answered chat (chat.agent_tools.invites)
    joins it the same way, whatever its queues: it was asked in by name."""
    require_agent(agent)
    with transaction.atomic():
        session = lifecycle.lock(session_id)
        now = timezone.now()
        if session.status != SessionStatus.WAITING:
            _join_answered(session, agent)
            return session
        require_queue_member(agent, session)
        # Under the lock: the first agent here moves the request; whoever
        # waited for the lock behind it finds it answered above.
        lifecycle.move(
            session,
            SessionStatus.ACTIVE,
            actor=agent,
            reason="answered",
            changes={
                "answered_at": now,
                "last_activity_at": now,
                "inactivity_due_at": messages.inactivity_deadline(now),
            },
        )
        # After winning the session row; a refusal rolls the win back and the
        # request stays in the queue.
        check_capacity(agent, exclude_session_id=session.pk)
        Participant.objects.create(
            session=session, user=agent, role=ParticipantRole.AGENT, joined_at=now
        )
        messages.system_line(session, f"{agent.display_name} joined the chat.")
        if session.ticket_id is not None:
            # Who answers a chat on a ticket nobody has takes the ticket
            # (the consoles hear it: tickets.events).
            ticket_services.ticket_take_if_unassigned(ticket_id=session.ticket_id, agent=agent)
        broadcasts.session_answered(selectors.session_payload_of(session.pk), agent=agent)
        return session


def _join_answered(session: ChatSession, agent: User) -> None:
    """Join pressed on a chat that is no longer waiting: in by an invitation,
    back in the room (another tab), or too late."""
    if _accept_invitation(session, agent):
        return
    participant = selectors.participant_of(session, agent)
    if session.status == SessionStatus.ACTIVE and participant is not None:
        if participant.transferred_away:
            # Handed over: back only by an invitation or another transfer.
            raise AlreadyAnswered("This chat was handed to another agent.")
        # Pressing Join again (another tab): back in the room, no new event.
        if not participant.in_room:
            check_capacity(agent, exclude_session_id=session.pk)
            _rejoin_room(session, agent)
        return
    if session.status == SessionStatus.ACTIVE:
        raise AlreadyAnswered("Another agent has already taken this chat.")
    raise InvalidState(f"This chat can no longer be joined (it is {session.status}).")


def _accept_invitation(session: ChatSession, agent: User) -> bool:
    """Let an invited agent into an active chat (``session`` is locked).
    False when ``agent`` has no open invitation to it."""
    if session.status != SessionStatus.ACTIVE:
        return False
    invitation = (
        ChatInvitation.objects.select_related("invited_by")
        .filter(session=session, invitee=agent, accepted_at__isnull=True)
        .first()
    )
    if invitation is None:
        return False
    participant = selectors.participant_of(session, agent)
    if participant is not None and participant.in_room:
        # Already back in the room some other way: nothing left to accept.
        ChatInvitation.objects.filter(pk=invitation.pk).update(accepted_at=timezone.now())
        return True
    # The capacity rule applies to an invited join as to any other; the
    # session is locked already (its order).
    check_capacity(agent, exclude_session_id=session.pk)
    now = timezone.now()
    # Conditional: a second tab pressing Join at the same moment finds it taken.
    if not ChatInvitation.objects.filter(pk=invitation.pk, accepted_at__isnull=True).update(
        accepted_at=now
    ):
        return False
    if participant is None:
        Participant.objects.create(
            session=session, user=agent, role=ParticipantRole.AGENT, joined_at=now
        )
    else:
        Participant.objects.filter(pk=participant.pk).update(left_at=None, transferred_away=False)
    inviter = invitation.invited_by.display_name if invitation.invited_by else "a colleague"
    lifecycle.record(session, actor=agent, reason=f"joined on invitation from {inviter}")
    messages.system_line(session, f"{agent.display_name} joined the chat.")
    broadcasts.invitation_accepted(selectors.session_payload_of(session.pk), agent_id=agent.pk)
    return True


# --- Messages -----------------------------------------------------------------


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
    client_uuid = messages.client_uuid(client_id)
    body = (body or "").strip()
    if not body:
        raise MessageInvalid("A message cannot be empty.", code="message_empty")
    limit = settings.CHAT_MESSAGE_MAX_CHARS
    if len(body) > limit:
        raise MessageInvalid(
            f"A message may be at most {limit:,} characters.", code="message_too_long"
        )
    sent = messages.send_text(
        session_id=session_id,
        author=author,
        client_id=client_uuid,
        body=body,
        except_channel=origin_channel,
    )
    if sent is None:
        raise ChatNotFound("That chat does not exist.")
    if sent.message is not None:
        if sent.message.delivery_status == DeliveryStatus.QUEUED:
            _send_to_phone(sent.message)
        return SendResult(sent.message, True, sent.payload)
    # Nothing was stored. A resend of a message stored earlier (even before
    # the chat ended or the author left) is answered with the stored message;
    # otherwise the chat is not open to this author.
    stored = messages.stored(session_id, client_uuid)
    if stored is not None:
        return SendResult(stored, False)
    if sent.place.status != SessionStatus.ACTIVE:
        raise InvalidState(
            "This chat has ended; messages can no longer be sent."
            if sent.place.status in (SessionStatus.ENDED, SessionStatus.CLOSED)
            else "Messages can be sent once an agent has joined."
        )
    if not sent.place.in_room:
        raise InvalidState("You have left this chat.", code="not_in_room")
    if not sent.place.window_open:
        raise WindowClosed(whatsapp_window.CLOSED_MESSAGE)
    # Not reached: the insert skips only a client_id the chat has, and
    # messages are never deleted on their own.
    raise InvalidState("The message could not be stored; send it again.")


def _send_to_phone(message: Message) -> None:
    """An agent's message in an SMS or WhatsApp chat was stored as queued
    (chat.message_sql): a Celery task sends it through the provider once it
    is committed (chat.channels.delivery: exactly one provider call)."""
    enqueue_on_commit(tasks.deliver_message, message.pk)


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
    """End an active chat. ``agent`` is the agent in the room (any supervisor),
    or the client after INACTIVITY_SECONDS without a message. A pre-ticket
    chat ends with a new ticket (``create_ticket``) or, with a reason, none
    (``close``). The transcript is attached to the ticket and emailed to the
    client by Celery tasks once the end commits."""
    with transaction.atomic():
        session = lifecycle.lock(session_id)
        if agent.is_client:
            _check_client_may_end(session, agent)
            outcome = EndOutcome.ATTACH if session.ticket_id else EndOutcome.CLOSE
            reason = reason or "ended by the client after a period without activity"
        else:
            require_agent(agent)
        if session.status != SessionStatus.ACTIVE:
            raise InvalidState(f"Only an active chat can be ended (this one is {session.status}).")
        participant = selectors.participant_of(session, agent)
        if not agent.is_supervisor and (participant is None or not participant.in_room):
            # Only who is in the chat ends it (not an agent who left or was
            # transferred away).
            raise ChatNotFound("That chat does not exist.")
        reason = reason.strip()
        ticket = session.ticket
        if session.kind == ChatKind.PRE_TICKET:
            if outcome == EndOutcome.CREATE_TICKET:
                if session.contact is None:
                    raise InvalidState(
                        "A ticket needs a contact: link this chat to one first, "
                        "or close it without a ticket.",
                        code="contact_required",
                    )
                ticket = ticket_services.ticket_create(
                    subject=(subject or session.subject).strip(),
                    # Words for the client, in its zone: the chat's number means nothing to it.
                    description=(
                        "Started from a chat on "
                        f"{format_in(session.requested_at, session.client, 'DATE_FORMAT')}."
                    ),
                    company=session.contact.company,
                    contact=session.contact,
                )
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
        lifecycle.move(
            session,
            SessionStatus.ENDED,
            actor=agent,
            reason=reason or outcome,
            changes={
                "ended_at": timezone.now(),
                "ended_by": agent,
                "end_reason": reason,
                "ticket": ticket,
            },
            line=f"{agent.display_name} ended the chat.",
            line_author=agent,
        )
        broadcasts.session_ended(selectors.session_payload_of(session.pk))
        if session.ticket_id is not None:
            enqueue_on_commit(tasks.attach_transcript, session_id)
        enqueue_on_commit(tasks.email_transcript, session_id)
        return session


def _check_client_may_end(session: ChatSession, client: User) -> None:
    """Clients end a live chat only after INACTIVITY_SECONDS without a message
    (computed here, not only from the sweep's flag, so it is on time)."""
    if session.client_id != client.pk:
        raise ChatNotFound("That chat does not exist.")
    if session.status != SessionStatus.ACTIVE:
        raise InvalidState(f"Only an active chat can be ended (this one is {session.status}).")
    quiet_since = timezone.now() - timedelta(seconds=settings.INACTIVITY_SECONDS)
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
        session = lifecycle.lock(session_id)
        participant = selectors.participant_of(session, user)
        if participant is None:
            raise ChatNotFound("That chat does not exist.")
        if not participant.in_room:
            return session
        now = timezone.now()
        if session.status == SessionStatus.WAITING and participant.role == ParticipantRole.CLIENT:
            lifecycle.move(
                session,
                SessionStatus.ABANDONED,
                actor=user,
                reason="client left before an agent answered",
                changes={"ended_at": now},
            )
        elif session.status == SessionStatus.ACTIVE and participant.role == ParticipantRole.AGENT:
            others = Participant.objects.filter(
                session=session, role=ParticipantRole.AGENT, left_at__isnull=True
            ).exclude(pk=participant.pk)
            if not others.exists():
                raise InvalidState("End the chat before leaving it.", code="end_first")
        Participant.objects.filter(pk=participant.pk).update(left_at=now)
        messages.system_line(session, f"{user.display_name} left the chat.")
        broadcasts.session_left(selectors.session_payload_of(session.pk), user_id=user.pk)
        return session


# --- Push chat -------------------------------------------------------------------


def session_push(*, ticket_id: int, agent: User) -> ChatSession:
    """An agent invites the ticket's contact to chat. Only while the contact is
    online in the portal; the client must accept or decline."""
    require_agent(agent)
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
        check_capacity(agent)
        now = timezone.now()
        session = lifecycle.start(
            status=SessionStatus.INVITED,
            actor=agent,
            reason="pushed",
            line=f"{agent.display_name} invited {client.display_name} to chat.",
            kind=ChatKind.PUSH,
            ticket=ticket,
            contact=contact,
            client=client,
            queue=queues.queue_for_company(contact.company_id),
            subject=ticket.subject,
            requested_at=now,
            last_activity_at=now,
        )
        Participant.objects.create(
            session=session, user=agent, role=ParticipantRole.AGENT, joined_at=now
        )
        broadcasts.session_invited(selectors.session_payload_of(session.pk), agent_id=agent.pk)
        return session


def push_answer(
    *, session_id: int, client: User, accept: bool, visit: Visit | None = None
) -> ChatSession:
    """The client accepts or declines a pushed chat; accepting records its
    ``visit`` (chat.visitors) as a request does."""
    with transaction.atomic():
        session = lifecycle.lock(session_id)
        if session.client_id != client.pk:
            raise ChatNotFound("That chat does not exist.")
        if session.status != SessionStatus.INVITED:
            raise InvalidState("This chat invitation is no longer open.")
        now = timezone.now()
        if accept:
            lifecycle.move(
                session,
                SessionStatus.ACTIVE,
                actor=client,
                reason="accepted",
                changes={
                    "answered_at": now,
                    "inactivity_due_at": messages.inactivity_deadline(now),
                },
            )
            Participant.objects.update_or_create(
                session=session,
                user=client,
                defaults={"role": ParticipantRole.CLIENT, "joined_at": now, "left_at": None},
            )
            visit_record(session=session, visit=visit)
            messages.system_line(session, f"{client.display_name} joined the chat.")
        else:
            lifecycle.move(
                session,
                SessionStatus.DECLINED,
                actor=client,
                reason="declined",
                changes={"ended_at": now},
                line=f"{client.display_name} declined the chat.",
            )
            Participant.objects.filter(session=session, left_at__isnull=True).update(left_at=now)
        broadcasts.push_answered(selectors.session_payload_of(session.pk), accepted=accept)
        return session
