"""A file message reaches both sides over the socket (real channel layer),
is replayed by chat.open after a reconnect, and shows in a supervisor's
watch; the upload itself is HTTP (chat.files.views), the delivery is the
same chat.message frame as a text message's."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from asgiref.sync import sync_to_async

from chat.files.services import attachment_send
from tests.chat.files_helpers import PDF_BYTES, png_bytes, upload
from tests.chat.test_consumer_chat import make_people, start_chat
from tests.realtime.conftest import receive_type, send

pytestmark = pytest.mark.django_db(transaction=True)


@sync_to_async
def send_file(session_id: int, user, name: str, content: bytes) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    from chat.payloads import message_payload

    result = attachment_send(
        session_id=session_id, author=user, client_id=uuid.uuid4(), upload=upload(name, content)
    )
    return message_payload(result.message)


async def next_file_message(ws) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    while True:
        frame = await receive_type(ws, "chat.message")
        if frame["message"]["kind"] == "file":
            return frame["message"]


async def test_file_message_reaches_both_sides(connect) -> None:
    people = await make_people()
    client_ws, agent_ws, session_id = await start_chat(connect, people)

    sent = await send_file(session_id, people["alice"], "screen.png", png_bytes())
    for ws in (client_ws, agent_ws):
        message = await next_file_message(ws)
        assert message["seq"] == sent["seq"]
        assert message["body"] == "screen.png"
        assert message["author"]["id"] == people["alice"].pk
        assert message["attachment"]["name"] == "screen.png"
        assert message["attachment"]["preview_url"].endswith("/preview/")

    sent = await send_file(session_id, people["agent1"], "guide.pdf", PDF_BYTES)
    for ws in (client_ws, agent_ws):
        message = await next_file_message(ws)
        assert message["attachment"]["name"] == "guide.pdf"
        assert message["attachment"]["preview_url"] is None
        assert message["attachment"]["url"] == sent["attachment"]["url"]


async def test_reconnect_replays_the_file_message(connect) -> None:
    people = await make_people()
    client_ws, _agent_ws, session_id = await start_chat(connect, people)
    sent = await send_file(session_id, people["agent1"], "guide.pdf", PDF_BYTES)
    await client_ws.disconnect()

    again = await connect(people["alice"])
    await send(again, {"type": "chat.open", "session_id": session_id, "last_seq": sent["seq"] - 1})
    state = await receive_type(again, "chat.state")
    (replayed,) = [m for m in state["messages"] if m["seq"] == sent["seq"]]
    assert replayed["kind"] == "file"
    assert replayed["attachment"] == sent["attachment"]


async def test_outsider_socket_hears_nothing(connect) -> None:
    people = await make_people()
    _client_ws, _agent_ws, session_id = await start_chat(connect, people)
    other = await connect(people["agent2"])
    await send(other, {"type": "chat.open", "session_id": session_id, "last_seq": 0})
    error = await receive_type(other, "error")
    assert error["code"] == "not_found"
    await send_file(session_id, people["alice"], "screen.png", png_bytes())
    assert await other.receive_nothing(timeout=0.3)
