"""Races that only a real multi-connection database can show (PostgreSQL).

On SQLite the IMMEDIATE transactions serialize every writer, so the same test
runs there too but proves less; it is skipped unless DATABASE_URL points at
PostgreSQL.
"""

from __future__ import annotations

import threading
import uuid

import pytest
from django.db import connection, connections

from chat import services
from chat.errors import AlreadyAnswered
from chat.models import (
    ChatKind,
    ChatSession,
    Message,
    MessageKind,
    Participant,
    SessionEvent,
    SessionStatus,
)
from presence.models import AgentPresence, PresenceStatus
from tests.factories import AgentFactory, TicketFactory, active_post_ticket_chat
from tests.personas import ALICE

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _postgres_only() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("the join race is tested on PostgreSQL")


def test_ten_agents_press_join_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    alice = ALICE.create()
    ticket = TicketFactory(contact=alice.contact)
    agents = [AgentFactory() for _ in range(10)]
    for agent in agents:
        AgentPresence.objects.create(user=agent, status=PresenceStatus.AVAILABLE)
    session = services.session_request(client=alice, kind=ChatKind.POST_TICKET, ticket_id=ticket.pk)
    taken_frames: list[dict] = []
    lock = threading.Lock()

    def record(frames: list[tuple[str, dict]]) -> None:
        with lock:
            taken_frames.extend(f for _, f in frames if f["type"] == "queue.taken")

    monkeypatch.setattr("chat.broadcasts._deliver", record)
    barrier = threading.Barrier(len(agents))
    winners: list[int] = []
    losers: list[str] = []
    errors: list[BaseException] = []

    def press_join(agent) -> None:  # type: ignore[no-untyped-def]
        try:
            barrier.wait(timeout=10)
            services.session_join(session_id=session.pk, agent=agent)
            with lock:
                winners.append(agent.pk)
        except AlreadyAnswered as exc:
            with lock:
                losers.append(exc.code)
        except BaseException as exc:  # noqa: BLE001 - surfaced below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=press_join, args=(agent,)) for agent in agents]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert errors == []
    assert len(winners) == 1
    assert losers == ["already_answered"] * 9
    assert Participant.objects.filter(session=session, role="agent").count() == 1
    assert (
        SessionEvent.objects.filter(session=session, new_status=SessionStatus.ACTIVE).count() == 1
    )
    assert len(taken_frames) == 1


def test_both_sides_send_at_once_and_seqs_stay_gap_free(monkeypatch: pytest.MonkeyPatch) -> None:
    """chat.message_sql sends in one statement on PostgreSQL: concurrent sends
    of one chat (and resends among them) each wait for the session lock and
    take the next seq; nothing is stored twice, every stored message is
    broadcast once."""
    session, alice, agent = active_post_ticket_chat()
    before = ChatSession.objects.get(pk=session.pk).last_seq
    broadcast: list[int] = []
    lock = threading.Lock()

    def record(frames: list[tuple[str, dict]]) -> None:
        with lock:
            broadcast.extend(f["message"]["seq"] for _, f in frames if f["type"] == "chat.message")

    monkeypatch.setattr("chat.broadcasts._deliver", record)
    client_ids = [uuid.uuid4() for _ in range(10)]
    # Each client_id is sent twice, by two threads at once (a resend racing
    # its first send).
    work = [(alice if i % 2 else agent, client_id) for i, client_id in enumerate(client_ids)] * 2
    barrier = threading.Barrier(len(work))
    created: list[bool] = []
    errors: list[BaseException] = []

    def send(author, client_id) -> None:  # type: ignore[no-untyped-def]
        try:
            barrier.wait(timeout=10)
            result = services.message_send(
                session_id=session.pk, author=author, client_id=client_id, body=f"hi {client_id}"
            )
            with lock:
                created.append(result.created)
        except BaseException as exc:  # noqa: BLE001 - surfaced below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=send, args=item) for item in work]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert errors == []
    assert sorted(created) == [False] * 10 + [True] * 10
    messages = Message.objects.filter(session=session, kind=MessageKind.TEXT)
    assert sorted(messages.values_list("client_id", flat=True)) == sorted(client_ids)
    seqs = sorted(Message.objects.filter(session=session).values_list("seq", flat=True))
    assert seqs == list(range(1, before + 11))
    fresh = ChatSession.objects.get(pk=session.pk)
    assert fresh.last_seq == before + 10
    assert sorted(broadcast) == list(range(before + 1, before + 11))
    for participant in Participant.objects.filter(session=session):
        own = messages.filter(author=participant.user).order_by("-seq").first()
        assert own is not None and participant.last_read_seq >= own.seq
