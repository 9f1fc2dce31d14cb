"""Hostile values in the fields of chat frames, sent into a live chat by its
client: text no database column can store (NUL, an unpaired surrogate) and
numbers past what a browser or a 64-bit column holds. Each is refused with
``invalid`` naming the field, nothing is stored, nothing is logged at ERROR."""

from __future__ import annotations

import logging
import uuid
from typing import Any

import pytest
from asgiref.sync import sync_to_async

from chat.models import Message, PageView
from tests.factories import active_post_ticket_chat
from tests.realtime.conftest import receive_type

pytestmark = pytest.mark.django_db(transaction=True)

BEYOND_JS = "9007199254740992"  # 2**53: a browser's JSON.parse cannot read it exactly
BEYOND_SQL = "1" + "0" * 30  # past a 64-bit integer column


def chat_send(session_id: str, body: str) -> str:
    return (
        f'{{"type":"chat.send","ref":"s1","session_id":{session_id},'
        f'"client_id":"{uuid.uuid4()}","body":"{body}"}}'
    )


# (frame text with {id} for the chat's id, the field named in the error)
HOSTILE_FIELDS = [
    pytest.param(chat_send("{id}", "a NUL \\u0000 in a message"), "body", id="send-nul"),
    pytest.param(chat_send("{id}", "half a pair \\ud800 here"), "body", id="send-high-surrogate"),
    pytest.param(chat_send("{id}", "the other half \\udfff"), "body", id="send-low-surrogate"),
    pytest.param(chat_send(BEYOND_SQL, "hello"), "session_id", id="send-id-past-64-bits"),
    pytest.param(chat_send(BEYOND_JS, "hello"), "session_id", id="send-id-past-2**53"),
    pytest.param(
        '{"type":"chat.open","ref":"s1","session_id":' + BEYOND_SQL + "}",
        "session_id",
        id="open-id-past-64-bits",
    ),
    pytest.param(
        '{"type":"chat.open","ref":"s1","session_id":{id},"last_seq":' + BEYOND_SQL + "}",
        "last_seq",
        id="open-seq-past-64-bits",
    ),
    pytest.param(
        '{"type":"chat.read","ref":"s1","session_id":{id},"seq":' + BEYOND_SQL + "}",
        "seq",
        id="read-seq-past-64-bits",
    ),
    pytest.param(
        '{"type":"chat.typing","ref":"s1","session_id":-' + BEYOND_SQL + "}",
        "session_id",
        id="typing-id-below-64-bits",
    ),
    pytest.param(
        '{"type":"chat.page_view","ref":"s1","session_id":{id},"path":"/portal/\\u0000"}',
        "path",
        id="page-view-nul",
    ),
    pytest.param(
        '{"type":"chat.page_view","ref":"s1","session_id":{id},"path":"/p","title":"\\ud83d"}',
        "title",
        id="page-view-surrogate",
    ),
]


@sync_to_async
def live_chat() -> tuple[int, Any]:
    session, client, _agent = active_post_ticket_chat()
    return session.pk, client


@sync_to_async
def stored() -> tuple[int, int]:
    return Message.objects.count(), PageView.objects.count()


@pytest.mark.parametrize(("template", "field"), HOSTILE_FIELDS)
async def test_a_hostile_field_value_is_refused_and_nothing_is_stored(
    connect, caplog: pytest.LogCaptureFixture, template: str, field: str
) -> None:
    session_id, client = await live_chat()
    client_ws = await connect(client)
    before = await stored()
    caplog.set_level(logging.INFO)
    await client_ws.send_to(text_data=template.replace("{id}", str(session_id)))
    error = await receive_type(client_ws, "error")
    assert error["code"] == "invalid", error
    assert error["ref"] == "s1"
    assert set(error["fields"]) == {field}, error
    assert await stored() == before
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], caplog.text
