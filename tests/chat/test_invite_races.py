"""Invitation races on PostgreSQL: the invitee's tabs pressing Join at once,
and an uninvited agent racing the invitee. (Skipped on SQLite, where the
IMMEDIATE transactions serialize every writer.)"""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections

from chat import services
from chat.agent_tools import invites
from chat.errors import AlreadyAnswered
from chat.models import ChatInvitation, ChatKind, Message, Participant, SessionEvent
from presence.models import AgentPresence, PresenceStatus
from tests.factories import AgentFactory, TicketFactory
from tests.personas import AGENT1, AGENT2, ALICE

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _postgres_only() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("invitation races are tested on PostgreSQL")


def test_invited_join_pressed_in_many_tabs_and_by_outsiders_at_once() -> None:
    alice = ALICE.create()
    ticket = TicketFactory(contact=alice.contact)
    agent1 = AGENT1.create(presence=PresenceStatus.AVAILABLE)
    invitee = AGENT2.create(presence=PresenceStatus.AVAILABLE)
    outsiders = [AgentFactory() for _ in range(3)]
    for agent in outsiders:
        AgentPresence.objects.create(user=agent, status=PresenceStatus.AVAILABLE)
    session = services.session_request(client=alice, kind=ChatKind.POST_TICKET, ticket_id=ticket.pk)
    services.session_join(session_id=session.pk, agent=agent1)
    invites.invitation_create(session_id=session.pk, inviter=agent1, invitee_id=invitee.pk)

    pressers = [invitee] * 5 + outsiders
    barrier = threading.Barrier(len(pressers))
    lock = threading.Lock()
    refused: list[int] = []
    errors: list[BaseException] = []

    def press_join(agent) -> None:  # type: ignore[no-untyped-def]
        try:
            barrier.wait(timeout=10)
            services.session_join(session_id=session.pk, agent=agent)
        except AlreadyAnswered:
            with lock:
                refused.append(agent.pk)
        except BaseException as exc:  # noqa: BLE001 - surfaced below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=press_join, args=(agent,)) for agent in pressers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert errors == []
    assert sorted(refused) == sorted(a.pk for a in outsiders)
    agents_in = Participant.objects.filter(session=session, role="agent", left_at__isnull=True)
    assert sorted(agents_in.values_list("user_id", flat=True)) == sorted([agent1.pk, invitee.pk])
    assert ChatInvitation.objects.get(invitee=invitee).accepted_at is not None
    joined = f"{invitee.display_name} joined the chat."
    assert Message.objects.filter(session=session, body=joined).count() == 1
    assert SessionEvent.objects.filter(session=session, actor=invitee).count() == 1
