"""WhatsApp's 24-hour window: an agent's free text goes to a WhatsApp client
only within SWITCHBOARD_WHATSAPP_WINDOW_SECONDS of the client's last message;
after that the server refuses it with a clear message (and stores and sends
nothing), until the client writes again. SMS and the portal have no window."""

from __future__ import annotations

import json
import logging
import uuid
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from asgiref.sync import sync_to_async
from django.utils import timezone
from pytest_httpserver import HTTPServer
from werkzeug import Response

from chat import services
from chat.errors import WindowClosed
from chat.models import ChatSession, Message, PhoneClient
from chat.payloads import session_payload
from chat.selectors import session_payload_of, session_payloads_of
from tests.chat.channels.conftest import (
    TWILIO_MESSAGES_PATH,
    WA_MESSAGES_PATH,
)
from tests.chat.channels.signed import post_twilio, post_whatsapp, sms, wa_text, whatsapp_value
from tests.realtime.conftest import receive_type, send

pytestmark = pytest.mark.django_db(transaction=True)

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
DAY = timedelta(seconds=86400)
CLOSED = "The 24-hour window has closed: send an approved template"


def reply(session: ChatSession, agent, body: str = "Did that help?"):  # type: ignore[no-untyped-def]
    return services.message_send(
        session_id=session.pk, author=agent, client_id=uuid.uuid4(), body=body
    )


def sends(server: HTTPServer, path: str) -> list[str]:
    """The texts sent through the fake provider (a WhatsApp JSON body, a Twilio form)."""
    return [
        request.json["text"]["body"] if request.is_json else request.form["Body"]
        for request, _ in server.log
        if request.path == path
    ]


@pytest.fixture
def wa_chat(client, whatsapp_on: HTTPServer, agent1, default_queue) -> ChatSession:  # type: ignore[no-untyped-def]
    """A WhatsApp request that came at T0, joined by agent1."""
    whatsapp_on.expect_request(WA_MESSAGES_PATH, method="POST").respond_with_handler(
        lambda request: Response(
            json.dumps({"messages": [{"id": f"wamid.{uuid.uuid4().hex}"}]}),
            content_type="application/json",
        )
    )
    with time_machine.travel(T0, tick=False):
        post_whatsapp(client, whatsapp_value([wa_text("wamid.in1", "My screen is black")]))
        session = ChatSession.objects.get()
        return services.session_join(session_id=session.pk, agent=agent1)


def test_free_text_within_the_window_is_sent(wa_chat, agent1, whatsapp_on) -> None:
    with time_machine.travel(T0 + DAY - timedelta(seconds=1), tick=False):
        reply(wa_chat, agent1, "Still there?")

    assert sends(whatsapp_on, WA_MESSAGES_PATH) == ["Still there?"]


def test_free_text_after_the_window_is_refused_and_nothing_is_stored_or_sent(
    wa_chat, agent1, whatsapp_on
) -> None:
    stored = Message.objects.count()
    with time_machine.travel(T0 + DAY, tick=False), pytest.raises(WindowClosed) as refused:
        reply(wa_chat, agent1, "Hello again")

    assert str(refused.value) == CLOSED
    assert refused.value.code == "window_closed"
    assert Message.objects.count() == stored
    assert sends(whatsapp_on, WA_MESSAGES_PATH) == []


def test_the_client_writing_again_opens_the_window_again(
    client, wa_chat, agent1, whatsapp_on
) -> None:
    later = T0 + 3 * DAY
    with time_machine.travel(later, tick=False):
        with pytest.raises(WindowClosed):
            reply(wa_chat, agent1, "Too late")
        post_whatsapp(client, whatsapp_value([wa_text("wamid.in2", "Sorry, I was away")]))
        assert ChatSession.objects.get().pk == wa_chat.pk  # the same chat goes on
        reply(wa_chat, agent1, "Welcome back")
    with time_machine.travel(later + DAY - timedelta(seconds=1), tick=False):
        reply(wa_chat, agent1, "Anything else?")

    assert sends(whatsapp_on, WA_MESSAGES_PATH) == ["Welcome back", "Anything else?"]


def test_the_window_runs_from_the_numbers_last_whatsapp_message(client, wa_chat) -> None:
    phone = PhoneClient.objects.get()
    assert phone.whatsapp_received_at == T0
    with time_machine.travel(T0 + timedelta(hours=5), tick=False):
        post_whatsapp(client, whatsapp_value([wa_text("wamid.in2")]))
        post_whatsapp(client, whatsapp_value([wa_text("wamid.in2")]))  # a replay moves nothing
    phone.refresh_from_db()
    assert phone.whatsapp_received_at == T0 + timedelta(hours=5)


def test_the_chat_says_when_its_window_closes(client, wa_chat, sent) -> None:
    closes = (T0 + DAY).isoformat()
    assert session_payload_of(wa_chat.pk)["window_closes_at"] == closes
    assert session_payloads_of([wa_chat.pk])[0]["window_closes_at"] == closes

    # The client writes again: the agent's window hears the window move.
    with time_machine.travel(T0 + timedelta(hours=2), tick=False):
        post_whatsapp(client, whatsapp_value([wa_text("wamid.in2", "One more thing")]))
    moved = [frame["session"] for _, frame in sent.of_type("chat.session")]
    assert moved[-1]["window_closes_at"] == (T0 + DAY + timedelta(hours=2)).isoformat()


def test_sms_and_portal_chats_have_no_window(
    client, twilio_on: HTTPServer, agent1, default_queue, alice
) -> None:
    twilio_on.expect_request(TWILIO_MESSAGES_PATH, method="POST").respond_with_json({"sid": "SMo"})
    with time_machine.travel(T0, tick=False):
        post_twilio(client, sms("SMin1"))
        session = services.session_join(session_id=ChatSession.objects.get().pk, agent=agent1)
    with time_machine.travel(T0 + 3 * DAY, tick=False):
        reply(session, agent1, "Three days later")
        portal = services.session_request(client=alice, kind="pre_ticket", subject="VPN")
        services.session_join(session_id=portal.pk, agent=agent1)
        reply(portal, agent1, "Hello Alice")

    assert session_payload(ChatSession.objects.get(pk=session.pk))["window_closes_at"] is None
    assert (
        sends(twilio_on, TWILIO_MESSAGES_PATH)
        and "Three days later" in sends(twilio_on, TWILIO_MESSAGES_PATH)[0]
    )


async def test_the_agents_window_is_told_why_over_the_socket(
    connect, client, whatsapp_on, agent1, default_queue, caplog
) -> None:
    @sync_to_async
    def chat_two_days_old() -> int:
        post_whatsapp(client, whatsapp_value([wa_text("wamid.in1")]))
        session = services.session_join(session_id=ChatSession.objects.get().pk, agent=agent1)
        PhoneClient.objects.update(whatsapp_received_at=timezone.now() - 2 * DAY)
        return session.pk

    session_id = await chat_two_days_old()
    ws = await connect(agent1)
    await send(
        ws,
        {
            "type": "chat.send",
            "session_id": session_id,
            "client_id": str(uuid.uuid4()),
            "body": "Hello?",
            "ref": "s1",
        },
    )

    refused = await receive_type(ws, "error")
    assert refused == {"type": "error", "code": "window_closed", "message": CLOSED, "ref": "s1"}
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert await sync_to_async(Message.objects.filter(body="Hello?").exists)() is False
