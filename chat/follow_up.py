"""What happens to a request nobody answered: the client's options after the
no-answer notice or outside office hours (keep waiting, leave a note, create a
ticket, request a callback, end the request) and an agent closing the
follow-up card (End session).

Same shape as chat.services: one transaction each, state checked under the
session's row lock, status moved through chat.lifecycle, broadcast after
commit.
"""

from __future__ import annotations

from datetime import timedelta

import phonenumbers
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from chat import broadcasts, lifecycle, messages, selectors
from chat.access import require_agent, require_queue_member
from chat.errors import ChatNotFound, InvalidState, MessageInvalid
from chat.models import ChatSession, Outcome, SessionStatus
from tickets import services as ticket_services

NOTE_MAX = 10_000


def _client_session(session_id: int, client: User) -> ChatSession:
    """The client's own session, locked; anyone else's is "not found"."""
    session = lifecycle.lock(session_id)
    if not client.is_authenticated or session.client_id != client.pk:
        raise ChatNotFound("That chat does not exist.")
    return session


def _open_to_follow_up(session: ChatSession) -> bool:
    """The client may choose an option: told nobody answered, or outside hours."""
    if session.status == SessionStatus.WAITING:
        return session.no_answer_at is not None
    # Outside hours: open until the client has left a note or made a ticket.
    return (
        session.status == SessionStatus.ABANDONED
        and session.outside_hours
        and not session.end_reason
    )


def _require_options(session: ChatSession) -> None:
    if not _open_to_follow_up(session):
        raise InvalidState(
            "These options open once nobody has answered for a while, or outside office hours.",
            code="not_available_yet",
        )


def _abandon(session: ChatSession, *, actor: User, reason: str) -> None:
    """The client answered for itself: the request ends (a follow-up card)."""
    if session.status == SessionStatus.WAITING:
        lifecycle.move(
            session,
            SessionStatus.ABANDONED,
            actor=actor,
            reason=reason,
            changes={"ended_at": timezone.now(), "end_reason": reason},
        )
    else:
        ChatSession.objects.filter(pk=session.pk).update(end_reason=reason)
        session.end_reason = reason


def _changed(session: ChatSession) -> None:
    broadcasts.follow_up_changed(selectors.session_payloads_of([session.pk])[0])


def _clean_body(body: str, *, what: str) -> str:
    body = (body or "").strip()
    if not body:
        raise MessageInvalid(f"Write your {what} first.", code="note_empty")
    if len(body) > NOTE_MAX:
        raise MessageInvalid(
            f"The {what} may be at most {NOTE_MAX:,} characters.", code="note_too_long"
        )
    return body


def request_keep_waiting(*, session_id: int, client: User) -> ChatSession:
    """Stay in the queue; asked again after another NO_ANSWER_SECONDS."""
    with transaction.atomic():
        session = _client_session(session_id, client)
        if session.status != SessionStatus.WAITING or session.no_answer_at is None:
            raise InvalidState("The request is not waiting for an answer.")
        now = timezone.now()
        session.no_answer_at = None
        session.no_answer_due_at = now + timedelta(seconds=settings.NO_ANSWER_SECONDS)
        session.save(update_fields=["no_answer_at", "no_answer_due_at"])
        messages.system_line(session, f"{client.display_name} keeps waiting.")
        broadcasts.session_changed(selectors.session_payload_of(session.pk))
        return session


def request_leave_note(*, session_id: int, client: User, body: str) -> ChatSession:
    """Post-ticket: the note lands on the ticket and the request ends."""
    body = _clean_body(body, what="note")
    with transaction.atomic():
        session = _client_session(session_id, client)
        _require_options(session)
        if session.ticket is None:
            raise InvalidState("This chat has no ticket yet: create one instead.", code="no_ticket")
        ticket_services.note_add(ticket=session.ticket, author=client, body=body)
        _abandon(session, actor=client, reason="client left a note")
        messages.system_line(
            session, f"{client.display_name} left a note on ticket #{session.ticket_id}."
        )
        _changed(session)
        return session


def request_create_ticket(
    *, session_id: int, client: User, body: str, subject: str = ""
) -> ChatSession:
    """Pre-ticket: a ticket from the request, with the client's message."""
    body = _clean_body(body, what="message")
    with transaction.atomic():
        session = _client_session(session_id, client)
        _require_options(session)
        if session.ticket_id is not None:
            raise InvalidState(
                "This chat already has a ticket: leave a note on it.", code="has_ticket"
            )
        ticket = ticket_services.ticket_create(
            subject=(subject or session.subject).strip(),
            description=body,
            company=session.contact.company,
            contact=session.contact,
        )
        session.ticket = ticket
        session.save(update_fields=["ticket"])
        _abandon(session, actor=client, reason="client created a ticket")
        messages.system_line(session, f"{client.display_name} created ticket #{ticket.pk}.")
        _changed(session)
        return session


def normalize_phone(raw: str) -> str:
    """E.164 form of a phone number, or MessageInvalid with a clear reason."""
    raw = (raw or "").strip()
    if not raw:
        raise MessageInvalid("A phone number is required.", code="phone_required")
    try:
        number = phonenumbers.parse(raw, settings.PHONE_DEFAULT_REGION)
    except phonenumbers.NumberParseException as exc:
        raise MessageInvalid("That is not a phone number.", code="phone_invalid") from exc
    if not phonenumbers.is_valid_number(number):
        raise MessageInvalid(
            "That phone number is not valid; include the country code, e.g. +44 20 7946 0000.",
            code="phone_invalid",
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def request_callback(
    *, session_id: int, client: User, phone: str, message: str = ""
) -> ChatSession:
    """The client asks to be called: the request becomes a callback card."""
    phone = normalize_phone(phone)
    message = (message or "").strip()
    if len(message) > NOTE_MAX:
        raise MessageInvalid(
            f"The message may be at most {NOTE_MAX:,} characters.", code="note_too_long"
        )
    with transaction.atomic():
        session = _client_session(session_id, client)
        if session.status != SessionStatus.WAITING or session.no_answer_at is None:
            raise InvalidState(
                "A callback can be requested once nobody has answered for a while.",
                code="not_available_yet",
            )
        lifecycle.move(
            session,
            SessionStatus.CALLBACK,
            actor=client,
            reason="callback requested",
            changes={
                "ended_at": timezone.now(),
                "callback_phone": phone,
                "callback_message": message,
            },
            line=f"{client.display_name} asked to be called back on {phone}.",
        )
        _changed(session)
        return session


def followup_close(*, session_id: int, agent: User, outcome: str, note: str = "") -> ChatSession:
    """End session on an abandoned or callback card, by a member of the
    request's queue or a supervisor: outcome and note are recorded on the
    session and, when it has a ticket, as an internal note."""
    require_agent(agent)
    if outcome not in Outcome.values:
        raise MessageInvalid("Choose how the request was resolved.", code="outcome_required")
    note = (note or "").strip()
    if len(note) > NOTE_MAX:
        raise MessageInvalid(
            f"The note may be at most {NOTE_MAX:,} characters.", code="note_too_long"
        )
    with transaction.atomic():
        session = lifecycle.lock(session_id)
        if session.status not in (SessionStatus.ABANDONED, SessionStatus.CALLBACK):
            raise InvalidState("Only abandoned requests and callbacks are closed this way.")
        require_queue_member(agent, session)
        label = Outcome(outcome).label
        lifecycle.move(
            session,
            SessionStatus.CLOSED,
            actor=agent,
            reason=label,
            changes={
                "closed_at": timezone.now(),
                "closed_by": agent,
                "outcome": outcome,
                "outcome_note": note,
            },
        )
        if session.ticket is not None:
            ticket_services.note_add(
                ticket=session.ticket,
                author=agent,
                body=f"Follow-up of chat {session.pk} closed: {label}."
                + (f"\n{note}" if note else ""),
                is_internal=True,
            )
        _changed(session)
        return session
