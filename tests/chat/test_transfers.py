"""Transfer (an agent hands a live chat over) and Assign (a supervisor places a
request or a chat with an agent): one test per rule and per refusal."""

from __future__ import annotations

import pytest

from chat import services
from chat.agent_tools import transfers
from chat.agent_tools.transfers import TargetUnavailable, session_transfer, transfer_targets
from chat.errors import AtCapacity, ChatForbidden, ChatNotFound, InvalidState, MessageInvalid
from chat.models import (
    ChatKind,
    ChatQueue,
    ChatTransfer,
    Message,
    MessageKind,
    Participant,
    SessionEvent,
    SessionStatus,
)
from presence.models import AgentPresence, PresenceStatus
from tests.factories import AgentFactory, TicketFactory
from tests.personas import AGENT1, AGENT2, SUPERVISOR

pytestmark = pytest.mark.django_db


def live_chat(alice, ticket, agent):  # type: ignore[no-untyped-def]
    session = services.session_request(client=alice, kind=ChatKind.POST_TICKET, ticket_id=ticket.pk)
    return services.session_join(session_id=session.pk, agent=agent)


def in_room(session) -> set[int]:  # type: ignore[no-untyped-def]
    return set(
        Participant.objects.filter(session=session, role="agent", left_at__isnull=True).values_list(
            "user_id", flat=True
        )
    )


class TestTransferToAgent:
    def test_hands_the_chat_over_and_records_it(self, alice, alice_ticket, agent1, agent2, sent):
        session = live_chat(alice, alice_ticket, agent1)
        session_transfer(
            session_id=session.pk, by=agent1, to_agent_id=agent2.pk, reason="Printer expert"
        )
        assert in_room(session) == {agent2.pk}
        transfer = ChatTransfer.objects.get(session=session)
        assert (transfer.by, transfer.from_agent, transfer.to_agent, transfer.to_queue) == (
            agent1,
            agent1,
            agent2,
            None,
        )
        assert transfer.reason == "Printer expert"
        line = Message.objects.filter(session=session, kind=MessageKind.SYSTEM).last()
        assert line.body == f"{AGENT1.full_name} transferred the chat to {AGENT2.full_name}."
        # The reason is for staff: the client's transcript does not carry it.
        assert not Message.objects.filter(session=session, body__contains="Printer expert").exists()
        session.refresh_from_db()
        assert session.status == SessionStatus.ACTIVE

    def test_events_reach_the_new_agent_and_release_the_old_one(
        self, alice, alice_ticket, agent1, agent2, sent, django_capture_on_commit_callbacks
    ):
        session = live_chat(alice, alice_ticket, agent1)
        sent.clear()
        with django_capture_on_commit_callbacks(execute=True):
            session_transfer(session_id=session.pk, by=agent1, to_agent_id=agent2.pk, reason="Why")
        told = sent.of_type("chat.transferred")
        assert [group for group, _ in told] == [f"user.{agent2.pk}"]
        assert told[0][1]["by"]["id"] == agent1.pk and told[0][1]["reason"] == "Why"
        assert (f"user.{agent2.pk}", {"type": "chat.subscribe", "session_id": session.pk}) in sent
        assert (f"user.{agent1.pk}", {"type": "chat.unsubscribe", "session_id": session.pk}) in sent
        # The chat's group, where the client listens, hears the session change
        # and the system line, and never the reason.
        to_chat = [frame for group, frame in sent if group == f"chat.{session.pk}"]
        assert [f["session"]["id"] for f in to_chat if f["type"] == "chat.session"] == [session.pk]
        assert [f["message"]["body"] for f in to_chat if f["type"] == "chat.message"] == [
            f"{AGENT1.full_name} transferred the chat to {AGENT2.full_name}."
        ]
        for frame in to_chat:
            assert "Why" not in str(frame)

    def test_target_must_be_available(self, alice, alice_ticket, agent1, agent2):
        session = live_chat(alice, alice_ticket, agent1)
        AgentPresence.objects.filter(user=agent2).update(status=PresenceStatus.AWAY)
        with pytest.raises(TargetUnavailable):
            session_transfer(session_id=session.pk, by=agent1, to_agent_id=agent2.pk, reason="x")
        assert in_room(session) == {agent1.pk}
        assert not ChatTransfer.objects.exists()

    def test_target_already_in_the_chat(self, alice, alice_ticket, agent1):
        session = live_chat(alice, alice_ticket, agent1)
        with pytest.raises(InvalidState) as refused:
            session_transfer(session_id=session.pk, by=agent1, to_agent_id=agent1.pk, reason="x")
        assert refused.value.code == "already_in_chat"

    def test_target_at_capacity(self, alice, alice_ticket, agent1, agent2, settings):
        settings.MAX_CHATS_PER_AGENT = 1
        other = TicketFactory(contact=alice.contact, subject="Second")
        live_chat(alice, other, agent2)
        session = live_chat(alice, alice_ticket, agent1)
        with pytest.raises(AtCapacity) as refused:
            session_transfer(session_id=session.pk, by=agent1, to_agent_id=agent2.pk, reason="x")
        assert f"{AGENT2.full_name} already has" in refused.value.message
        assert in_room(session) == {agent1.pk}

    def test_reason_and_target_required(self, alice, alice_ticket, agent1, agent2):
        session = live_chat(alice, alice_ticket, agent1)
        with pytest.raises(MessageInvalid) as no_reason:
            session_transfer(session_id=session.pk, by=agent1, to_agent_id=agent2.pk, reason=" ")
        assert no_reason.value.code == "reason_required"
        with pytest.raises(MessageInvalid) as no_target:
            session_transfer(session_id=session.pk, by=agent1, reason="x")
        assert no_target.value.code == "target_required"
        with pytest.raises(MessageInvalid):
            session_transfer(
                session_id=session.pk, by=agent1, to_agent_id=agent2.pk, to_queue_id=1, reason="x"
            )

    def test_only_an_agent_in_the_room_may_transfer(
        self, alice, alice_ticket, agent1, agent2, agent3
    ):
        session = live_chat(alice, alice_ticket, agent1)
        with pytest.raises(ChatNotFound):
            session_transfer(session_id=session.pk, by=agent2, to_agent_id=agent3.pk, reason="x")
        with pytest.raises(ChatNotFound):
            session_transfer(session_id=session.pk, by=alice, to_agent_id=agent3.pk, reason="x")
        assert in_room(session) == {agent1.pk}

    def test_ended_chat_cannot_be_transferred(self, alice, alice_ticket, agent1, agent2):
        session = live_chat(alice, alice_ticket, agent1)
        services.session_end(session_id=session.pk, agent=agent1)
        with pytest.raises(ChatNotFound):
            session_transfer(session_id=session.pk, by=agent1, to_agent_id=agent2.pk, reason="x")

    def test_the_old_agent_may_come_back_by_a_second_transfer(
        self, alice, alice_ticket, agent1, agent2
    ):
        session = live_chat(alice, alice_ticket, agent1)
        session_transfer(session_id=session.pk, by=agent1, to_agent_id=agent2.pk, reason="a")
        session_transfer(session_id=session.pk, by=agent2, to_agent_id=agent1.pk, reason="b")
        assert in_room(session) == {agent1.pk}
        assert Participant.objects.filter(session=session, user=agent1).count() == 1


class TestTransferToQueue:
    def test_the_least_busy_available_member_gets_it(
        self, alice, alice_ticket, agent1, agent2, agent3
    ):
        network = ChatQueue.objects.create(name="Network")
        network.members.add(agent2, agent3)
        busy = TicketFactory(contact=alice.contact, subject="Busy")
        live_chat(alice, busy, agent2)
        session = live_chat(alice, alice_ticket, agent1)
        session_transfer(session_id=session.pk, by=agent1, to_queue_id=network.pk, reason="VPN")
        assert in_room(session) == {agent3.pk}
        session.refresh_from_db()
        assert session.queue == network
        assert ChatTransfer.objects.get(session=session).to_queue == network

    def test_queue_without_anyone_available_is_refused(self, alice, alice_ticket, agent1, agent2):
        network = ChatQueue.objects.create(name="Network")
        network.members.add(agent2)
        AgentPresence.objects.filter(user=agent2).update(status=PresenceStatus.OFFLINE)
        session = live_chat(alice, alice_ticket, agent1)
        with pytest.raises(TargetUnavailable) as refused:
            session_transfer(session_id=session.pk, by=agent1, to_queue_id=network.pk, reason="x")
        assert refused.value.message == "Nobody in Network is available right now."


class TestAssignBySupervisor:
    def test_assign_a_waiting_request(self, alice, alice_ticket, agent1, supervisor, sent):
        session = services.session_request(
            client=alice, kind=ChatKind.POST_TICKET, ticket_id=alice_ticket.pk
        )
        session_transfer(session_id=session.pk, by=supervisor, to_agent_id=agent1.pk, reason="VIP")
        session.refresh_from_db()
        assert session.status == SessionStatus.ACTIVE
        assert in_room(session) == {agent1.pk}
        event = SessionEvent.objects.filter(session=session).last()
        assert (event.old_status, event.new_status, event.actor) == (
            "waiting",
            "active",
            supervisor,
        )
        line = Message.objects.filter(session=session, kind=MessageKind.SYSTEM).last()
        assert line.body == f"{SUPERVISOR.full_name} assigned the chat to {AGENT1.full_name}."
        transfer = ChatTransfer.objects.get(session=session)
        assert transfer.from_agent is None and transfer.by == supervisor

    def test_assign_a_live_chat_takes_it_from_the_agents_in_it(
        self, alice, alice_ticket, agent1, agent2, supervisor
    ):
        session = live_chat(alice, alice_ticket, agent1)
        session_transfer(session_id=session.pk, by=supervisor, to_agent_id=agent2.pk, reason="x")
        assert in_room(session) == {agent2.pk}
        assert ChatTransfer.objects.get(session=session).from_agent == agent1

    def test_an_agent_cannot_assign_a_waiting_request(self, alice, alice_ticket, agent1, agent2):
        session = services.session_request(
            client=alice, kind=ChatKind.POST_TICKET, ticket_id=alice_ticket.pk
        )
        with pytest.raises(ChatNotFound):
            session_transfer(session_id=session.pk, by=agent1, to_agent_id=agent2.pk, reason="x")


class TestTargets:
    def test_lists_available_agents_and_queues_that_have_one(
        self, alice, alice_ticket, agent1, agent2, agent3, default_queue
    ):
        empty = ChatQueue.objects.create(name="Nobody here")
        AgentPresence.objects.filter(user=agent3).update(status=PresenceStatus.AWAY)
        empty.members.add(agent3)
        session = live_chat(alice, alice_ticket, agent1)
        targets = transfer_targets(session_id=session.pk, user=agent1)
        assert targets["agents"] == [{"id": agent2.pk, "name": AGENT2.full_name, "open_chats": 0}]
        assert targets["queues"] == [{"id": default_queue.pk, "name": "Support", "available": 1}]

    def test_agents_at_capacity_are_not_offered(
        self, alice, alice_ticket, agent1, agent2, settings
    ):
        settings.MAX_CHATS_PER_AGENT = 1
        live_chat(alice, TicketFactory(contact=alice.contact, subject="Other"), agent2)
        session = live_chat(alice, alice_ticket, agent1)
        assert transfer_targets(session_id=session.pk, user=agent1)["agents"] == []

    def test_only_those_who_may_transfer_see_targets(self, alice, alice_ticket, agent1, agent2):
        session = live_chat(alice, alice_ticket, agent1)
        with pytest.raises(ChatNotFound):
            transfer_targets(session_id=session.pk, user=agent2)
        with pytest.raises(ChatForbidden):
            transfer_targets(session_id=session.pk, user=alice)

    def test_fixed_number_of_queries(
        self, alice, alice_ticket, agent1, default_queue, django_assert_max_num_queries
    ):
        session = live_chat(alice, alice_ticket, agent1)
        for n in range(20):
            agent = AgentFactory(email=f"a{n}@example.com")
            AgentPresence.objects.create(user=agent, status=PresenceStatus.AVAILABLE)
            default_queue.members.add(agent)
        with django_assert_max_num_queries(8):
            targets = transfers.transfer_targets(session_id=session.pk, user=agent1)
        assert len(targets["agents"]) == 21


class TestAfterTheHandover:
    """The agent who handed a chat over is out of it: no Join back, no End,
    no Block (review finding: any former participant could)."""

    def test_join_does_not_bring_the_old_agent_back(self, alice, alice_ticket, agent1, agent2):
        from chat.errors import AlreadyAnswered

        session = live_chat(alice, alice_ticket, agent1)
        session_transfer(session_id=session.pk, by=agent1, to_agent_id=agent2.pk, reason="x")
        with pytest.raises(AlreadyAnswered):
            services.session_join(session_id=session.pk, agent=agent1)
        assert in_room(session) == {agent2.pk}

    def test_the_old_agent_cannot_end_or_block(self, alice, alice_ticket, agent1, agent2):
        from chat.agent_tools.blocks import client_block

        session = live_chat(alice, alice_ticket, agent1)
        session_transfer(session_id=session.pk, by=agent1, to_agent_id=agent2.pk, reason="x")
        with pytest.raises(ChatNotFound):
            services.session_end(session_id=session.pk, agent=agent1)
        with pytest.raises(ChatNotFound):
            client_block(session_id=session.pk, agent=agent1, reason="rude", block_ip=False)
        session.refresh_from_db()
        assert session.status == SessionStatus.ACTIVE

    def test_handed_back_the_agent_is_in_again(self, alice, alice_ticket, agent1, agent2):
        session = live_chat(alice, alice_ticket, agent1)
        session_transfer(session_id=session.pk, by=agent1, to_agent_id=agent2.pk, reason="a")
        session_transfer(session_id=session.pk, by=agent2, to_agent_id=agent1.pk, reason="b")
        assert not Participant.objects.get(session=session, user=agent1).transferred_away
        services.session_end(session_id=session.pk, agent=agent1)

    def test_invitations_of_the_old_agent_lapse(self, alice, alice_ticket, agent1, agent2, agent3):
        from chat.agent_tools import invites
        from chat.errors import AlreadyAnswered

        session = live_chat(alice, alice_ticket, agent1)
        invites.invitation_create(session_id=session.pk, inviter=agent1, invitee_id=agent3.pk)
        session_transfer(session_id=session.pk, by=agent1, to_agent_id=agent2.pk, reason="x")
        with pytest.raises(AlreadyAnswered):
            services.session_join(session_id=session.pk, agent=agent3)
        assert in_room(session) == {agent2.pk}
