"""Races that only a real multi-connection database can show (PostgreSQL).

On SQLite the IMMEDIATE transactions serialize every writer, so the same test
runs there too but proves less; it is skipped unless DATABASE_URL points at
PostgreSQL.
"""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections

from chat import services
from chat.errors import AlreadyAnswered
from chat.models import ChatKind, Participant, SessionEvent, SessionStatus
from presence.models import AgentPresence, PresenceStatus
from tests.factories import AgentFactory, TicketFactory, client_user

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _postgres_only() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("the join race is tested on PostgreSQL")


def test_ten_agents_press_join_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    alice = client_user(full_name="Alice Client")
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

    monkeypatch.setattr("chat.events._deliver", record)
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
