"""An agent answering an SMS or WhatsApp chat: each message goes out through
the provider exactly once however often its task runs, its delivery state
moves only forward with the providers' reports and reaches the agent's
window; Join, End and the transcript work as on the portal."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone
from pytest_httpserver import HTTPServer

from chat import services, tasks
from chat.channels import delivery
from chat.models import ChatSession, DeliveryStatus, Message, SessionStatus
from chat.payloads import message_payload
from tests.chat.channels.conftest import TWILIO_MESSAGES_PATH, WA_MESSAGES_PATH
from tests.chat.channels.signed import (
    STATUS_PATH,
    post_twilio,
    post_whatsapp,
    sms,
    twilio_status,
    wa_status,
    wa_text,
    whatsapp_value,
)
from tickets.models import TicketAttachment

pytestmark = pytest.mark.django_db(transaction=True)


def sms_chat(client, agent) -> ChatSession:  # type: ignore[no-untyped-def]
    """An unknown number's SMS request, joined by ``agent``."""
    post_twilio(client, sms("SMin1", body="My laptop will not start"))
    session = ChatSession.objects.get()
    return services.session_join(session_id=session.pk, agent=agent)


def reply(session: ChatSession, agent, body: str = "Hold the power button for 10 s"):  # type: ignore[no-untyped-def]
    return services.message_send(
        session_id=session.pk, author=agent, client_id=uuid.uuid4(), body=body
    ).message


def provider_calls(server: HTTPServer, path: str) -> list:  # type: ignore[type-arg]
    return [request for request, _ in server.log if request.path == path]


def test_an_agents_reply_is_sent_once_however_often_its_task_runs(
    client, twilio_on: HTTPServer, agent1, default_queue
) -> None:
    twilio_on.expect_request(TWILIO_MESSAGES_PATH, method="POST").respond_with_json(
        {"sid": "SMout1", "status": "queued"}, status=201
    )
    session = sms_chat(client, agent1)

    message = reply(session, agent1)  # the task runs once after commit
    tasks.deliver_message.delay(message.pk)  # and again: a redelivered task
    tasks.deliver_message.apply(args=[message.pk])

    (call,) = provider_calls(twilio_on, TWILIO_MESSAGES_PATH)
    assert call.form["To"] == "+447700900123"
    assert call.form["Body"] == "Hold the power button for 10 s"
    message.refresh_from_db()
    assert (message.delivery_status, message.provider_message_id) == ("sent", "SMout1")
    assert message_payload(message)["delivery"]["status"] == "sent"


def test_a_whatsapp_reply_is_sent_once_too(
    client, whatsapp_on: HTTPServer, agent1, default_queue
) -> None:
    whatsapp_on.expect_request(WA_MESSAGES_PATH, method="POST").respond_with_json(
        {"messages": [{"id": "wamid.out1"}]}
    )
    post_whatsapp(client, whatsapp_value([wa_text("wamid.in1")]))
    session = services.session_join(session_id=ChatSession.objects.get().pk, agent=agent1)

    message = reply(session, agent1, "Hello Jane")
    tasks.deliver_message.apply(args=[message.pk])

    (call,) = provider_calls(whatsapp_on, WA_MESSAGES_PATH)
    assert call.json["text"] == {"body": "Hello Jane"} and call.json["to"] == "447700900123"
    message.refresh_from_db()
    assert message.provider_message_id == "wamid.out1"


def test_status_reports_move_the_tick_forward_only(
    client, twilio_on: HTTPServer, agent1, default_queue, sent
) -> None:
    twilio_on.expect_request(TWILIO_MESSAGES_PATH, method="POST").respond_with_json(
        {"sid": "SMout1"}
    )
    message = reply(sms_chat(client, agent1), agent1)

    def status() -> str:
        return Message.objects.get(pk=message.pk).delivery_status

    assert (
        post_twilio(client, twilio_status("SMout1", "delivered"), path=STATUS_PATH).status_code
        == 200
    )
    assert status() == DeliveryStatus.DELIVERED
    post_twilio(client, twilio_status("SMout1", "sent"), path=STATUS_PATH)  # late and older
    assert status() == DeliveryStatus.DELIVERED
    post_twilio(client, twilio_status("SMout1", "undelivered", ErrorCode="30003"), path=STATUS_PATH)
    assert status() == DeliveryStatus.DELIVERED  # failed only before delivered
    post_twilio(client, twilio_status("SMout1", "read"), path=STATUS_PATH)
    assert status() == DeliveryStatus.READ
    # The agent's window heard each change.
    ticks = [frame["delivery"]["status"] for _, frame in sent.of_type("chat.delivery")]
    assert ticks == ["sent", "delivered", "read"]
    assert {frame["seq"] for _, frame in sent.of_type("chat.delivery")} == {message.seq}


def test_a_whatsapp_failure_report_carries_the_providers_words(
    client, whatsapp_on: HTTPServer, agent1, default_queue
) -> None:
    whatsapp_on.expect_request(WA_MESSAGES_PATH).respond_with_json(
        {"messages": [{"id": "wamid.o"}]}
    )
    post_whatsapp(client, whatsapp_value([wa_text("wamid.in1")]))
    message = reply(
        services.session_join(session_id=ChatSession.objects.get().pk, agent=agent1), agent1
    )

    error = {"code": 131047, "title": "Re-engagement message", "error_data": {"details": "24 h"}}
    post_whatsapp(client, whatsapp_value(statuses=[wa_status("wamid.o", "failed", errors=[error])]))

    message.refresh_from_db()
    assert message.delivery_status == DeliveryStatus.FAILED
    assert message.delivery_error == "131047 Re-engagement message 24 h"


def test_a_refusal_fails_the_message_with_the_providers_words(
    client, twilio_on: HTTPServer, agent1, default_queue
) -> None:
    twilio_on.expect_request(TWILIO_MESSAGES_PATH).respond_with_json(
        {"code": 21610, "message": "Attempt to send to unsubscribed recipient"}, status=400
    )
    message = reply(sms_chat(client, agent1), agent1)

    message.refresh_from_db()
    assert message.delivery_status == DeliveryStatus.FAILED
    assert message.delivery_error == "Twilio error 21610: Attempt to send to unsubscribed recipient"
    assert len(provider_calls(twilio_on, TWILIO_MESSAGES_PATH)) == 1


def test_a_provider_that_is_down_is_tried_again_and_nothing_is_sent_twice(
    client, twilio_on: HTTPServer, agent1, default_queue, settings
) -> None:
    session = sms_chat(client, agent1)
    settings.TWILIO_API_BASE = "http://127.0.0.1:9"  # nobody listens
    message = Message.objects.get(pk=reply(session, agent1).pk)
    # Every try found it unreachable: given up, failed, nothing sent.
    assert message.delivery_status == DeliveryStatus.FAILED
    assert message.delivery_error == tasks.GAVE_UP

    # A send that finds it down hands its claim back for the next try.
    again = reply(session, agent1, "Second try")
    Message.objects.filter(pk=again.pk).update(
        delivery_status=DeliveryStatus.QUEUED, delivery_error=""
    )
    assert delivery.message_deliver(message_id=again.pk) is delivery.Outcome.RETRY
    assert Message.objects.get(pk=again.pk).delivery_status == DeliveryStatus.QUEUED


def test_a_send_interrupted_after_its_claim_is_never_sent_again(
    client, twilio_on: HTTPServer, agent1, default_queue
) -> None:
    """The crash window: the claim was taken and the process died before the
    provider's id was stored. The provider may have sent it: no second call."""
    twilio_on.expect_request(TWILIO_MESSAGES_PATH).respond_with_json({"sid": "SMx"})
    session = sms_chat(client, agent1)
    message = reply(session, agent1)
    twilio_on.clear_log()
    claimed = timezone.now() - timedelta(seconds=delivery.CLAIM_STALE_SECONDS + 1)
    Message.objects.filter(pk=message.pk).update(
        delivery_status=DeliveryStatus.SENDING, provider_message_id=None, send_claimed_at=claimed
    )

    assert delivery.message_deliver(message_id=message.pk) is delivery.Outcome.FAILED
    message.refresh_from_db()
    assert message.delivery_status == DeliveryStatus.FAILED
    assert message.delivery_error == delivery.INTERRUPTED
    assert twilio_on.log == []

    # A claim still young may be a run waiting for the provider: left alone.
    Message.objects.filter(pk=message.pk).update(
        delivery_status=DeliveryStatus.SENDING, send_claimed_at=timezone.now()
    )
    assert delivery.message_deliver(message_id=message.pk) is delivery.Outcome.RETRY
    assert twilio_on.log == []


def test_join_end_with_a_ticket_and_the_transcript_on_an_sms_chat(
    client, twilio_on: HTTPServer, alice, agent1, agent2, default_queue
) -> None:
    twilio_on.expect_request(TWILIO_MESSAGES_PATH).respond_with_json({"sid": "SMout1"})
    post_twilio(client, sms("SMin1", sender=alice.contact.phone_e164, body="VPN drops"))
    session = ChatSession.objects.get()

    joined = services.session_join(session_id=session.pk, agent=agent1)
    assert joined.status == SessionStatus.ACTIVE
    with pytest.raises(Exception, match="already taken"):
        services.session_join(session_id=session.pk, agent=agent2)
    reply(joined, agent1, "Which VPN client?")
    ended = services.session_end(
        session_id=session.pk,
        agent=agent1,
        outcome=services.EndOutcome.CREATE_TICKET,
        subject="VPN drops (by SMS)",
    )

    ended.refresh_from_db()
    assert ended.status == SessionStatus.ENDED and ended.ticket.contact == alice.contact
    transcript = TicketAttachment.objects.get(ticket=ended.ticket)
    text = transcript.file.read().decode()
    assert "Channel: SMS, " + alice.contact.phone_e164 in text
    assert "VPN drops" in text and "Which VPN client?" in text


def test_an_unknown_numbers_chat_needs_a_contact_before_a_ticket(
    client, twilio_on: HTTPServer, agent1, default_queue
) -> None:
    session = sms_chat(client, agent1)
    with pytest.raises(Exception, match="link this chat to one first") as refused:
        services.session_end(
            session_id=session.pk, agent=agent1, outcome=services.EndOutcome.CREATE_TICKET
        )
    assert refused.value.code == "contact_required"  # type: ignore[attr-defined]
    services.session_end(
        session_id=session.pk,
        agent=agent1,
        outcome=services.EndOutcome.CLOSE,
        reason="Wrong number",
    )
    assert ChatSession.objects.get().status == SessionStatus.ENDED
