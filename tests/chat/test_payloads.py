"""The sweep's payloads built from ``.values()`` rows (chat.selectors.session_payloads_of)
are exactly what chat.payloads.session_payload builds from model instances,
which the snapshot, replay and API use."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from accounts.models import User
from chat import selectors, services
from chat.models import Channel, ChatKind, ChatSession, Participant, ParticipantRole, PhoneClient
from chat.payloads import session_payload
from presence.models import AgentConnection

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)  # a Monday


def test_row_payloads_match_instance_payloads(alice, alice_ticket, agent1, agent2, sent) -> None:
    with time_machine.travel(T0, tick=False):
        on_ticket = services.session_request(
            client=alice, kind=ChatKind.POST_TICKET, ticket_id=alice_ticket.pk
        )
        # Answered by one agent; another was in the room and left.
        services.session_join(session_id=on_ticket.pk, agent=agent1)
    Participant.objects.create(
        session=on_ticket,
        user=agent2,
        role=ParticipantRole.AGENT,
        joined_at=T0 + timedelta(seconds=30),
        left_at=T0 + timedelta(seconds=50),
        last_read_seq=1,
    )
    with time_machine.travel(T0 + timedelta(minutes=1), tick=False):
        no_subject = services.session_request(
            client=alice, kind=ChatKind.PRE_TICKET, subject="Printer"
        )
        with_subject = services.session_request(
            client=alice, kind=ChatKind.PRE_TICKET, subject="VPN"
        )
    # A request from before subjects were required: titled by its id.
    ChatSession.objects.filter(pk=no_subject.pk).update(subject="")
    # WhatsApp chats: one whose number wrote (its window closes a day later),
    # one whose number never did.
    with time_machine.travel(T0 + timedelta(minutes=2), tick=False):
        wrote = whatsapp_request("+447700900123", received_at=T0)
        never = whatsapp_request("+447700900124", received_at=None)
    ids = [on_ticket.pk, no_subject.pk, with_subject.pk, wrote.pk, never.pk]

    for online in (False, True):
        if online:
            AgentConnection.objects.create(
                user=alice, channel_name="c1", last_seen=datetime.now(tz=UTC)
            )
        expected = [
            session_payload(s, client_online=online and s.client_id == alice.pk)
            for s in ChatSession.objects.select_related(
                "client__phone_client", "contact__company", "ticket"
            )
            .filter(pk__in=ids)
            .order_by("-requested_at", "-id")
        ]
        assert selectors.session_payloads_of(ids) == expected
    # The cases this covers.
    by_id = {p["id"]: p for p in selectors.session_payloads_of(ids)}
    assert by_id[on_ticket.pk]["title"].startswith(f"#{alice_ticket.pk} ")
    assert by_id[no_subject.pk]["title"] == f"Chat {no_subject.pk}"
    assert [p["in_room"] for p in by_id[on_ticket.pk]["participants"]] == [True, True, False]
    assert by_id[wrote.pk]["window_closes_at"] == (T0 + timedelta(days=1)).isoformat()
    assert by_id[never.pk]["window_closes_at"] is None
    assert by_id[on_ticket.pk]["window_closes_at"] is None


def whatsapp_request(number: str, *, received_at: datetime | None) -> ChatSession:
    user = User.objects.create_user(email=f"{number[1:]}@phone.test", password=None)
    PhoneClient.objects.create(
        number=number, user=user, created_at=T0, whatsapp_received_at=received_at
    )
    return services.phone_request(
        client=user, contact=None, channel=Channel.WHATSAPP, address=number, subject=number
    )
