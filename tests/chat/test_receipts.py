"""Read receipts and the typing indicator (chat.receipts), one test per rule."""

from __future__ import annotations

import uuid

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from chat import receipts, services
from chat.errors import ChatForbidden, ChatNotFound, InvalidState
from chat.models import ChatKind, ChatSession, Message, MessageKind, Participant
from tests.personas import CAROL, SUPERVISOR

pytestmark = pytest.mark.django_db


def active_chat(alice, alice_ticket, agent):  # type: ignore[no-untyped-def]
    session = services.session_request(
        client=alice, kind=ChatKind.POST_TICKET, ticket_id=alice_ticket.pk
    )
    return services.session_join(session_id=session.pk, agent=agent)


def say(session, author, body: str) -> Message:  # type: ignore[no-untyped-def]
    return services.message_send(
        session_id=session.pk, author=author, client_id=uuid.uuid4(), body=body
    ).message


def last_seq(session) -> int:  # type: ignore[no-untyped-def]
    return ChatSession.objects.get(pk=session.pk).last_seq


def read_at(message: Message):  # type: ignore[no-untyped-def]
    return Message.objects.get(pk=message.pk).read_at


class TestReadReceipts:
    def test_agent_reading_stamps_the_clients_messages_only(self, alice, alice_ticket, agent1):
        session = active_chat(alice, alice_ticket, agent1)
        from_alice = say(session, alice, "Hello")
        from_agent = say(session, agent1, "Hi")
        with time_machine.travel("2026-12-01 10:00:05Z", tick=False):
            receipts.participant_mark_read(
                session_id=session.pk, user=agent1, seq=last_seq(session)
            )
        assert read_at(from_alice).isoformat() == "2026-12-01T10:00:05+00:00"
        assert read_at(from_agent) is None  # the agent's own side

    def test_client_reading_stamps_every_agents_messages(self, alice, alice_ticket, agent1, agent2):
        session = active_chat(alice, alice_ticket, agent1)
        Participant.objects.create(
            session=session, user=agent2, role="agent", joined_at=session.answered_at
        )
        first = say(session, agent1, "Hi")
        second = say(session, agent2, "Hello too")
        own = say(session, alice, "Hello both")
        receipts.participant_mark_read(session_id=session.pk, user=alice, seq=second.seq)
        assert read_at(first) is not None and read_at(second) is not None
        assert read_at(own) is None

    def test_only_messages_up_to_the_marker_are_read(self, alice, alice_ticket, agent1):
        session = active_chat(alice, alice_ticket, agent1)
        early = say(session, agent1, "one")
        late = say(session, agent1, "two")
        receipts.participant_mark_read(session_id=session.pk, user=alice, seq=early.seq)
        assert read_at(early) is not None and read_at(late) is None

    def test_read_time_is_kept_from_the_first_read(self, alice, alice_ticket, agent1):
        session = active_chat(alice, alice_ticket, agent1)
        message = say(session, agent1, "Hi")
        with time_machine.travel("2026-12-01 10:00:00Z", tick=False):
            receipts.participant_mark_read(session_id=session.pk, user=alice, seq=message.seq)
        say(session, agent1, "More")
        with time_machine.travel("2026-12-01 11:00:00Z", tick=False):
            receipts.participant_mark_read(session_id=session.pk, user=alice, seq=last_seq(session))
        assert read_at(message).hour == 10

    def test_replying_then_reading_still_stamps(self, alice, alice_ticket, agent1):
        # Sending moves the sender's own marker; the read frame that follows
        # (same seq, marker unchanged) must still stamp what it answered.
        session = active_chat(alice, alice_ticket, agent1)
        question = say(session, alice, "Help?")
        answer = say(session, agent1, "Sure")
        assert Participant.objects.get(session=session, user=agent1).last_read_seq == answer.seq
        receipts.participant_mark_read(session_id=session.pk, user=agent1, seq=answer.seq)
        assert read_at(question) is not None

    def test_system_lines_are_never_stamped(self, alice, alice_ticket, agent1):
        session = active_chat(alice, alice_ticket, agent1)
        receipts.participant_mark_read(session_id=session.pk, user=alice, seq=last_seq(session))
        receipts.participant_mark_read(session_id=session.pk, user=agent1, seq=last_seq(session))
        system = Message.objects.filter(session=session, kind=MessageKind.SYSTEM)
        assert system.exists() and not system.filter(read_at__isnull=False).exists()

    def test_read_broadcast_after_commit_with_side_and_time(
        self, alice, alice_ticket, agent1, sent, django_capture_on_commit_callbacks
    ):
        session = active_chat(alice, alice_ticket, agent1)
        message = say(session, agent1, "Hi")
        with django_capture_on_commit_callbacks(execute=True):
            seq = receipts.participant_mark_read(session_id=session.pk, user=alice, seq=message.seq)
        assert seq == message.seq
        ((group, frame),) = sent.of_type("chat.read")
        assert group == f"chat.{session.pk}"
        assert frame["user_id"] == alice.pk and frame["seq"] == message.seq
        assert frame["side"] == "client"
        assert frame["read_at"] == read_at(message).isoformat()
        # Nothing new read: nothing broadcast.
        with django_capture_on_commit_callbacks(execute=True):
            receipts.participant_mark_read(session_id=session.pk, user=alice, seq=message.seq)
        assert len(sent.of_type("chat.read")) == 1

    def test_marker_moving_without_new_reads_has_no_time(
        self, alice, alice_ticket, agent1, sent, django_capture_on_commit_callbacks
    ):
        session = active_chat(alice, alice_ticket, agent1)
        with django_capture_on_commit_callbacks(execute=True):
            receipts.participant_mark_read(session_id=session.pk, user=alice, seq=last_seq(session))
        ((_, frame),) = sent.of_type("chat.read")
        assert frame["read_at"] is None  # only system lines were passed

    def test_supervisor_watching_marks_nothing(
        self, alice, alice_ticket, agent1, sent, django_capture_on_commit_callbacks
    ):
        session = active_chat(alice, alice_ticket, agent1)
        message = say(session, alice, "Hello")
        supervisor = SUPERVISOR.create()
        with django_capture_on_commit_callbacks(execute=True):
            seq = receipts.participant_mark_read(
                session_id=session.pk, user=supervisor, seq=message.seq
            )
        assert seq == 0
        assert read_at(message) is None
        assert not Participant.objects.filter(session=session, user=supervisor).exists()
        assert sent.of_type("chat.read") == []

    def test_outsiders_are_told_the_chat_does_not_exist(self, alice, alice_ticket, agent1, agent2):
        session = active_chat(alice, alice_ticket, agent1)
        message = say(session, alice, "Hello")
        carol = CAROL.create()
        for outsider in (agent2, carol):
            with pytest.raises(ChatNotFound):
                receipts.participant_mark_read(
                    session_id=session.pk, user=outsider, seq=message.seq
                )
        assert read_at(message) is None

    def test_a_participant_who_left_marks_nothing(self, alice, alice_ticket, agent1):
        session = active_chat(alice, alice_ticket, agent1)
        message = say(session, agent1, "Bye")
        services.session_end(session_id=session.pk, agent=agent1)
        services.session_leave(session_id=session.pk, user=alice)
        before = Participant.objects.get(session=session, user=alice).last_read_seq
        assert (
            receipts.participant_mark_read(session_id=session.pk, user=alice, seq=last_seq(session))
            == before
        )
        assert read_at(message) is None

    def test_payload_carries_read_at(self, alice, alice_ticket, agent1):
        from chat.payloads import message_payload

        session = active_chat(alice, alice_ticket, agent1)
        message = say(session, agent1, "Hi")
        assert message_payload(message)["read_at"] is None
        receipts.participant_mark_read(session_id=session.pk, user=alice, seq=message.seq)
        stored = Message.objects.select_related("author").get(pk=message.pk)
        assert message_payload(stored)["read_at"] == stored.read_at.isoformat()


class TestTyping:
    def test_participant_typing_goes_to_the_chat_group_and_is_not_stored(
        self, alice, alice_ticket, agent1, sent, django_capture_on_commit_callbacks
    ):
        session = active_chat(alice, alice_ticket, agent1)
        before = Message.objects.count()
        with (
            django_capture_on_commit_callbacks(execute=True),
            CaptureQueriesContext(connection) as queries,
        ):
            receipts.typing_notify(session_id=session.pk, user=alice)
        ((group, frame),) = sent.of_type("chat.typing")
        assert group == f"chat.{session.pk}"
        assert frame == {
            "type": "chat.typing",
            "session_id": session.pk,
            "user": {"id": alice.pk, "name": alice.display_name, "role": "client"},
        }
        assert Message.objects.count() == before
        writes = [q["sql"] for q in queries if not q["sql"].lstrip().upper().startswith("SELECT")]
        assert writes == []

    def test_agent_typing_too(
        self, alice, alice_ticket, agent1, sent, django_capture_on_commit_callbacks
    ):
        session = active_chat(alice, alice_ticket, agent1)
        with django_capture_on_commit_callbacks(execute=True):
            receipts.typing_notify(session_id=session.pk, user=agent1)
        ((_, frame),) = sent.of_type("chat.typing")
        assert frame["user"]["id"] == agent1.pk

    def test_supervisor_watching_may_not_type(self, alice, alice_ticket, agent1):
        session = active_chat(alice, alice_ticket, agent1)
        with pytest.raises(ChatForbidden) as excinfo:
            receipts.typing_notify(session_id=session.pk, user=SUPERVISOR.create())
        assert excinfo.value.code == "not_participant"

    def test_outsiders_are_told_the_chat_does_not_exist(self, alice, alice_ticket, agent1, agent2):
        session = active_chat(alice, alice_ticket, agent1)
        carol = CAROL.create()
        for outsider in (agent2, carol):
            with pytest.raises(ChatNotFound):
                receipts.typing_notify(session_id=session.pk, user=outsider)
        with pytest.raises(ChatNotFound):
            receipts.typing_notify(session_id=999_999, user=alice)

    def test_not_before_an_agent_joins_nor_after_the_end(self, alice, alice_ticket, agent1):
        waiting = services.session_request(
            client=alice, kind=ChatKind.POST_TICKET, ticket_id=alice_ticket.pk
        )
        with pytest.raises(InvalidState) as excinfo:
            receipts.typing_notify(session_id=waiting.pk, user=alice)
        assert excinfo.value.code == "chat_not_active"
        services.session_join(session_id=waiting.pk, agent=agent1)
        services.session_end(session_id=waiting.pk, agent=agent1)
        with pytest.raises(InvalidState) as excinfo:
            receipts.typing_notify(session_id=waiting.pk, user=alice)
        assert excinfo.value.code == "chat_not_active"

    def test_not_after_leaving(self, alice, alice_ticket, agent1, agent2):
        session = active_chat(alice, alice_ticket, agent1)
        Participant.objects.create(
            session=session, user=agent2, role="agent", joined_at=session.answered_at
        )
        services.session_leave(session_id=session.pk, user=agent2)
        with pytest.raises(InvalidState) as excinfo:
            receipts.typing_notify(session_id=session.pk, user=agent2)
        assert excinfo.value.code == "not_in_room"
