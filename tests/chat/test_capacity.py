"""Capacity: one agent may be in at most MAX_CHATS_PER_AGENT live chats.
Join, rejoin and push past it are refused with ``at_capacity``, nothing
changes, and two joins at the same moment cannot both pass (PostgreSQL)."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from django.db import connection, connections
from django.utils import timezone

from chat import capacity, services
from chat.errors import AtCapacity
from chat.models import ChatKind, ChatSession, Participant, SessionEvent, SessionStatus
from presence.models import AgentConnection, PresenceStatus
from tests.factories import TicketFactory, client_user
from tests.personas import AGENT1, ALICE
from tests.realtime.conftest import receive_type, send


def waiting_requests(count: int, *, client=None) -> list[ChatSession]:  # type: ignore[no-untyped-def]
    """``count`` pre-ticket requests, each from its own client unless given."""
    return [
        services.session_request(
            client=client or client_user(), kind=ChatKind.PRE_TICKET, subject=f"Question {i}"
        )
        for i in range(count)
    ]


@pytest.mark.django_db
class TestCapacity:
    def test_join_refused_past_the_limit(self, agent1, agent2, settings, sent):
        settings.MAX_CHATS_PER_AGENT = 2
        first, second, third = waiting_requests(3)
        services.session_join(session_id=first.pk, agent=agent1)
        services.session_join(session_id=second.pk, agent=agent1)
        with pytest.raises(AtCapacity) as excinfo:
            services.session_join(session_id=third.pk, agent=agent1)
        assert excinfo.value.code == "at_capacity"
        assert "2 live chats" in str(excinfo.value)
        # Nothing changed: the request is still waiting for someone else.
        third.refresh_from_db()
        assert third.status == SessionStatus.WAITING
        assert third.answered_at is None
        assert not Participant.objects.filter(session=third, user=agent1).exists()
        assert not SessionEvent.objects.filter(session=third, new_status="active").exists()
        assert services.session_join(session_id=third.pk, agent=agent2).status == "active"

    def test_default_limit_is_five(self, agent1, settings):
        assert settings.MAX_CHATS_PER_AGENT == 5
        requests = waiting_requests(6)
        for session in requests[:5]:
            services.session_join(session_id=session.pk, agent=agent1)
        with pytest.raises(AtCapacity):
            services.session_join(session_id=requests[5].pk, agent=agent1)

    def test_ended_and_left_chats_free_a_place(self, agent1, settings):
        settings.MAX_CHATS_PER_AGENT = 1
        first, second, third = waiting_requests(3)
        services.session_join(session_id=first.pk, agent=agent1)
        with pytest.raises(AtCapacity):
            services.session_join(session_id=second.pk, agent=agent1)
        # Ended but not left yet: no longer live.
        services.session_end(
            session_id=first.pk, agent=agent1, outcome="close", reason="answered by phone"
        )
        services.session_join(session_id=second.pk, agent=agent1)
        with pytest.raises(AtCapacity):
            services.session_join(session_id=third.pk, agent=agent1)

    def test_pressing_join_again_on_own_chat_is_not_refused(self, agent1, settings):
        settings.MAX_CHATS_PER_AGENT = 1
        (session,) = waiting_requests(1)
        services.session_join(session_id=session.pk, agent=agent1)
        again = services.session_join(session_id=session.pk, agent=agent1)
        assert again.status == SessionStatus.ACTIVE

    def test_rejoining_a_left_chat_counts(self, agent1, agent2, settings):
        settings.MAX_CHATS_PER_AGENT = 1
        shared, other = waiting_requests(2)
        services.session_join(session_id=shared.pk, agent=agent2)
        # agent1 comes into agent2's chat on an old participation, then leaves it.
        Participant.objects.create(
            session=shared, user=agent1, role="agent", joined_at=timezone.now()
        )
        services.session_leave(session_id=shared.pk, user=agent1)
        services.session_join(session_id=other.pk, agent=agent1)
        with pytest.raises(AtCapacity):
            services.session_join(session_id=shared.pk, agent=agent1)
        assert Participant.objects.get(session=shared, user=agent1).left_at is not None

    def test_push_counts_and_is_refused_at_the_limit(self, agent1, alice, alice_ticket, settings):
        settings.MAX_CHATS_PER_AGENT = 1
        (session,) = waiting_requests(1)
        services.session_join(session_id=session.pk, agent=agent1)
        AgentConnection.objects.create(user=alice, channel_name="alice", last_seen=timezone.now())
        with pytest.raises(AtCapacity):
            services.session_push(ticket_id=alice_ticket.pk, agent=agent1)
        assert not ChatSession.objects.filter(kind=ChatKind.PUSH).exists()

    def test_pending_push_invitation_counts(self, agent1, alice, alice_ticket, settings):
        settings.MAX_CHATS_PER_AGENT = 1
        AgentConnection.objects.create(user=alice, channel_name="alice", last_seen=timezone.now())
        services.session_push(ticket_id=alice_ticket.pk, agent=agent1)
        (session,) = waiting_requests(1)
        with pytest.raises(AtCapacity):
            services.session_join(session_id=session.pk, agent=agent1)

    def test_check_capacity_helper(self, agent1, settings):
        """The helper transfer and invitations call: it counts the agent's live
        chats, optionally leaving one out."""
        from django.db import transaction

        settings.MAX_CHATS_PER_AGENT = 1
        (session,) = waiting_requests(1)
        services.session_join(session_id=session.pk, agent=agent1)
        with transaction.atomic():
            capacity.check_capacity(agent1, exclude_session_id=session.pk)
            with pytest.raises(AtCapacity):
                capacity.check_capacity(agent1)


# --- Consumer: the error frame -----------------------------------------------------


@pytest.mark.django_db(transaction=True)
async def test_join_at_capacity_answers_an_error_frame(connect, settings) -> None:
    settings.MAX_CHATS_PER_AGENT = 1

    @sync_to_async
    def setup() -> tuple[Any, list[ChatSession]]:
        agent = AGENT1.create(presence=PresenceStatus.AVAILABLE)
        return agent, waiting_requests(2)

    agent, (first, second) = await setup()
    ws = await connect(agent)
    await send(ws, {"type": "chat.join", "session_id": first.pk, "ref": "j1"})
    assert (await receive_type(ws, "chat.state"))["session"]["status"] == "active"
    await send(ws, {"type": "chat.join", "session_id": second.pk, "ref": "j2"})
    error = await receive_type(ws, "error")
    assert error["code"] == "at_capacity", error
    assert error["ref"] == "j2"
    assert "1 live chats" in error["message"]
    status = await sync_to_async(lambda: ChatSession.objects.get(pk=second.pk).status)()
    assert status == SessionStatus.WAITING
    # The socket stays open and usable.
    await send(ws, {"type": "ping", "ref": "p"})
    assert (await receive_type(ws, "pong"))["ref"] == "p"


# --- PostgreSQL: two joins by one agent at the same moment -------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_one_agent_joining_many_chats_at_once_stops_at_the_limit(monkeypatch, settings) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("the capacity race is tested on PostgreSQL")
    settings.MAX_CHATS_PER_AGENT = 2
    monkeypatch.setattr("chat.broadcasts._deliver", lambda frames: None)
    agent = AGENT1.create(presence=PresenceStatus.AVAILABLE)
    alice = ALICE.create()
    (already,) = waiting_requests(1, client=alice)
    services.session_join(session_id=already.pk, agent=agent)
    sessions = waiting_requests(8)
    barrier = threading.Barrier(len(sessions))
    lock = threading.Lock()
    joined: list[int] = []
    refused: list[str] = []
    errors: list[BaseException] = []

    def press_join(session_id: int) -> None:
        try:
            barrier.wait(timeout=10)
            services.session_join(session_id=session_id, agent=agent)
            with lock:
                joined.append(session_id)
        except AtCapacity as exc:
            with lock:
                refused.append(exc.code)
        except BaseException as exc:  # noqa: BLE001 - surfaced below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=press_join, args=(s.pk,)) for s in sessions]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert errors == []
    assert len(joined) == 1, joined
    assert refused == ["at_capacity"] * 7
    live = Participant.objects.filter(
        user=agent, left_at__isnull=True, session__status=SessionStatus.ACTIVE
    )
    assert live.count() == 2
    # The refused requests are still waiting, untouched.
    assert (
        ChatSession.objects.filter(
            pk__in=[s.pk for s in sessions], status=SessionStatus.WAITING, answered_at=None
        ).count()
        == 7
    )


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_capacity_lock_does_not_hold_up_the_agents_messages(settings) -> None:
    """FOR NO KEY UPDATE on the agent's row: a message the agent sends in
    another chat (a row referencing the user) is not blocked by a join that
    is counting."""
    if connection.vendor != "postgresql":
        pytest.skip("row locks are tested on PostgreSQL")
    import uuid

    from django.db import transaction

    agent = AGENT1.create()
    alice = ALICE.create()
    ticket = TicketFactory(contact=alice.contact)
    live = services.session_request(client=alice, kind=ChatKind.POST_TICKET, ticket_id=ticket.pk)
    services.session_join(session_id=live.pk, agent=agent)
    holding = threading.Event()
    release = threading.Event()
    errors: list[BaseException] = []

    def hold_capacity_lock() -> None:
        try:
            with transaction.atomic():
                capacity.check_capacity(agent)
                holding.set()
                release.wait(timeout=10)
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)
        finally:
            connections.close_all()

    thread = threading.Thread(target=hold_capacity_lock)
    thread.start()
    try:
        assert holding.wait(timeout=10)
        sent = threading.Event()

        def send_message() -> None:
            try:
                services.message_send(
                    session_id=live.pk, author=agent, client_id=uuid.uuid4(), body="hi"
                )
                sent.set()
            except BaseException as exc:  # noqa: BLE001
                errors.append(exc)
            finally:
                connections.close_all()

        sender = threading.Thread(target=send_message)
        sender.start()
        assert sent.wait(timeout=5), "the message waited for the capacity lock"
        sender.join(timeout=5)
    finally:
        release.set()
        thread.join(timeout=10)
    assert errors == []
