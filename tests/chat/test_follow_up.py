"""The client's options once nobody answered (or outside hours), closing a
follow-up card, and the transcript email."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from chat import follow_up, services, timers, transcripts
from chat.errors import ChatForbidden, ChatNotFound, InvalidState, MessageInvalid
from chat.models import ChatKind, ChatSession, SessionEvent, SessionStatus
from tickets.models import Ticket, TicketNote

pytestmark = pytest.mark.django_db


def told_nobody_answered(session: ChatSession) -> ChatSession:
    timers.sweep_no_answer(now=timezone.now() + timedelta(seconds=61))
    return ChatSession.objects.get(pk=session.pk)


@pytest.fixture
def post_ticket(alice, alice_ticket):  # type: ignore[no-untyped-def]
    return services.session_request(
        client=alice, kind=ChatKind.POST_TICKET, ticket_id=alice_ticket.pk
    )


@pytest.fixture
def pre_ticket(alice):  # type: ignore[no-untyped-def]
    return services.session_request(client=alice, kind=ChatKind.PRE_TICKET, subject="VPN down")


class TestOptionsOpenOnlyAfterNoAnswer:
    def test_before_the_notice_everything_is_refused(self, post_ticket, alice):
        for action, kwargs in [
            (follow_up.request_leave_note, {"body": "hello"}),
            (follow_up.request_callback, {"phone": "+442079460000"}),
            (follow_up.request_keep_waiting, {}),
        ]:
            with pytest.raises(InvalidState):
                action(session_id=post_ticket.pk, client=alice, **kwargs)
        assert ChatSession.objects.get(pk=post_ticket.pk).status == SessionStatus.WAITING

    def test_another_clients_session_is_not_found(self, post_ticket, carol):
        told_nobody_answered(post_ticket)
        with pytest.raises(ChatNotFound):
            follow_up.request_leave_note(session_id=post_ticket.pk, client=carol, body="x")
        with pytest.raises(ChatNotFound):
            follow_up.request_callback(
                session_id=post_ticket.pk, client=carol, phone="+442079460000"
            )
        assert not TicketNote.objects.filter(body="x").exists()


class TestKeepWaiting:
    def test_resets_the_no_answer_clock(self, post_ticket, alice):
        told_nobody_answered(post_ticket)
        session = follow_up.request_keep_waiting(session_id=post_ticket.pk, client=alice)
        assert session.no_answer_at is None
        assert session.no_answer_due_at > timezone.now() + timedelta(seconds=50)


class TestLeaveNote:
    def test_note_lands_on_the_ticket_and_the_request_ends(self, post_ticket, alice, alice_ticket):
        told_nobody_answered(post_ticket)
        session = follow_up.request_leave_note(
            session_id=post_ticket.pk, client=alice, body="Please call me after lunch"
        )
        assert session.status == SessionStatus.ABANDONED
        note = TicketNote.objects.get(ticket=alice_ticket, body="Please call me after lunch")
        assert note.author == alice and not note.is_internal

    def test_empty_note_refused_nothing_stored(self, post_ticket, alice, alice_ticket):
        told_nobody_answered(post_ticket)
        with pytest.raises(MessageInvalid) as excinfo:
            follow_up.request_leave_note(session_id=post_ticket.pk, client=alice, body="   ")
        assert excinfo.value.code == "note_empty"
        assert not TicketNote.objects.filter(ticket=alice_ticket).exists()
        assert ChatSession.objects.get(pk=post_ticket.pk).status == SessionStatus.WAITING

    def test_pre_ticket_creates_a_ticket_instead(self, pre_ticket, alice):
        told_nobody_answered(pre_ticket)
        with pytest.raises(InvalidState):
            follow_up.request_leave_note(session_id=pre_ticket.pk, client=alice, body="hi")
        session = follow_up.request_create_ticket(
            session_id=pre_ticket.pk, client=alice, body="VPN drops every 5 minutes"
        )
        ticket = Ticket.objects.get(pk=session.ticket_id)
        assert ticket.subject == "VPN down" and ticket.contact == alice.contact
        assert ticket.description == "VPN drops every 5 minutes"
        assert session.status == SessionStatus.ABANDONED

    def test_outside_hours_request_can_leave_a_note(self, alice, alice_ticket):
        from officehours.models import Schedule

        Schedule.objects.create(name="Never open", timezone="UTC")
        session = services.session_request(
            client=alice, kind=ChatKind.POST_TICKET, ticket_id=alice_ticket.pk
        )
        assert session.outside_hours
        follow_up.request_leave_note(session_id=session.pk, client=alice, body="Tomorrow then")
        assert TicketNote.objects.filter(ticket=alice_ticket, body="Tomorrow then").exists()
        # Once: the options close after the note.
        with pytest.raises(InvalidState):
            follow_up.request_leave_note(session_id=session.pk, client=alice, body="Again")
        assert not TicketNote.objects.filter(body="Again").exists()


class TestCallback:
    @pytest.mark.parametrize("phone", ["", "hello", "123", "+44 20 7946"])
    def test_invalid_phone_refused_nothing_stored(self, post_ticket, alice, phone):
        told_nobody_answered(post_ticket)
        with pytest.raises(MessageInvalid) as excinfo:
            follow_up.request_callback(session_id=post_ticket.pk, client=alice, phone=phone)
        assert excinfo.value.code in {"phone_required", "phone_invalid"}
        session = ChatSession.objects.get(pk=post_ticket.pk)
        assert session.status == SessionStatus.WAITING and session.callback_phone == ""

    def test_valid_phone_makes_a_callback_card(self, post_ticket, alice):
        told_nobody_answered(post_ticket)
        session = follow_up.request_callback(
            session_id=post_ticket.pk,
            client=alice,
            phone="020 7946 0000",
            message="After 2pm please",
        )
        session.refresh_from_db()
        assert session.status == SessionStatus.CALLBACK
        assert session.callback_phone == "+442079460000"  # normalised (default region GB)
        assert session.callback_message == "After 2pm please"
        assert SessionEvent.objects.filter(session=session, new_status="callback").count() == 1


class TestEndSession:
    def test_closes_the_card_with_outcome_and_notes_the_ticket(
        self, post_ticket, alice, agent1, alice_ticket
    ):
        told_nobody_answered(post_ticket)
        follow_up.request_callback(session_id=post_ticket.pk, client=alice, phone="+442079460000")
        session = follow_up.followup_close(
            session_id=post_ticket.pk,
            agent=agent1,
            outcome="resolved_phone",
            note="Called, fixed the printer",
        )
        session.refresh_from_db()
        assert session.status == SessionStatus.CLOSED and session.outcome == "resolved_phone"
        assert session.closed_by == agent1
        note = TicketNote.objects.get(ticket=alice_ticket, is_internal=True)
        assert "Resolved by phone" in note.body and "Called, fixed the printer" in note.body

    def test_the_note_on_the_ticket_counts_as_an_update(self, post_ticket, alice, agent1):
        """The note goes through the ticket's own rule (tickets.services.note_add):
        the ticket's "Updated" time moves, as for any other note."""
        services.session_leave(session_id=post_ticket.pk, user=alice)  # abandoned
        ticket = post_ticket.ticket
        Ticket.objects.filter(pk=ticket.pk).update(updated_at=timezone.now() - timedelta(days=2))
        follow_up.followup_close(session_id=post_ticket.pk, agent=agent1, outcome="no_response")
        ticket.refresh_from_db()
        assert ticket.updated_at > timezone.now() - timedelta(minutes=1)

    def test_outcome_required_and_state_checked(self, post_ticket, agent1, alice):
        with pytest.raises(InvalidState):  # still waiting, not a card
            follow_up.followup_close(session_id=post_ticket.pk, agent=agent1, outcome="no_response")
        services.session_leave(session_id=post_ticket.pk, user=alice)  # abandoned
        with pytest.raises(MessageInvalid):
            follow_up.followup_close(session_id=post_ticket.pk, agent=agent1, outcome="")
        with pytest.raises(ChatForbidden):
            follow_up.followup_close(session_id=post_ticket.pk, agent=alice, outcome="no_response")
        assert ChatSession.objects.get(pk=post_ticket.pk).status == SessionStatus.ABANDONED
        follow_up.followup_close(session_id=post_ticket.pk, agent=agent1, outcome="no_response")
        with pytest.raises(InvalidState):  # closing twice
            follow_up.followup_close(session_id=post_ticket.pk, agent=agent1, outcome="no_response")


class TestTranscriptEmail:
    def test_sent_once_with_text_and_html(
        self, post_ticket, alice, agent1, django_capture_on_commit_callbacks
    ):
        services.session_join(session_id=post_ticket.pk, agent=agent1)
        services.message_send(
            session_id=post_ticket.pk, author=alice, client_id=uuid.uuid4(), body="<b>hi</b>"
        )
        with django_capture_on_commit_callbacks(execute=True):
            services.session_end(session_id=post_ticket.pk, agent=agent1)
        assert len(mail.outbox) == 1
        email = mail.outbox[0]
        assert email.to == [alice.email]
        assert "<b>hi</b>" in email.body
        html = email.alternatives[0][0]
        assert "&lt;b&gt;hi&lt;/b&gt;" in html and "<b>hi</b>" not in html
        # A retried or repeated task sends nothing more.
        assert transcripts.transcript_email(session_id=post_ticket.pk) is False
        assert len(mail.outbox) == 1

    def test_not_for_a_chat_that_has_not_ended(self, post_ticket):
        assert transcripts.transcript_email(session_id=post_ticket.pk) is False
        assert mail.outbox == []
