"""Office hours and the no-answer timer on SMS and WhatsApp: the client gets
one auto-reply per event (outside office hours, with the next opening time;
nobody answering in time), sent through the provider exactly once however
often the webhook or the sweep runs, and shown in the chat with its tick. The
request then waits in the queue, and turns into a follow-up card like a
portal request nobody answered. The texts are edited in Django admin."""

from __future__ import annotations

import importlib
from datetime import UTC, datetime, time, timedelta
from typing import Any

import pytest
import time_machine
from django.apps import apps as django_apps
from django.urls import reverse
from pytest_httpserver import HTTPServer
from werkzeug import Response

from chat import services, timers
from chat.models import (
    AutoReply,
    AutoReplyKind,
    ChatKind,
    ChatSession,
    ContactChatPermission,
    DeliveryStatus,
    Message,
    MessageKind,
    PermissionValue,
    SessionStatus,
)
from chat.supervision.selectors import follow_up_requests
from officehours.models import Schedule, Weekday, WeeklyInterval
from presence import tasks as presence_tasks
from tests.chat.channels.conftest import (
    TWILIO_MESSAGES_PATH,
    WA_MESSAGES_PATH,
)
from tests.chat.channels.signed import post_twilio, post_whatsapp, sms, wa_text, whatsapp_value
from tests.personas import ADMIN

pytestmark = pytest.mark.django_db(transaction=True)

SUNDAY = datetime(2026, 3, 1, 15, 0, tzinfo=UTC)  # the helpdesk opens Monday 09:00 London
MONDAY = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)  # open
BUSY = "Everyone is busy; we will answer here."


@pytest.fixture
def weekdays_9_to_5() -> Schedule:
    schedule = Schedule.objects.create(name="Weekdays", timezone="Europe/London")
    WeeklyInterval.objects.bulk_create(
        WeeklyInterval(schedule=schedule, weekday=day, start=time(9), end=time(17))
        for day in (Weekday.MONDAY, Weekday.TUESDAY, Weekday.WEDNESDAY)
    )
    return schedule


@pytest.fixture
def providers(twilio_on: HTTPServer, whatsapp_on: HTTPServer) -> HTTPServer:
    """Both channels on; every send answered with a fresh id."""
    counter = iter(range(1, 1000))

    def answer(request: Any) -> Response:
        n = next(counter)
        if request.path == TWILIO_MESSAGES_PATH:
            return Response(f'{{"sid": "SMout{n}"}}', status=201, content_type="application/json")
        return Response(
            f'{{"messages": [{{"id": "wamid.out{n}"}}]}}', content_type="application/json"
        )

    twilio_on.expect_request(TWILIO_MESSAGES_PATH, method="POST").respond_with_handler(answer)
    twilio_on.expect_request(WA_MESSAGES_PATH, method="POST").respond_with_handler(answer)
    return twilio_on


def sent_texts(server: HTTPServer) -> list[str]:
    return [
        request.json["text"]["body"] if request.is_json else request.form["Body"]
        for request, _ in server.log
        if request.path in (TWILIO_MESSAGES_PATH, WA_MESSAGES_PATH)
    ]


def auto_replies(session: ChatSession) -> list[Message]:
    return list(
        session.messages.filter(kind=MessageKind.SYSTEM).exclude(delivery_status="").order_by("seq")
    )


# --- Outside office hours --------------------------------------------------------------------


@pytest.mark.parametrize("channel", ["sms", "whatsapp"])
def test_outside_office_hours_the_client_gets_one_auto_reply_with_the_opening_time(
    client, providers, default_queue, weekdays_9_to_5, channel
) -> None:
    with time_machine.travel(SUNDAY, tick=False):
        if channel == "sms":
            post_twilio(client, sms("SM1", body="Server down"))
            post_twilio(client, sms("SM1", body="Server down"))  # Twilio retries
            post_twilio(client, sms("SM2", body="Still down"))
        else:
            post_whatsapp(client, whatsapp_value([wa_text("wamid.1", "Server down")]))
            post_whatsapp(client, whatsapp_value([wa_text("wamid.1", "Server down")]))
            post_whatsapp(client, whatsapp_value([wa_text("wamid.2", "Still down")]))

    session = ChatSession.objects.get()
    expected = (
        "Thank you for your message. We are closed right now and open again "
        "Monday 09:00 (Europe/London); we will answer you here then."
    )
    assert sent_texts(providers) == [expected]
    (reply,) = auto_replies(session)
    assert reply.body == expected and reply.delivery_status == DeliveryStatus.SENT
    # No portal wording ("Leave a note") in a phone chat.
    assert not session.messages.filter(body__contains="Leave a note").exists()
    # The request is on the supervisor's Tickets tab, as a portal one would be.
    assert session.status == SessionStatus.ABANDONED and session.outside_hours
    assert list(follow_up_requests(state="unassigned")) == [session]


def test_a_new_request_on_another_closed_day_gets_its_own_auto_reply(
    client, providers, default_queue, weekdays_9_to_5, agent1
) -> None:
    with time_machine.travel(SUNDAY, tick=False):
        post_twilio(client, sms("SM1"))
    with time_machine.travel(SUNDAY + timedelta(days=6), tick=False):  # the next Saturday
        post_twilio(client, sms("SM2"))

    assert ChatSession.objects.count() == 2
    assert len(sent_texts(providers)) == 2


def test_a_portal_request_outside_hours_still_reads_as_before(
    alice, weekdays_9_to_5, providers
) -> None:
    with time_machine.travel(SUNDAY, tick=False):
        session = services.session_request(client=alice, kind=ChatKind.PRE_TICKET, subject="VPN")

    assert auto_replies(session) == []
    assert session.messages.filter(body__contains="Leave a note").exists()
    assert sent_texts(providers) == []


# --- Nobody answers ---------------------------------------------------------------------------


@pytest.fixture
def waiting_phone_chats(client, providers, default_queue, alice) -> dict[str, ChatSession]:
    """At MONDAY (open): an SMS, a WhatsApp and a portal request nobody answers."""
    with time_machine.travel(MONDAY, tick=False):
        post_twilio(client, sms("SM1", body="Laptop will not boot"))
        post_whatsapp(client, whatsapp_value([wa_text("wamid.1", "Printer jammed")]))
        portal = services.session_request(client=alice, kind=ChatKind.PRE_TICKET, subject="VPN")
    return {
        "sms": ChatSession.objects.get(channel="sms"),
        "whatsapp": ChatSession.objects.get(channel="whatsapp"),
        "web": portal,
    }


def test_nobody_answering_sends_one_auto_reply_however_often_the_sweep_runs(
    waiting_phone_chats, providers
) -> None:
    due = MONDAY + timedelta(seconds=61)
    with time_machine.travel(due, tick=False):
        assert timers.sweep_no_answer(now=due) == 3
        assert timers.sweep_no_answer(now=due) == 0
        presence_tasks.sweep()  # the beat's task, every sweep

    assert sorted(sent_texts(providers)) == [BUSY, BUSY]
    for channel in ("sms", "whatsapp"):
        session = ChatSession.objects.get(pk=waiting_phone_chats[channel].pk)
        (reply,) = auto_replies(session)
        assert reply.body == BUSY and reply.delivery_status == DeliveryStatus.SENT
        # Still in the queue: an agent can Join it.
        assert session.status == SessionStatus.WAITING and session.no_answer_at == due
        assert not session.messages.filter(body__contains="call you back").exists()
    # The portal client is offered its options as before; nothing is sent anywhere.
    web = waiting_phone_chats["web"]
    assert auto_replies(web) == []
    assert web.messages.filter(body__contains="call you back").count() == 1


def test_a_phone_request_still_unanswered_turns_into_a_follow_up_card(
    waiting_phone_chats, providers, agent1, sent
) -> None:
    told = MONDAY + timedelta(seconds=61)
    gone = told + timedelta(seconds=61)  # past the abandon timer (the grace period)
    with time_machine.travel(told, tick=False):
        timers.sweep_no_answer(now=told)
    with time_machine.travel(gone, tick=False):
        assert timers.sweep_abandoned(now=gone) == 3
        assert timers.sweep_abandoned(now=gone) == 0

    cards = {s.channel: s for s in follow_up_requests(state="unassigned")}
    assert set(cards) == {"sms", "whatsapp", "web"}
    for channel in ("sms", "whatsapp"):
        card = cards[channel]
        assert card.status == SessionStatus.ABANDONED and not card.outside_hours
        assert card.messages.filter(
            body__endswith="in time; the request is a follow-up card now."
        ).exists()
    # The abandoning says nothing more to the client: one reply per number.
    assert len(sent_texts(providers)) == 2
    assert {s["channel"] for _, f in sent.of_type("queue.abandoned") for s in f["sessions"]} == {
        "sms",
        "whatsapp",
        "web",
    }


def test_a_request_answered_in_time_gets_no_auto_reply(
    waiting_phone_chats, providers, agent1
) -> None:
    with time_machine.travel(MONDAY + timedelta(seconds=30), tick=False):
        services.session_join(session_id=waiting_phone_chats["sms"].pk, agent=agent1)
    due = MONDAY + timedelta(seconds=61)
    with time_machine.travel(due, tick=False):
        timers.sweep_no_answer(now=due)

    assert auto_replies(ChatSession.objects.get(pk=waiting_phone_chats["sms"].pk)) == []
    assert sent_texts(providers) == [BUSY]  # the WhatsApp one only


# --- The texts, in admin ---------------------------------------------------------------------


def test_the_texts_are_seeded_and_edited_in_admin(
    client, providers, default_queue, weekdays_9_to_5, alice
) -> None:
    # The migration's rows (a transactional test starts with empty tables).
    seed = importlib.import_module("chat.migrations.0018_auto_replies").seed
    seed(django_apps, None)
    seed(django_apps, None)  # twice: still one row per kind
    assert sorted(AutoReply.objects.values_list("kind", flat=True)) == sorted(AutoReplyKind.values)
    admin = ADMIN.create()
    client.force_login(admin)
    row = AutoReply.objects.get(kind=AutoReplyKind.OUTSIDE_HOURS)
    change = reverse("admin:chat_autoreply_change", args=[row.pk])

    refused = client.post(change, {"body": "Closed until {opening_time}."})
    assert refused.status_code == 200
    assert "Unknown placeholder {opening_time}" in refused.content.decode()

    saved = client.post(change, {"body": "Closed. Back {opens_at}, promise."})
    assert saved.status_code == 302
    assert client.get(reverse("admin:chat_autoreply_changelist")).status_code == 200
    # Rows are edited, never added or deleted: one per kind.
    assert client.get(reverse("admin:chat_autoreply_add")).status_code == 403

    client.logout()
    with time_machine.travel(SUNDAY, tick=False):
        post_twilio(client, sms("SM1"))
    assert sent_texts(providers) == ["Closed. Back Monday 09:00 (Europe/London), promise."]


def test_a_number_that_may_not_chat_gets_the_admins_text(client, providers, alice) -> None:
    AutoReply.objects.update_or_create(
        kind=AutoReplyKind.NOT_AVAILABLE, defaults={"body": "Please call us on 020 7946 0000."}
    )
    ContactChatPermission.objects.create(contact=alice.contact, value=PermissionValue.DENY)

    post_twilio(client, sms("SM1", sender=alice.contact.phone_e164))

    assert sent_texts(providers) == ["Please call us on 020 7946 0000."]
    assert not ChatSession.objects.exists()
