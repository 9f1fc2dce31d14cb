from __future__ import annotations

from typing import Any

import pytest

from accounts.models import Company
from presence.models import AgentPresence, PresenceStatus
from tests import personas
from tests.factories import AgentFactory, TicketFactory


class SentFrames(list):
    def of_type(self, frame_type: str) -> list[tuple[str, dict[str, Any]]]:
        return [(group, frame) for group, frame in self if frame["type"] == frame_type]

    def groups_of(self, frame_type: str) -> list[str]:
        return [group for group, _ in self.of_type(frame_type)]


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch) -> SentFrames:
    """Every frame chat.broadcasts sends after commit, in order."""
    frames = SentFrames()
    monkeypatch.setattr("chat.broadcasts._deliver", frames.extend)
    return frames


# The demo people (tests/personas.py); the agents are available.
@pytest.fixture
def acme() -> Company:
    return personas.company(personas.ACME)


@pytest.fixture
def alice(acme):  # type: ignore[no-untyped-def]
    return personas.ALICE.create(company=acme)


@pytest.fixture
def bob(acme):  # type: ignore[no-untyped-def]
    """Alice's colleague at Acme: another contact of her company."""
    return personas.BOB.create(company=acme)


@pytest.fixture
def carol():  # type: ignore[no-untyped-def]
    """A client of another company (Globex)."""
    return personas.CAROL.create()


@pytest.fixture
def alice_ticket(alice):  # type: ignore[no-untyped-def]
    return TicketFactory(contact=alice.contact, subject="Printer on fire")


@pytest.fixture
def agent1():  # type: ignore[no-untyped-def]
    return personas.AGENT1.create(presence=PresenceStatus.AVAILABLE)


@pytest.fixture
def agent2():  # type: ignore[no-untyped-def]
    return personas.AGENT2.create(presence=PresenceStatus.AVAILABLE)


@pytest.fixture
def agent3():  # type: ignore[no-untyped-def]
    """A third available agent, for the tests that need one more than the demo
    has: no demo person, and named like none (a mention must not find two)."""
    agent = AgentFactory(email="agent3@example.com", full_name="Nora Quinn")
    AgentPresence.objects.create(user=agent, status=PresenceStatus.AVAILABLE)
    return agent


@pytest.fixture
def supervisor():  # type: ignore[no-untyped-def]
    return personas.SUPERVISOR.create()


@pytest.fixture
def default_queue(agent1, agent2):  # type: ignore[no-untyped-def]
    """The demo's queue, of agent1 and agent2 (not agent3, not the supervisor):
    the queue of every request while a test routes none elsewhere."""
    return personas.support_queue(agent1, agent2)


# The websocket fixtures of the consumer tests (a private channel-layer prefix
# per test, and `connect(user)`), shared with tests/realtime.
from tests.realtime.conftest import connect, private_channel_layer  # noqa: E402, F401
