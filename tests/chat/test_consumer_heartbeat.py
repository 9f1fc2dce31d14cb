"""The heartbeat's reply (``pong``) names the last seq of every chat the
socket hears live (chat/frames/heartbeat.py), so a browser finds a message
whose event was lost even when nothing comes after it."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from asgiref.sync import sync_to_async

from chat import services
from chat.models import ChatSession
from tests.chat.test_consumer_chat import make_people, start_chat
from tests.personas import SUPERVISOR
from tests.realtime.conftest import receive_type, send

pytestmark = pytest.mark.django_db(transaction=True)


async def pong_of(ws: Any) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    await send(ws, {"type": "ping", "ref": "beat"})
    pong = await receive_type(ws, "pong")
    assert pong["ref"] == "beat"
    return pong


async def types_until_quiet(ws: Any) -> list[str]:  # type: ignore[no-untyped-def]
    """The types of the frames that come until none has come for 0.3 s."""
    types = []
    while not await ws.receive_nothing(timeout=0.3):
        types.append((await ws.receive_json_from(timeout=5))["type"])
    return types


@sync_to_async
def last_seq(session_id: int) -> int:
    return ChatSession.objects.get(pk=session_id).last_seq


@sync_to_async
def send_with_the_event_lost(session_id: int, author: Any, body: str) -> int:
    """A message stored, its broadcast lost on the way (as to a Redis that had
    just restarted): nobody hears of it."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("chat.broadcasts._deliver", lambda frames: None)
        result = services.message_send(
            session_id=session_id, author=author, client_id=uuid.uuid4(), body=body
        )
    return result.message.seq


async def test_the_pong_names_each_chat_of_the_socket_with_its_last_seq(connect) -> None:
    people = await make_people()
    client_ws, agent_ws, session_id = await start_chat(connect, people)
    expected = {"chat_seqs": {str(session_id): await last_seq(session_id)}}
    assert (await pong_of(client_ws)).items() >= expected.items()
    assert (await pong_of(agent_ws)).items() >= expected.items()


async def test_a_message_whose_event_was_lost_shows_in_the_next_pong_and_is_fetched(
    connect,
) -> None:
    people = await make_people()
    client_ws, agent_ws, session_id = await start_chat(connect, people)
    seen = await last_seq(session_id)
    seq = await send_with_the_event_lost(session_id, people["alice"], "Still there?")
    assert seq == seen + 1
    assert "chat.message" not in await types_until_quiet(agent_ws)  # no event came

    pong = await pong_of(agent_ws)
    assert pong["chat_seqs"] == {str(session_id): seq}
    # What the browser does with a last seq past its own: chat.history.
    await send(agent_ws, {"type": "chat.history", "session_id": session_id, "after_seq": seen})
    page = await receive_type(agent_ws, "chat.messages")
    assert [(m["seq"], m["body"]) for m in page["messages"]] == [(seq, "Still there?")]


async def test_a_socket_in_no_chat_gets_an_empty_list(connect) -> None:
    people = await make_people()
    await start_chat(connect, people)
    outsider = await connect(people["carol"])  # a client of another company
    other_agent = await connect(people["agent2"])  # not in the room
    assert (await pong_of(outsider))["chat_seqs"] == {}
    assert (await pong_of(other_agent))["chat_seqs"] == {}


async def test_a_chat_the_socket_left_is_no_longer_named(connect) -> None:
    people = await make_people()
    client_ws, agent_ws, session_id = await start_chat(connect, people)
    await send(client_ws, {"type": "chat.leave", "session_id": session_id, "ref": "l"})
    await receive_type(client_ws, "chat.left")
    assert (await pong_of(client_ws))["chat_seqs"] == {}
    assert str(session_id) in (await pong_of(agent_ws))["chat_seqs"]


async def test_a_watching_supervisor_hears_the_chat_once(connect) -> None:
    """A watch joins the chat's group and its staff group: one entry."""
    people = await make_people()
    _client_ws, _agent_ws, session_id = await start_chat(connect, people)
    supervisor = await sync_to_async(SUPERVISOR.create)()
    sup = await connect(supervisor)
    await send(sup, {"type": "chat.watch", "session_id": session_id})
    await receive_type(sup, "chat.watching")
    assert (await pong_of(sup))["chat_seqs"] == {str(session_id): await last_seq(session_id)}
