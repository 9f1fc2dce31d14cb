from __future__ import annotations

from typing import Any

import pytest

from accounts.models import Company
from chat.models import ChatQueue
from presence.models import AgentPresence, PresenceStatus
from tests.factories import AgentFactory, TicketFactory, client_user


class SentFrames(list):
    def of_type(self, frame_type: str) -> list[tuple[str, dict[str, Any]]]:
        return [(group, frame) for group, frame in self if frame["type"] == frame_type]

    def groups_of(self, frame_type: str) -> list[str]:
        return [group for group, _ in self.of_type(frame_type)]


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch) -> SentFrames:
    """Every frame the chat events layer sends after commit, in order."""
    frames = SentFrames()
    monkeypatch.setattr("chat.broadcasts._deliver", frames.extend)
    return frames


@pytest.fixture
def acme() -> Company:
    return Company.objects.create(name="Acme")


@pytest.fixture
def alice(acme):  # type: ignore[no-untyped-def]
    return client_user(company=acme, email="alice@acme.example", full_name="Alice Client")


@pytest.fixture
def alice_ticket(alice):  # type: ignore[no-untyped-def]
    return TicketFactory(contact=alice.contact, subject="Printer on fire")


@pytest.fixture
def agent1():  # type: ignore[no-untyped-def]
    agent = AgentFactory(email="agent1@example.com", full_name="Ada Agent")
    AgentPresence.objects.create(user=agent, status=PresenceStatus.AVAILABLE)
    return agent


@pytest.fixture
def agent2():  # type: ignore[no-untyped-def]
    agent = AgentFactory(email="agent2@example.com", full_name="Ben Agent")
    AgentPresence.objects.create(user=agent, status=PresenceStatus.AVAILABLE)
    return agent


@pytest.fixture
def default_queue(agent1, agent2):  # type: ignore[no-untyped-def]
    queue = ChatQueue.objects.create(name="Support", is_default=True)
    queue.members.add(agent1, agent2)
    return queue


# The websocket fixtures of the consumer tests (a private channel-layer prefix
# per test, and `connect(user)`), shared with tests/realtime.
from tests.realtime.conftest import connect, private_channel_layer  # noqa: E402, F401
