"""WhatsApp templates: managed in Django admin, offered to agents when
approved, filled in and sent as Meta's template message (exactly once
however often the send task runs), shown in the chat as the filled text. The
way to write to a WhatsApp client once its 24-hour window has closed."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone
from pytest_httpserver import HTTPServer

from chat import services, tasks
from chat.errors import ChatNotFound, InvalidState, MessageInvalid
from chat.models import ChatSession, DeliveryStatus, Message, PhoneClient, WhatsAppTemplate
from chat.payloads import message_payload
from chat.whatsapp_templates import approved_templates, template_send
from tests.chat.channels.conftest import (
    TWILIO_MESSAGES_PATH,
    WA_MESSAGES_PATH,
    WA_TOKEN,
)
from tests.chat.channels.signed import post_twilio, post_whatsapp, sms, wa_text, whatsapp_value
from tests.personas import ADMIN
from tests.realtime.conftest import receive_type, send

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def follow_up() -> WhatsAppTemplate:
    return WhatsAppTemplate.objects.create(
        name="ticket_follow_up",
        language="en_US",
        body="Hello {{1}}, this is {{2}} from the helpdesk about ticket {{3}}. Reply here.",
        approved=True,
    )


@pytest.fixture
def stale_chat(client, whatsapp_on: HTTPServer, agent1, default_queue) -> ChatSession:  # type: ignore[no-untyped-def]
    """A WhatsApp chat joined by agent1 whose client last wrote two days ago."""
    whatsapp_on.expect_request(WA_MESSAGES_PATH, method="POST").respond_with_json(
        {"messaging_product": "whatsapp", "messages": [{"id": "wamid.tpl1"}]}
    )
    post_whatsapp(client, whatsapp_value([wa_text("wamid.in1", "Printer jammed")]))
    session = services.session_join(session_id=ChatSession.objects.get().pk, agent=agent1)
    PhoneClient.objects.update(whatsapp_received_at=timezone.now() - timedelta(days=2))
    return session


def calls(server: HTTPServer) -> list[Any]:
    return [request for request, _ in server.log if request.path == WA_MESSAGES_PATH]


def test_a_template_goes_out_as_metas_template_message_once(
    stale_chat, agent1, follow_up, whatsapp_on
) -> None:
    result = template_send(
        session_id=stale_chat.pk,
        agent=agent1,
        template_id=follow_up.pk,
        values=["Jane", "Priya", "#42"],
        client_id=uuid.uuid4(),
    )
    tasks.deliver_message.apply(args=[result.message.pk])  # the task runs again

    (call,) = calls(whatsapp_on)
    assert call.headers["Authorization"] == f"Bearer {WA_TOKEN}"
    assert call.json == {
        "messaging_product": "whatsapp",
        "to": "447700900123",
        "type": "template",
        "template": {
            "name": "ticket_follow_up",
            "language": {"code": "en_US"},
            "components": [
                {
                    "type": "body",
                    "parameters": [
                        {"type": "text", "text": "Jane"},
                        {"type": "text", "text": "Priya"},
                        {"type": "text", "text": "#42"},
                    ],
                }
            ],
        },
    }
    message = Message.objects.get(pk=result.message.pk)
    # The chat shows the filled text, sent by the agent, with its tick.
    assert message.body == (
        "Hello Jane, this is Priya from the helpdesk about ticket #42. Reply here."
    )
    assert message.author == agent1
    assert (message.delivery_status, message.provider_message_id) == ("sent", "wamid.tpl1")
    assert message_payload(message)["delivery"]["status"] == DeliveryStatus.SENT


def test_a_template_without_placeholders_has_no_components(stale_chat, agent1, whatsapp_on) -> None:
    hello = WhatsAppTemplate.objects.create(
        name="hello_again", language="de", body="Hallo! Wir melden uns.", approved=True
    )

    template_send(
        session_id=stale_chat.pk,
        agent=agent1,
        template_id=hello.pk,
        values=[],
        client_id=uuid.uuid4(),
    )

    (call,) = calls(whatsapp_on)
    assert call.json["template"] == {"name": "hello_again", "language": {"code": "de"}}


def test_a_template_sent_again_with_its_client_id_is_stored_once(
    stale_chat, agent1, follow_up, whatsapp_on
) -> None:
    client_id = uuid.uuid4()
    values = ["Jane", "Priya", "#42"]
    first = template_send(
        session_id=stale_chat.pk,
        agent=agent1,
        template_id=follow_up.pk,
        values=values,
        client_id=client_id,
    )
    again = template_send(
        session_id=stale_chat.pk,
        agent=agent1,
        template_id=follow_up.pk,
        values=values,
        client_id=client_id,
    )

    assert (first.created, again.created) == (True, False)
    assert again.message.pk == first.message.pk
    assert len(calls(whatsapp_on)) == 1


@pytest.mark.parametrize(
    ("values", "says"),
    [
        (["Jane", "Priya"], "This template takes 3 values"),
        (["Jane", " ", "#42"], "Fill in {{2}}."),
        (["Jane", "Priya\nShah", "#42"], "{{2}} cannot hold a line break"),
        (["Jane", "Priya", "x" * 1001], "{{3}} may be at most 1,000 characters."),
    ],
)
def test_bad_values_are_refused_and_nothing_is_stored_or_sent(
    stale_chat, agent1, follow_up, whatsapp_on, values, says
) -> None:
    stored = Message.objects.count()
    with pytest.raises(MessageInvalid) as refused:
        template_send(
            session_id=stale_chat.pk,
            agent=agent1,
            template_id=follow_up.pk,
            values=values,
            client_id=uuid.uuid4(),
        )

    assert refused.value.code == "template_values"
    assert str(refused.value).startswith(says)
    assert Message.objects.count() == stored
    assert calls(whatsapp_on) == []


def test_only_approved_templates_are_offered_and_sent(stale_chat, agent1, follow_up) -> None:
    pending = WhatsAppTemplate.objects.create(name="draft", body="Hi {{1}}", approved=False)

    assert [t["name"] for t in approved_templates()] == ["ticket_follow_up"]
    assert approved_templates()[0]["placeholders"] == 3
    with pytest.raises(ChatNotFound):
        template_send(
            session_id=stale_chat.pk,
            agent=agent1,
            template_id=pending.pk,
            values=["Jane"],
            client_id=uuid.uuid4(),
        )


def test_templates_go_to_whatsapp_chats_only_and_only_from_the_room(
    client, twilio_on, stale_chat, agent1, agent2, follow_up
) -> None:
    twilio_on.expect_request(TWILIO_MESSAGES_PATH).respond_with_json({"sid": "SM1"})
    post_twilio(client, sms("SMin1", sender="+447700900999"))
    sms_chat = services.session_join(
        session_id=ChatSession.objects.get(channel="sms").pk, agent=agent1
    )

    def send_to(session: ChatSession, agent: Any) -> None:
        template_send(
            session_id=session.pk,
            agent=agent,
            template_id=follow_up.pk,
            values=["Jane", "Priya", "#42"],
            client_id=uuid.uuid4(),
        )

    with pytest.raises(InvalidState) as refused:
        send_to(sms_chat, agent1)
    assert refused.value.code == "not_whatsapp"
    with pytest.raises(ChatNotFound):
        send_to(stale_chat, agent2)  # not in the chat


@pytest.mark.parametrize(
    ("fields", "error_field"),
    [
        ({"name": "Ticket Follow-up"}, "name"),
        ({"language": "english"}, "language"),
        ({"body": "Hello {{1}}, about {{3}}"}, "body"),
        ({"body": "Hello {{2}}"}, "body"),
    ],
)
def test_admin_refuses_a_template_meta_would_not_have(fields, error_field) -> None:
    template = WhatsAppTemplate(
        **{"name": "ok_name", "language": "en_US", "body": "Hi {{1}}", **fields}
    )
    with pytest.raises(ValidationError) as refused:
        template.full_clean()
    assert error_field in refused.value.message_dict


async def test_over_the_socket_staff_get_the_templates_and_send_one(
    connect, stale_chat, agent1, alice, follow_up, whatsapp_on
) -> None:
    ws = await connect(agent1)
    await send(ws, {"type": "chat.whatsapp_templates", "ref": "t"})
    offered = await receive_type(ws, "chat.whatsapp_templates")
    assert [t["name"] for t in offered["templates"]] == ["ticket_follow_up"]

    client_id = str(uuid.uuid4())
    frame = {
        "type": "chat.send_template",
        "session_id": stale_chat.pk,
        "template_id": follow_up.pk,
        "values": ["Jane", "Priya", "#42"],
        "client_id": client_id,
        "ref": "s",
    }
    await send(ws, frame)
    ack = await receive_type(ws, "chat.ack")
    assert ack["created"] is True and ack["client_id"] == client_id
    assert ack["message"]["body"].startswith("Hello Jane, this is Priya")

    # A client may do neither.
    portal = await connect(alice)
    await send(portal, {"type": "chat.whatsapp_templates", "ref": "t"})
    assert (await receive_type(portal, "error"))["code"] == "forbidden"
    await send(portal, {**frame, "client_id": str(uuid.uuid4())})
    assert (await receive_type(portal, "error"))["code"] == "forbidden"


def test_an_administrator_adds_and_approves_a_template_in_admin(client) -> None:
    client.force_login(ADMIN.create())
    add = reverse("admin:chat_whatsapptemplate_add")
    form = {"name": "ticket_update", "language": "en_US", "body": "Hi {{1}}, see {{3}}"}

    refused = client.post(add, {**form, "approved": "on"})
    assert refused.status_code == 200
    assert "without gaps (found {{1}}, {{3}})" in refused.content.decode()
    assert not WhatsAppTemplate.objects.exists()

    saved = client.post(add, {**form, "body": "Hi {{1}}, see {{2}}", "approved": "on"})
    assert saved.status_code == 302
    assert [t["name"] for t in approved_templates()] == ["ticket_update"]
    listing = client.get(reverse("admin:chat_whatsapptemplate_changelist"))
    assert listing.status_code == 200 and "ticket_update" in listing.content.decode()
