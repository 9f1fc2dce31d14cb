"""ticket.changed: every staff socket hears that a ticket changed (created,
assigned, closed, reopened, time logged) once the change commits, with what
the console's ticket list and ticket page show; a client's socket never does.
Joining a post-ticket chat whose ticket nobody has yet makes the agent its
assignee, and the consoles hear that too."""

from __future__ import annotations

from typing import Any

import pytest
from asgiref.sync import sync_to_async

from accounts.models import User
from tests.chat.test_consumer_chat import make_people, start_chat
from tests.chat.test_consumer_receipts import frames_of
from tests.personas import AGENT1
from tests.realtime.conftest import receive_type, send
from tickets import services as ticket_services
from tickets.models import Ticket, TicketStatus

pytestmark = pytest.mark.django_db(transaction=True)


async def no_frame_of_type(ws: Any, frame_type: str) -> None:
    """Nothing of ``frame_type`` arrives until the socket is quiet (other frames
    are skipped; receive_nothing, since a receive timeout cancels the consumer)."""
    found = await frames_of(ws, frame_type)
    assert not found, f"unexpected {frame_type}: {found}"


async def test_a_new_ticket_reaches_every_staff_socket_and_no_client(connect) -> None:
    people = await make_people()
    agent_ws = await connect(people["agent2"])
    client_ws = await connect(people["alice"])
    alice: User = people["alice"]
    ticket = await sync_to_async(ticket_services.ticket_create)(
        subject="VPN drops every hour",
        company=alice.contact.company,
        contact=alice.contact,
        created_by=alice,
    )
    frame = await receive_type(agent_ws, "ticket.changed")
    assert frame["change"] == "created"
    payload = frame["ticket"]
    assert payload["id"] == ticket.pk and payload["number"] == ticket.number
    assert payload["subject"] == "VPN drops every hour"
    assert payload["status"] == TicketStatus.UNASSIGNED
    assert payload["company"] == alice.contact.company.name
    assert payload["contact"] == alice.contact.name
    assert payload["assignee"] is None
    assert payload["url"] == f"/console/tickets/{ticket.pk}/"
    await no_frame_of_type(client_ws, "ticket.changed")


async def test_assign_close_and_reopen_say_where_the_ticket_was(connect) -> None:
    people = await make_people()
    agent_ws = await connect(people["agent2"])
    ticket: Ticket = people["ticket"]
    agent1: User = people["agent1"]
    await sync_to_async(ticket_services.ticket_assign)(
        ticket=ticket, assignee=agent1, actor=people["agent2"]
    )
    assigned = await receive_type(agent_ws, "ticket.changed")
    assert assigned["change"] == "assigned"
    assert assigned["previous_status"] == TicketStatus.UNASSIGNED
    assert assigned["ticket"]["status"] == TicketStatus.ASSIGNED
    assert assigned["ticket"]["assignee"] == {"id": agent1.pk, "name": AGENT1.full_name}

    await sync_to_async(ticket_services.ticket_close)(ticket=ticket, actor=agent1)
    closed = await receive_type(agent_ws, "ticket.changed")
    assert (closed["change"], closed["previous_status"]) == ("closed", TicketStatus.ASSIGNED)
    assert closed["ticket"]["status_label"] == "Closed"

    await sync_to_async(ticket_services.ticket_reopen)(ticket=ticket, actor=agent1)
    reopened = await receive_type(agent_ws, "ticket.changed")
    assert (reopened["change"], reopened["previous_status"]) == ("reopened", TicketStatus.CLOSED)


async def test_joining_a_post_ticket_chat_assigns_its_ticket_and_consoles_hear_it(
    connect,
) -> None:
    people = await make_people()
    watcher_ws = await connect(people["agent2"])
    await start_chat(connect, people)
    frame = await receive_type(watcher_ws, "ticket.changed")
    assert frame["change"] == "assigned"
    assert frame["ticket"]["id"] == people["ticket"].pk
    assert frame["ticket"]["assignee"]["name"] == AGENT1.full_name
    ticket = await sync_to_async(Ticket.objects.get)(pk=people["ticket"].pk)
    assert (ticket.assignee_id, ticket.status) == (people["agent1"].pk, TicketStatus.ASSIGNED)


async def test_a_ticket_someone_has_keeps_its_assignee_when_another_agent_joins(connect) -> None:
    people = await make_people()
    ticket: Ticket = people["ticket"]
    await sync_to_async(ticket_services.ticket_assign)(
        ticket=ticket, assignee=people["agent2"], actor=people["agent2"]
    )
    watcher_ws = await connect(people["agent2"])
    await start_chat(connect, people)
    await no_frame_of_type(watcher_ws, "ticket.changed")
    ticket = await sync_to_async(Ticket.objects.get)(pk=ticket.pk)
    assert ticket.assignee_id == people["agent2"].pk


async def test_a_time_entry_from_the_chat_window_updates_the_time_card(connect) -> None:
    people = await make_people()
    client_ws, agent_ws, session_id = await start_chat(connect, people)
    watcher_ws = await connect(people["agent2"])
    await send(
        agent_ws,
        {"type": "chat.time_entry", "session_id": session_id, "minutes": 7, "note": "Toner"},
    )
    frame = await receive_type(watcher_ws, "ticket.changed")
    assert frame["change"] == "time"
    assert frame["ticket"]["time_total"] == 7
    entry = frame["time_entry"]
    assert (entry["minutes"], entry["note"], entry["agent"]) == (7, "Toner", AGENT1.full_name)
    assert entry["created_at"]
    await no_frame_of_type(client_ws, "ticket.changed")
    # Another entry (a frame without client_id is a new one): the total grows.
    await send(
        agent_ws,
        {"type": "chat.time_entry", "session_id": session_id, "minutes": 7, "note": "Toner"},
    )
    frame = await receive_type(watcher_ws, "ticket.changed")
    assert frame["ticket"]["time_total"] == 14  # no client_id: a second entry


async def test_a_refused_change_announces_nothing(connect) -> None:
    people = await make_people()
    watcher_ws = await connect(people["agent2"])
    ticket: Ticket = people["ticket"]
    with pytest.raises(ticket_services.TicketError):
        await sync_to_async(ticket_services.ticket_reopen)(ticket=ticket, actor=people["agent1"])
    with pytest.raises(ticket_services.TicketError):
        await sync_to_async(ticket_services.time_entry_add)(
            ticket=ticket, agent=people["agent1"], minutes=0
        )
    await no_frame_of_type(watcher_ws, "ticket.changed")
