"""The channel tasks run twice (a message handed out again after a worker
died, docs/architecture.md "Tasks"): the work is done once."""

from __future__ import annotations

import pytest
from pytest_httpserver import HTTPServer

from chat import tasks
from chat.inbound import media
from chat.models import (
    ChannelNotice,
    ContactChatPermission,
    Message,
    MessageKind,
    PendingMedia,
    PermissionValue,
)
from tests.chat.channels.conftest import TWILIO_MESSAGES_PATH, TWILIO_SID
from tests.chat.channels.signed import post_twilio, sms

pytestmark = pytest.mark.django_db(transaction=True)

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def calls_to(server: HTTPServer, path: str) -> int:
    return sum(1 for request, _ in server.log if request.path == path)


def test_a_notice_to_a_contact_denied_chat_is_sent_once_however_often_its_task_runs(
    client, twilio_on: HTTPServer, alice
) -> None:
    ContactChatPermission.objects.create(contact=alice.contact, value=PermissionValue.DENY)
    twilio_on.expect_request(TWILIO_MESSAGES_PATH, method="POST").respond_with_json(
        {"sid": "SMnotice"}, status=201
    )
    post_twilio(client, sms("SM1", sender=alice.contact.phone_e164))  # the task runs once
    (notice,) = ChannelNotice.objects.all()

    tasks.deliver_notice.apply(args=[notice.pk])
    tasks.deliver_notice.apply(args=[notice.pk])

    assert calls_to(twilio_on, TWILIO_MESSAGES_PATH) == 1
    notice.refresh_from_db()
    assert (notice.delivery_status, notice.provider_message_id) == ("sent", "SMnotice")


def test_a_file_is_fetched_and_stored_once_however_often_its_task_runs(
    client, twilio_on: HTTPServer
) -> None:
    path = f"/twilio/2010-04-01/Accounts/{TWILIO_SID}/Messages/SM1/Media/ME1"
    twilio_on.expect_request(path).respond_with_data(PNG, content_type="image/png")
    fields = sms("SM1", body="", NumMedia="1", MediaUrl0=twilio_on.url_for(path))
    fields["MediaContentType0"] = "image/png"
    post_twilio(client, fields)  # the task runs once after commit
    (stored,) = Message.objects.filter(kind=MessageKind.FILE)
    arguments = {
        "session_id": stored.session_id,
        "channel": "sms",
        "key": stored.provider_message_id,
        "ref": twilio_on.url_for(path),
        "content_type": "image/png",
        "filename": "",
    }

    assert media.fetch_media.apply(kwargs=arguments).get() == "stored already"
    assert media.fetch_media.apply(kwargs=arguments).get() == "stored already"

    assert Message.objects.filter(kind=MessageKind.FILE).count() == 1
    assert calls_to(twilio_on, path) == 1
    assert not PendingMedia.objects.exists()  # nothing left for the requeue sweep
