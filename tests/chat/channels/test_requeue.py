"""Work stored while the Celery broker refused its task (Redis restarting, an
outage): the write succeeds without an error, the process warns once, and the
beat sweep (chat.requeue) queues the task again once the broker is back, so
a reply to a phone goes out once, a transcript is attached and emailed once,
a Message customer email is sent once, a file a phone sent is fetched once.
Only what is stuck is queued again:
not work made a moment ago, not a row a task has claimed."""

from __future__ import annotations

import logging
import uuid
from datetime import datetime, timedelta
from typing import Any

import pytest
from celery.app.task import Task
from django.conf import settings
from django.core import mail
from django.utils import timezone
from kombu.exceptions import OperationalError
from pytest_httpserver import HTTPServer

from chat import enqueue, requeue, services
from chat import tasks as chat_tasks
from chat.models import (
    ChannelNotice,
    ChatKind,
    ChatSession,
    ContactChatPermission,
    DeliveryStatus,
    Message,
    MessageKind,
    PendingMedia,
    PermissionValue,
    ReachOut,
)
from chat.reach_out.emails import sweep_reach_out_emails
from chat.reach_out.services import reach_out
from chat.transcripts import TRANSCRIPT_KEY_PREFIX
from presence import tasks as presence_tasks
from tests.chat.channels.conftest import TWILIO_MESSAGES_PATH, TWILIO_SID
from tests.chat.channels.signed import post_twilio, post_whatsapp, sms, whatsapp_value
from tests.realtime.conftest import receive_type, send
from tickets.models import TicketAttachment

pytestmark = pytest.mark.django_db(transaction=True)

AFTER = timedelta(seconds=requeue.REQUEUE_AFTER_SECONDS + 1)
EVERY = timedelta(seconds=requeue.REQUEUE_EVERY_SECONDS + 1)
LOST = "The Celery broker is unreachable"


class Broker:
    """The broker as the code sees it: up (tasks run inline, as the test
    settings have them) until ``down``; ``refused`` names what it refused."""

    def __init__(self) -> None:
        self.down = False
        self.refused: list[str] = []


@pytest.fixture
def broker(monkeypatch: pytest.MonkeyPatch) -> Broker:
    state = Broker()
    delay = Task.delay

    def refusing_delay(task: Task, *args: Any, **kwargs: Any) -> Any:
        if state.down:
            state.refused.append(task.name)
            # What kombu raises once its publish retries are spent.
            raise OperationalError("Error 111 connecting to 127.0.0.1:6380. Connection refused.")
        return delay(task, *args, **kwargs)

    monkeypatch.setattr(Task, "delay", refusing_delay)
    monkeypatch.setattr(enqueue.broker, "current", enqueue.broker_outage())
    return state


@pytest.fixture
def requeued(monkeypatch: pytest.MonkeyPatch) -> list[tuple[Any, ...]]:
    """What the sweeps queue, kept instead of run."""
    queued: list[tuple[Any, ...]] = []

    def keep(task: Task, **arguments: Any) -> bool:
        queued.append((task.name, *arguments.values()))
        return True

    monkeypatch.setattr(requeue, "enqueue", keep)
    return queued


@pytest.fixture
def sms_out(twilio_on: HTTPServer) -> HTTPServer:
    ids = iter(range(1, 1000))
    twilio_on.expect_request(TWILIO_MESSAGES_PATH, method="POST").respond_with_handler(
        lambda request: _json({"sid": f"SMout{next(ids)}"})
    )
    return twilio_on


def _json(data: dict[str, Any]) -> Any:
    import json

    from werkzeug import Response

    return Response(json.dumps(data), content_type="application/json", status=201)


def sent_texts(server: HTTPServer) -> list[str]:
    return [
        request.form["Body"] for request, _ in server.log if request.path == TWILIO_MESSAGES_PATH
    ]


def sms_chat(client, agent) -> ChatSession:  # type: ignore[no-untyped-def]
    """An unknown number's SMS request, joined by ``agent``."""
    post_twilio(client, sms("SMin1", body="My laptop will not start"))
    return services.session_join(session_id=ChatSession.objects.get().pk, agent=agent)


def reply(session: ChatSession, agent, body: str) -> Message:  # type: ignore[no-untyped-def]
    return services.message_send(
        session_id=session.pk, author=agent, client_id=uuid.uuid4(), body=body
    ).message


def warnings_and_errors(caplog: pytest.LogCaptureFixture) -> list[tuple[int, str]]:
    return [(r.levelno, r.getMessage()) for r in caplog.records if r.levelno >= logging.WARNING]


def run(sweep: Any, at: datetime) -> int:
    return int(sweep(now=at))


# --- The helper: a refused task is no error -----------------------------------------------------


def test_a_refused_task_raises_nothing_and_warns_once_per_outage(broker, caplog) -> None:
    broker.down = True
    with caplog.at_level(logging.INFO):
        assert enqueue.enqueue(presence_tasks.sweep) is False
        assert enqueue.enqueue(presence_tasks.sweep) is False
        broker.down = False
        assert enqueue.enqueue(presence_tasks.sweep) is True
        assert enqueue.enqueue(presence_tasks.sweep) is True

    logged = warnings_and_errors(caplog)
    assert [level for level, _ in logged] == [logging.WARNING, logging.WARNING], logged
    assert logged[0][1].startswith(f"{LOST} (presence.tasks.sweep: Error 111")
    assert logged[1][1].startswith("The Celery broker is reachable again after ")
    assert "failed calls meanwhile: 2" in logged[1][1]


def test_an_error_of_the_task_itself_is_not_swallowed(broker, monkeypatch) -> None:
    def broken(**kwargs: Any) -> Any:
        raise RuntimeError("a bug in the task")

    monkeypatch.setattr("presence.tasks.run_sweeps", broken)
    with pytest.raises(RuntimeError):
        enqueue.enqueue(presence_tasks.sweep)


# --- Messages to phones ----------------------------------------------------------------------


def test_a_reply_the_broker_refused_is_stored_and_sent_once_when_it_is_back(
    client, sms_out, agent1, default_queue, broker, caplog
) -> None:
    session = sms_chat(client, agent1)
    broker.down = True
    with caplog.at_level(logging.INFO):
        first = reply(session, agent1, "Hold the power button")  # no error for the agent
        second = reply(session, agent1, "for ten seconds")
    assert broker.refused == ["chat.tasks.deliver_message"] * 2
    assert [m.delivery_status for m in (first, second)] == [DeliveryStatus.QUEUED] * 2
    assert sent_texts(sms_out) == []
    logged = warnings_and_errors(caplog)
    assert len(logged) == 1 and logged[0][0] == logging.WARNING and LOST in logged[0][1], logged

    broker.down = False
    now = timezone.now()
    assert run(requeue.sweep_unsent_messages, now) == 0  # a moment old: its task may be on the way
    assert run(requeue.sweep_unsent_messages, now + AFTER) == 2
    assert sent_texts(sms_out) == ["Hold the power button", "for ten seconds"]
    assert run(requeue.sweep_unsent_messages, now + AFTER) == 0
    assert run(requeue.sweep_unsent_messages, now + AFTER + EVERY) == 0  # sent: nothing due
    assert sent_texts(sms_out) == ["Hold the power button", "for ten seconds"]
    assert set(
        Message.objects.filter(pk__in=[first.pk, second.pk]).values_list(
            "delivery_status", flat=True
        )
    ) == {DeliveryStatus.SENT}


@pytest.fixture
def sms_session(client, sms_out, agent1, default_queue) -> ChatSession:  # type: ignore[no-untyped-def]
    return sms_chat(client, agent1)


async def test_an_agents_send_over_the_socket_is_acknowledged_while_the_broker_refuses(
    connect, sms_session, agent1, broker, sms_out, caplog
) -> None:
    ws = await connect(agent1)
    broker.down = True
    client_id = str(uuid.uuid4())
    with caplog.at_level(logging.INFO):
        await send(
            ws,
            {
                "type": "chat.send",
                "session_id": sms_session.pk,
                "client_id": client_id,
                "body": "Hold the power button",
                "ref": "s",
            },
        )
        ack = await receive_type(ws, "chat.ack")  # not an internal error

    assert ack["created"] is True and ack["client_id"] == client_id
    assert ack["message"]["delivery"]["status"] == DeliveryStatus.QUEUED
    assert broker.refused == ["chat.tasks.deliver_message"]
    assert [level for level, _ in warnings_and_errors(caplog)] == [logging.WARNING]


def test_only_messages_no_task_is_on_are_queued_again(
    client, sms_out, agent1, default_queue, broker, requeued
) -> None:
    session = sms_chat(client, agent1)
    broker.down = True
    stuck, retrying, sent, old = (reply(session, agent1, f"Text {n}") for n in range(4))
    now = timezone.now()
    # A task claimed it, found the provider down and handed it back for its
    # retry, which is at most a retry wait away (it claims the row again).
    retry_wait = timedelta(seconds=settings.TASK_RETRY_WAIT_MAX_SECONDS)
    Message.objects.filter(pk=retrying.pk).update(send_claimed_at=now + AFTER - retry_wait)
    Message.objects.filter(pk=sent.pk).update(delivery_status=DeliveryStatus.SENT)
    Message.objects.filter(pk=old.pk).update(
        created_at=now - timedelta(seconds=requeue.REQUEUE_WITHIN_SECONDS + 60)
    )
    fresh = reply(session, agent1, "Just now")
    Message.objects.filter(pk=fresh.pk).update(created_at=now + AFTER)

    assert run(requeue.sweep_unsent_messages, now + AFTER) == 1
    assert requeued == [("chat.tasks.deliver_message", stuck.pk)]
    # Twice, or a second beat at once: nothing more until REQUEUE_EVERY_SECONDS.
    assert run(requeue.sweep_unsent_messages, now + AFTER) == 0
    assert run(requeue.sweep_unsent_messages, now + AFTER + timedelta(seconds=20)) == 0
    # Stuck; retrying, whose retries would have claimed it again long since;
    # and fresh, due now.
    assert run(requeue.sweep_unsent_messages, now + AFTER + EVERY) == 3
    assert requeued[1:] == [
        ("chat.tasks.deliver_message", stuck.pk),
        ("chat.tasks.deliver_message", retrying.pk),
        ("chat.tasks.deliver_message", fresh.pk),
    ]


def provider_was_down(row: Message | ChannelNotice, at: datetime) -> None:
    """As a send task that claimed ``row`` at ``at``, found the provider down
    and handed it back for a retry the broker then lost (refused, or a Redis
    restarted without its data)."""
    type(row).objects.filter(pk=row.pk).update(
        delivery_status=DeliveryStatus.QUEUED, send_claimed_at=at
    )


def test_a_reply_whose_retry_the_broker_lost_is_sent_once_when_it_is_back(
    client, sms_out, agent1, default_queue, broker
) -> None:
    session = sms_chat(client, agent1)
    broker.down = True
    lost = reply(session, agent1, "Hold the power button")
    now = timezone.now()
    provider_was_down(lost, now)
    broker.down = False

    retry_wait = timedelta(seconds=settings.TASK_RETRY_WAIT_MAX_SECONDS)
    assert run(requeue.sweep_unsent_messages, now + retry_wait) == 0  # its retry may be on the way
    assert run(requeue.sweep_unsent_messages, now + AFTER) == 1
    assert sent_texts(sms_out) == ["Hold the power button"]
    assert run(requeue.sweep_unsent_messages, now + AFTER + EVERY) == 0  # sent: nothing due
    assert Message.objects.get(pk=lost.pk).delivery_status == DeliveryStatus.SENT


def test_a_notice_whose_retry_the_broker_lost_is_sent_once_when_it_is_back(
    client, sms_out, alice, broker
) -> None:
    ContactChatPermission.objects.create(contact=alice.contact, value=PermissionValue.DENY)
    broker.down = True
    post_twilio(client, sms("SM1", sender=alice.contact.phone_e164))
    (notice,) = ChannelNotice.objects.all()
    now = timezone.now()
    provider_was_down(notice, now)
    broker.down = False

    assert run(requeue.sweep_unsent_notices, now + AFTER) == 1
    assert run(requeue.sweep_unsent_notices, now + AFTER + EVERY) == 0
    assert len(sent_texts(sms_out)) == 1
    notice.refresh_from_db()
    assert notice.delivery_status == DeliveryStatus.SENT


def test_a_broker_that_refuses_the_sweep_too_leaves_the_rows_due_at_the_next_beat(
    client, sms_out, agent1, default_queue, broker
) -> None:
    session = sms_chat(client, agent1)
    broker.down = True
    stuck = reply(session, agent1, "Hold the power button")
    now = timezone.now()

    assert run(requeue.sweep_unsent_messages, now + AFTER) == 0  # refused again
    assert Message.objects.get(pk=stuck.pk).requeued_at is None
    broker.down = False
    assert run(requeue.sweep_unsent_messages, now + AFTER + timedelta(seconds=2)) == 1
    assert sent_texts(sms_out) == ["Hold the power button"]


def test_a_notice_the_broker_refused_is_sent_once_when_it_is_back(
    client, sms_out, alice, broker
) -> None:
    ContactChatPermission.objects.create(contact=alice.contact, value=PermissionValue.DENY)
    broker.down = True
    post_twilio(client, sms("SM1", sender=alice.contact.phone_e164))
    (notice,) = ChannelNotice.objects.all()
    assert broker.refused == ["chat.tasks.deliver_notice"]
    broker.down = False
    now = timezone.now()

    assert run(requeue.sweep_unsent_notices, now) == 0
    assert run(requeue.sweep_unsent_notices, now + AFTER) == 1
    assert run(requeue.sweep_unsent_notices, now + AFTER + EVERY) == 0
    assert len(sent_texts(sms_out)) == 1
    notice.refresh_from_db()
    assert notice.delivery_status == DeliveryStatus.SENT


# --- Transcripts ------------------------------------------------------------------------------


def transcripts_of(session: ChatSession) -> int:
    return TicketAttachment.objects.filter(
        source_key=f"{TRANSCRIPT_KEY_PREFIX}{session.pk}"
    ).count()


def ended_chat(client, ticket, agent) -> ChatSession:  # type: ignore[no-untyped-def]
    session = services.session_request(
        client=client, kind=ChatKind.POST_TICKET, ticket_id=ticket.pk
    )
    services.session_join(session_id=session.pk, agent=agent)
    services.message_send(
        session_id=session.pk, author=client, client_id=uuid.uuid4(), body="It smokes"
    )
    return services.session_end(session_id=session.pk, agent=agent)


def test_a_chat_ended_while_the_broker_refused_gets_its_transcript_once(
    alice, alice_ticket, agent1, default_queue, broker
) -> None:
    broker.down = True
    session = ended_chat(alice, alice_ticket, agent1)  # no error for the agent
    assert broker.refused == ["chat.tasks.attach_transcript", "chat.tasks.email_transcript"]
    assert transcripts_of(session) == 0 and mail.outbox == []
    broker.down = False
    now = timezone.now()

    assert run(requeue.sweep_transcripts, now) == 0
    assert run(requeue.sweep_transcripts, now + AFTER) == 2
    assert run(requeue.sweep_transcripts, now + AFTER) == 0
    assert run(requeue.sweep_transcripts, now + AFTER + EVERY) == 0  # done: nothing due
    assert transcripts_of(session) == 1
    assert [m.to for m in mail.outbox] == [[alice.email]]


def test_only_the_missing_transcript_task_is_queued_again(
    alice, alice_ticket, agent1, default_queue, broker, requeued
) -> None:
    emailed_only = ended_chat(alice, alice_ticket, agent1)  # both tasks ran
    TicketAttachment.objects.filter(source_key=f"{TRANSCRIPT_KEY_PREFIX}{emailed_only.pk}").delete()
    broker.down = True
    neither = ended_chat(alice, alice_ticket, agent1)
    ChatSession.objects.filter(pk=neither.pk).update(
        ended_at=timezone.now() - timedelta(seconds=requeue.REQUEUE_WITHIN_SECONDS + 60)
    )  # ended too long ago: left alone
    no_ticket = services.session_request(client=alice, kind=ChatKind.PRE_TICKET, subject="Hi")
    services.session_join(session_id=no_ticket.pk, agent=agent1)
    services.session_end(session_id=no_ticket.pk, agent=agent1, outcome="close", reason="Done")
    done = ended_chat(alice, alice_ticket, agent1)
    broker.down = False
    chat_tasks.attach_transcript.apply(args=[done.pk])
    chat_tasks.email_transcript.apply(args=[done.pk])
    now = timezone.now()

    assert run(requeue.sweep_transcripts, now + AFTER) == 2
    assert sorted(requeued) == [
        ("chat.tasks.attach_transcript", emailed_only.pk),
        ("chat.tasks.email_transcript", no_ticket.pk),
    ]
    assert run(requeue.sweep_transcripts, now + AFTER) == 0


# --- Message customer by email ---------------------------------------------------------------


def test_a_reach_out_email_the_broker_refused_is_sent_once_when_it_is_back(
    alice, alice_ticket, agent1, default_queue, broker
) -> None:
    broker.down = True
    session = reach_out(
        agent=agent1,
        ticket_id=alice_ticket.pk,
        channel="email",
        body="Hi Alice, is the printer fixed?",
        client_id=uuid.uuid4(),
        site_url="https://help.example.com",
    )
    assert broker.refused == ["chat.tasks.email_reach_out"]
    assert mail.outbox == []
    broker.down = False
    now = timezone.now()

    # Message customer's own sweep (chat.reach_out.emails) queues it again.
    batch = timedelta(seconds=settings.REACH_OUT_EMAIL_BATCH_SECONDS + 1)
    assert run(sweep_reach_out_emails, now) == 0
    assert run(sweep_reach_out_emails, now + batch) == 1
    assert run(sweep_reach_out_emails, now + batch) == 0
    assert [m.to for m in mail.outbox] == [[alice.email]]
    assert ReachOut.objects.get(session=session).emailed_at is not None


# --- Files from phones -------------------------------------------------------------------------

PICTURE_PATH = f"/twilio/2010-04-01/Accounts/{TWILIO_SID}/Messages/SMin2/Media/ME1"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


@pytest.fixture
def picture(sms_out: HTTPServer) -> HTTPServer:
    """Twilio with one MMS picture to fetch."""
    sms_out.expect_request(PICTURE_PATH).respond_with_data(PNG, content_type="image/png")
    return sms_out


def mms(server: HTTPServer, body: str = "This is the screen") -> dict[str, str]:
    fields = sms("SMin2", body=body, NumMedia="1", MediaUrl0=server.url_for(PICTURE_PATH))
    fields["MediaContentType0"] = "image/png"
    return fields


def fetches(server: HTTPServer, path: str) -> int:
    return sum(1 for request, _ in server.log if request.path == path)


def files_of(session: ChatSession) -> list[str]:
    return list(
        session.messages.filter(kind=MessageKind.FILE).values_list("provider_message_id", flat=True)
    )


def pending() -> list[str]:
    return list(PendingMedia.objects.values_list("key", flat=True))


def test_a_file_the_broker_refused_is_fetched_once_when_it_is_back(
    client, picture, sms_session, broker, caplog
) -> None:
    broker.down = True
    with caplog.at_level(logging.INFO):
        assert post_twilio(client, mms(picture)).status_code == 200  # no error for the provider

    assert broker.refused == ["chat.inbound.fetch_media"]
    assert sms_session.messages.filter(provider_message_id="SMin2").get().body == (
        "This is the screen"
    )
    assert files_of(sms_session) == [] and fetches(picture, PICTURE_PATH) == 0
    assert pending() == ["SMin2#media0"]
    assert [level for level, _ in warnings_and_errors(caplog)] == [logging.WARNING]
    broker.down = False
    now = timezone.now()

    assert run(requeue.sweep_pending_media, now) == 0  # a moment old: its task may be on the way
    assert run(requeue.sweep_pending_media, now + AFTER) == 1
    assert run(requeue.sweep_pending_media, now + AFTER) == 0  # twice, or two beats at once
    assert run(requeue.sweep_pending_media, now + AFTER + EVERY) == 0  # fetched: nothing due
    assert files_of(sms_session) == ["SMin2#media0"]
    assert fetches(picture, PICTURE_PATH) == 1
    assert pending() == []


def test_a_file_only_message_delivered_again_while_its_file_is_pending_is_stored_once(
    client, picture, sms_session, broker
) -> None:
    broker.down = True
    fields = mms(picture, body="")  # a picture alone: no row of its own but the file's
    assert post_twilio(client, fields).status_code == 200
    assert post_twilio(client, fields).status_code == 200  # the provider retries its webhook

    assert broker.refused == ["chat.inbound.fetch_media"]
    assert pending() == ["SMin2#media0"]
    broker.down = False
    assert run(requeue.sweep_pending_media, timezone.now() + AFTER) == 1
    assert files_of(sms_session) == ["SMin2#media0"] and pending() == []


def test_a_fetched_file_leaves_nothing_to_sweep(client, picture, sms_session) -> None:
    assert post_twilio(client, mms(picture)).status_code == 200  # the task runs after commit

    assert files_of(sms_session) == ["SMin2#media0"] and pending() == []
    assert run(requeue.sweep_pending_media, timezone.now() + AFTER) == 0


def test_a_fetch_that_stored_the_file_and_died_is_finished_by_the_sweep_without_a_second_fetch(
    client, picture, sms_session
) -> None:
    assert post_twilio(client, mms(picture)).status_code == 200
    # As a worker killed between storing the file and deleting its row.
    PendingMedia.objects.create(
        session=sms_session,
        channel="sms",
        key="SMin2#media0",
        ref=picture.url_for(PICTURE_PATH),
        content_type="image/png",
        created_at=timezone.now(),
    )

    assert run(requeue.sweep_pending_media, timezone.now() + AFTER) == 1
    assert fetches(picture, PICTURE_PATH) == 1 and files_of(sms_session) == ["SMin2#media0"]
    assert pending() == []


def test_a_file_too_large_to_keep_is_a_line_and_leaves_nothing_pending(
    client, whatsapp_on, default_queue, broker, settings
) -> None:
    settings.ATTACHMENT_MAX_BYTES = 16
    whatsapp_on.expect_request("/graph/MEDIA5").respond_with_json(
        {"url": whatsapp_on.url_for("/cdn/5"), "mime_type": "image/png"}
    )
    whatsapp_on.expect_request("/cdn/5").respond_with_data(PNG, content_type="image/png")
    picture = {
        "from": "447700900123",
        "id": "wamid.5",
        "type": "image",
        "image": {"id": "MEDIA5", "mime_type": "image/png", "caption": "The screen"},
    }
    broker.down = True
    assert post_whatsapp(client, whatsapp_value([picture])).status_code == 200
    assert "chat.inbound.fetch_media" in broker.refused
    assert Message.objects.get(provider_message_id="wamid.5").body == "The screen"
    assert pending() == ["wamid.5#media0"]
    broker.down = False

    assert run(requeue.sweep_pending_media, timezone.now() + AFTER) == 1
    line = Message.objects.get(provider_message_id="wamid.5#media0")
    assert line.kind == MessageKind.SYSTEM and "could not be" in line.body
    assert not Message.objects.filter(kind=MessageKind.FILE).exists()
    assert pending() == []
    assert run(requeue.sweep_pending_media, timezone.now() + AFTER + EVERY) == 0


def test_only_files_pending_past_the_wait_and_within_the_window_are_queued_again(
    client, picture, sms_session, broker, requeued
) -> None:
    broker.down = True
    assert post_twilio(client, mms(picture)).status_code == 200
    now = timezone.now()
    fresh = PendingMedia.objects.create(
        session=sms_session,
        channel="sms",
        key="SMfresh#media0",
        ref="https://api.twilio.example/fresh",
        created_at=now + AFTER,
    )

    assert run(requeue.sweep_pending_media, now + AFTER) == 1
    assert requeued == [
        (
            "chat.inbound.fetch_media",
            sms_session.pk,
            "sms",
            "SMin2#media0",
            picture.url_for(PICTURE_PATH),
            "image/png",
            "",
        )
    ]
    assert run(requeue.sweep_pending_media, now + AFTER + EVERY) == 2  # and fresh now
    assert [queued[3] for queued in requeued[1:]] == ["SMin2#media0", fresh.key]


def test_a_file_still_pending_after_the_window_is_a_line_once_and_leaves_nothing_pending(
    client, picture, sms_session, broker, requeued
) -> None:
    broker.down = True
    assert post_twilio(client, mms(picture)).status_code == 200
    broker.down = False
    made = timezone.now()
    PendingMedia.objects.update(created_at=made)
    within = timedelta(seconds=requeue.REQUEUE_WITHIN_SECONDS)

    assert run(requeue.sweep_pending_media, made + within) == 1  # queued, the last time
    assert requeued == [("chat.inbound.fetch_media", *requeued[0][1:])]
    assert run(requeue.sweep_pending_media, made + within + timedelta(seconds=1)) == 1
    line = Message.objects.get(provider_message_id="SMin2#media0")
    assert line.kind == MessageKind.SYSTEM
    assert line.body == (
        f"{sms_session.client.display_name} sent a file that could not be fetched: "
        "it was still waiting after 6 hours."
    )
    assert pending() == [] and fetches(picture, PICTURE_PATH) == 0
    assert len(requeued) == 1  # not queued again
    # Twice, or two beats at once: one line.
    assert run(requeue.sweep_pending_media, made + within + EVERY) == 0
    assert Message.objects.filter(provider_message_id="SMin2#media0").count() == 1


def test_a_file_stored_by_a_fetch_that_died_before_its_row_went_is_no_line_after_the_window(
    client, picture, sms_session
) -> None:
    assert post_twilio(client, mms(picture)).status_code == 200
    made = timezone.now() - timedelta(seconds=requeue.REQUEUE_WITHIN_SECONDS + 60)
    # As a worker killed between storing the file and deleting its row, long ago.
    PendingMedia.objects.create(
        session=sms_session,
        channel="sms",
        key="SMin2#media0",
        ref=picture.url_for(PICTURE_PATH),
        content_type="image/png",
        created_at=made,
    )

    assert run(requeue.sweep_pending_media, timezone.now()) == 1
    assert files_of(sms_session) == ["SMin2#media0"] and pending() == []
    assert not sms_session.messages.filter(kind=MessageKind.SYSTEM, body__contains="fetched")
