"""Work stored while Redis, the Celery broker, is down is done once it is back.

A WhatsApp message reaches daphne while Redis is stopped (the provider's
webhook is plain HTTP, which needs no Redis; every socket does), outside
office hours: the chat is stored with its auto-reply, a message queued for
the WhatsApp Cloud API exactly as an agent's reply is, and the task that
would send it is refused by the broker. daphne answers the webhook 200 and
warns once, with no error logged. Redis is started again (empty, as after a
crash) and the beat sweep of chat.requeue queues the send again: the fake
provider gets the reply exactly once.
"""

from __future__ import annotations

import time
from datetime import timedelta

from django.utils import timezone
from pytest_httpserver import HTTPServer

from chat.models import ChatSession, DeliveryStatus, Message, SessionStatus
from chat.requeue import REQUEUE_AFTER_SECONDS
from officehours.models import Schedule, WeeklyInterval
from tests.integration.conftest import wait_until
from tests.integration.test_whatsapp_chat import PHONE_ID, SETTINGS, post_webhook, webhook

# The requeue sweeps' clock, faster than its default (30 s) to keep the test short.
REQUEUE_SWEEP = {"SWITCHBOARD_REQUEUE_SWEEP_SECONDS": "2"}
# Redis back, then the grace before a row counts as stuck, a few beats of
# the requeue sweep and the worker's reconnect.
SENT_WITHIN = REQUEUE_AFTER_SECONDS + 30
SETTLE_SECONDS = 6  # after the send: long enough for a second one to show


def closed_all_day() -> None:
    """Office hours that are not now: open three days from now, 09-17 UTC."""
    schedule = Schedule.objects.create(name="Office hours", timezone="UTC")
    weekday = (timezone.now() + timedelta(days=3)).weekday()
    WeeklyInterval.objects.create(schedule=schedule, weekday=weekday, start="09:00", end="17:00")


def provider_sends(provider: HTTPServer) -> list[dict[str, object]]:
    path = f"/graph/{PHONE_ID}/messages"
    return [request.json for request, _ in provider.log if request.path == path]


def test_a_reply_stored_while_redis_was_down_is_sent_once_it_is_back(
    stack_factory, httpserver: HTTPServer
) -> None:
    httpserver.expect_request(f"/graph/{PHONE_ID}/messages", method="POST").respond_with_json(
        {"messaging_product": "whatsapp", "messages": [{"id": "wamid.out1"}]}
    )
    closed_all_day()
    stack = stack_factory(
        SWITCHBOARD_WHATSAPP_API_BASE=httpserver.url_for("/graph"), **SETTINGS, **REQUEUE_SWEEP
    )

    stack.kill("redis")
    inbound = webhook(
        {
            "contacts": [{"profile": {"name": "Jane Doe"}, "wa_id": "447700900123"}],
            "messages": [
                {
                    "from": "447700900123",
                    "id": "wamid.in1",
                    "timestamp": "1",
                    "type": "text",
                    "text": {"body": "Is the VPN down?"},
                }
            ],
        }
    )
    assert post_webhook(stack, inbound) == 200
    session = ChatSession.objects.get()
    assert session.status == SessionStatus.ABANDONED  # outside office hours
    (auto_reply,) = Message.objects.filter(session=session, delivery_status=DeliveryStatus.QUEUED)
    daphne_log = stack.log("daphne")
    assert daphne_log.count("The Celery broker is unreachable") == 1, daphne_log[-3000:]
    assert "ERROR" not in daphne_log and "Traceback" not in daphne_log, daphne_log[-3000:]

    stack.start_redis()
    wait_until(
        lambda: provider_sends(httpserver),
        timeout=SENT_WITHIN,
        what="the sweep to queue the send again and the worker to send it",
    )
    time.sleep(SETTLE_SECONDS)
    stack.check_alive()

    (sent,) = provider_sends(httpserver)
    assert sent["to"] == "447700900123"
    assert sent["text"] == {"body": auto_reply.body}
    auto_reply.refresh_from_db()
    assert (auto_reply.delivery_status, auto_reply.provider_message_id) == ("sent", "wamid.out1")
