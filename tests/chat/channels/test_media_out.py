"""Files an agent sends into SMS and WhatsApp chats: what each provider is
sent (form fields / JSON exactly), the one provider call however often the
task runs, the files a provider refuses (refused before anything is stored),
and the public, expiring media URL the provider fetches the file from."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
import time_machine
from django.core import signing
from django.utils import timezone
from pytest_httpserver import HTTPServer

from chat import services, tasks
from chat.channels import public_media
from chat.channels.providers import media_refusal, provider_for
from chat.channels.providers.base import OutboundMedia
from chat.errors import WindowClosed
from chat.files.services import (
    AttachmentRefused,
    AttachmentTooLarge,
    attachment_receive,
    attachment_send,
)
from chat.models import (
    Channel,
    ChatAttachment,
    ChatKind,
    ChatSession,
    DeliveryStatus,
    Message,
    PhoneClient,
)
from chat.payloads import message_payload
from tests.chat.channels.conftest import (
    PUBLIC_URL,
    TWILIO_FROM,
    TWILIO_MESSAGES_PATH,
    WA_MESSAGES_PATH,
)
from tests.chat.channels.signed import post_twilio, post_whatsapp, sms, wa_text, whatsapp_value
from tests.chat.channels.test_delivery import provider_calls
from tests.chat.files_helpers import PDF_BYTES, png_bytes, stored_files, upload

pytestmark = pytest.mark.django_db(transaction=True)

MB = 1024 * 1024
GIF_BYTES = b"GIF89a" + b"\x00" * 10
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def sms_chat(client, agent) -> ChatSession:  # type: ignore[no-untyped-def]
    post_twilio(client, sms("SMin1", body="My laptop will not start"))
    return services.session_join(session_id=ChatSession.objects.get().pk, agent=agent)


@pytest.fixture
def whatsapp_public(whatsapp_on: HTTPServer, settings) -> HTTPServer:  # type: ignore[no-untyped-def]
    """WhatsApp on a server with a public address (WhatsApp alone needs none)."""
    settings.PUBLIC_URL = PUBLIC_URL
    return whatsapp_on


def whatsapp_chat(client, agent) -> ChatSession:  # type: ignore[no-untyped-def]
    post_whatsapp(client, whatsapp_value([wa_text("wamid.in1")]))
    return services.session_join(session_id=ChatSession.objects.get().pk, agent=agent)


def send_file(session: ChatSession, author, name: str, content: bytes):  # type: ignore[no-untyped-def]
    return attachment_send(
        session_id=session.pk, author=author, client_id=uuid.uuid4(), upload=upload(name, content)
    ).message


def media_path(url: str) -> str:
    """The path of a public media URL (the test client takes no host)."""
    assert url.startswith(f"{PUBLIC_URL}/channels/media/")
    return urlsplit(url).path


# --- What the providers are sent -------------------------------------------------------


def test_twilio_sends_a_file_as_media_url_with_the_caption_as_body(
    twilio_on: HTTPServer,
) -> None:
    twilio_on.expect_request(TWILIO_MESSAGES_PATH, method="POST").respond_with_json(
        {"sid": "SMmedia1", "status": "queued"}, status=201
    )
    media = OutboundMedia(
        url="https://help.example.com/channels/media/t/",
        content_type="image/png",
        filename="shot.png",
    )
    assert provider_for(Channel.SMS).send_media(to="+447700900123", media=media) == "SMmedia1"
    ((request, _),) = twilio_on.log
    assert request.form.to_dict() == {
        "To": "+447700900123",
        "From": TWILIO_FROM,
        "Body": "",
        "MediaUrl": "https://help.example.com/channels/media/t/",
        "StatusCallback": f"{PUBLIC_URL}/channels/twilio/status/",
    }


def test_whatsapp_sends_a_picture_as_an_image_link(whatsapp_on: HTTPServer) -> None:
    whatsapp_on.expect_request(WA_MESSAGES_PATH).respond_with_json(
        {"messages": [{"id": "wamid.img"}]}
    )
    media = OutboundMedia("https://h/m/1/", "image/jpeg", "photo.jpg", caption="The cable")
    assert provider_for(Channel.WHATSAPP).send_media(to="+447700900123", media=media) == (
        "wamid.img"
    )
    ((request, _),) = whatsapp_on.log
    assert json.loads(request.data) == {
        "messaging_product": "whatsapp",
        "to": "447700900123",
        "type": "image",
        "image": {"link": "https://h/m/1/", "caption": "The cable"},
    }


def test_whatsapp_sends_other_files_as_a_document_with_its_filename(
    whatsapp_on: HTTPServer,
) -> None:
    whatsapp_on.expect_request(WA_MESSAGES_PATH).respond_with_json(
        {"messages": [{"id": "wamid.doc"}]}
    )
    media = OutboundMedia("https://h/m/2/", "application/pdf", "Invoice 12.pdf")
    provider_for(Channel.WHATSAPP).send_media(to="+447700900123", media=media)
    ((request, _),) = whatsapp_on.log
    assert json.loads(request.data) == {
        "messaging_product": "whatsapp",
        "to": "447700900123",
        "type": "document",
        "document": {"link": "https://h/m/2/", "filename": "Invoice 12.pdf"},
    }


# --- What each provider takes ----------------------------------------------------------


@pytest.mark.parametrize(
    ("channel", "content_type", "size", "refused"),
    [
        (Channel.SMS, "image/jpeg", 5 * MB, None),
        (Channel.SMS, "image/gif", 1, None),
        (Channel.SMS, "application/pdf", 1, None),
        (Channel.SMS, "image/png", 5 * MB + 1, "at most 5 MB"),
        (Channel.SMS, "text/plain", 1, "SMS takes only pictures"),
        (Channel.SMS, "application/zip", 1, "SMS takes only pictures"),
        (Channel.WHATSAPP, "image/png", 5 * MB, None),
        (
            Channel.WHATSAPP,
            "image/jpeg",
            5 * MB + 1,
            "A picture sent by WhatsApp may be at most 5 MB",
        ),
        (Channel.WHATSAPP, "application/pdf", 100 * MB, None),
        (Channel.WHATSAPP, DOCX, 100 * MB + 1, "at most 100 MB"),
        (Channel.WHATSAPP, "text/plain", 1, None),
        (Channel.WHATSAPP, "image/gif", 1, "WhatsApp takes only JPEG or PNG"),
        (Channel.WHATSAPP, "image/webp", 1, "WhatsApp takes only JPEG or PNG"),
        (Channel.WHATSAPP, "text/csv", 1, "WhatsApp takes only"),
        (Channel.WEB, "application/zip", 1, None),
    ],
)
def test_each_provider_takes_only_its_types_and_sizes(
    channel: str, content_type: str, size: int, refused: str | None, settings
) -> None:  # type: ignore[no-untyped-def]
    settings.PUBLIC_URL = PUBLIC_URL
    refusal = media_refusal(channel, content_type=content_type, size=size)
    if refused is None:
        assert refusal is None
    else:
        assert refusal is not None and refused in refusal.message


# --- Sent from the chat ----------------------------------------------------------------


def test_a_file_in_an_sms_chat_goes_out_once_however_often_its_task_runs(
    client, twilio_on: HTTPServer, agent1, default_queue, sent
) -> None:
    twilio_on.expect_request(TWILIO_MESSAGES_PATH, method="POST").respond_with_json(
        {"sid": "SMfile1", "status": "queued"}, status=201
    )
    session = sms_chat(client, agent1)

    message = send_file(session, agent1, "shot.png", png_bytes())  # sent after commit
    tasks.deliver_message.delay(message.pk)  # and run again: a redelivered task
    tasks.deliver_message.apply(args=[message.pk])

    (call,) = provider_calls(twilio_on, TWILIO_MESSAGES_PATH)
    assert call.form["To"] == "+447700900123" and call.form["Body"] == ""
    # The provider got a public URL that serves this very file.
    served = client.get(media_path(call.form["MediaUrl"]))
    assert served.status_code == 200 and b"".join(served.streaming_content) == png_bytes()
    message.refresh_from_db()
    assert (message.delivery_status, message.provider_message_id) == ("sent", "SMfile1")
    payload = message_payload(message)
    assert payload["attachment"]["name"] == "shot.png"
    assert payload["delivery"]["status"] == "sent"
    # The agent's window heard the tick as for a text.
    ticks = [frame["delivery"]["status"] for _, frame in sent.of_type("chat.delivery")]
    assert ticks == ["sent"]


def test_a_document_in_a_whatsapp_chat_goes_out_as_one(
    client, whatsapp_public: HTTPServer, agent1, default_queue
) -> None:
    whatsapp_public.expect_request(WA_MESSAGES_PATH, method="POST").respond_with_json(
        {"messages": [{"id": "wamid.file1"}]}
    )
    session = whatsapp_chat(client, agent1)

    message = send_file(session, agent1, "steps.pdf", PDF_BYTES)
    tasks.deliver_message.apply(args=[message.pk])

    (call,) = provider_calls(whatsapp_public, WA_MESSAGES_PATH)
    assert call.json["type"] == "document"
    assert call.json["document"]["filename"] == "steps.pdf"
    served = client.get(media_path(call.json["document"]["link"]))
    assert served["Content-Type"] == "application/pdf"
    assert Message.objects.get(pk=message.pk).provider_message_id == "wamid.file1"


def test_a_file_is_stored_queued_while_the_provider_is_down(
    client, twilio_on: HTTPServer, agent1, default_queue, settings
) -> None:
    """Stored before it is sent: a provider that is away fails it later, with words."""
    twilio_on.expect_request(TWILIO_MESSAGES_PATH).respond_with_data("busy", status=503)
    session = sms_chat(client, agent1)
    message = send_file(session, agent1, "shot.png", png_bytes())
    message.refresh_from_db()
    assert message.delivery_status == DeliveryStatus.FAILED  # eager: no later try
    assert "could not be reached" in message.delivery_error


# --- Refused before anything is stored ---------------------------------------------------


def assert_nothing_stored(session: ChatSession, messages_before: int) -> None:
    assert ChatAttachment.objects.filter(session=session).count() == 0
    assert Message.objects.filter(session=session).count() == messages_before
    assert stored_files() == []


def test_a_file_too_large_for_sms_is_refused_and_nothing_is_stored(
    client, twilio_on: HTTPServer, agent1, default_queue, settings
) -> None:
    settings.ATTACHMENT_MAX_BYTES = 10 * MB
    session = sms_chat(client, agent1)
    before = session.messages.count()
    with pytest.raises(AttachmentTooLarge, match="at most 5 MB"):
        send_file(session, agent1, "scan.pdf", PDF_BYTES + b" " * (5 * MB))
    assert_nothing_stored(session, before)
    assert twilio_on.log == []


def test_a_type_sms_does_not_take_is_refused_and_nothing_is_stored(
    client, twilio_on: HTTPServer, agent1, default_queue
) -> None:
    session = sms_chat(client, agent1)
    before = session.messages.count()
    with pytest.raises(AttachmentRefused, match="SMS takes only pictures") as refused:
        send_file(session, agent1, "notes.txt", b"hello")
    assert not isinstance(refused.value, AttachmentTooLarge)
    assert_nothing_stored(session, before)


def test_a_gif_is_refused_on_whatsapp(
    client, whatsapp_public: HTTPServer, agent1, default_queue
) -> None:
    session = whatsapp_chat(client, agent1)
    before = session.messages.count()
    with pytest.raises(AttachmentRefused, match="WhatsApp takes only JPEG or PNG"):
        send_file(session, agent1, "funny.gif", GIF_BYTES)
    assert_nothing_stored(session, before)


def test_whatsapp_without_a_public_address_sends_no_files(
    client, whatsapp_public: HTTPServer, agent1, default_queue, settings
) -> None:
    session = whatsapp_chat(client, agent1)
    settings.PUBLIC_URL = ""
    before = session.messages.count()
    with pytest.raises(AttachmentRefused, match="no public address"):
        send_file(session, agent1, "shot.png", png_bytes())
    assert_nothing_stored(session, before)


def test_a_file_outside_the_whatsapp_window_is_refused(
    client, whatsapp_public: HTTPServer, agent1, default_queue
) -> None:
    session = whatsapp_chat(client, agent1)
    PhoneClient.objects.update(whatsapp_received_at=timezone.now() - timedelta(hours=25))
    before = session.messages.count()
    with pytest.raises(WindowClosed):
        send_file(session, agent1, "shot.png", png_bytes())
    assert_nothing_stored(session, before)


# --- The public media URL ----------------------------------------------------------------


@pytest.fixture
def sent_file(client, twilio_on: HTTPServer, agent1, default_queue) -> ChatAttachment:  # type: ignore[no-untyped-def]
    twilio_on.expect_request(TWILIO_MESSAGES_PATH).respond_with_json({"sid": "SMfile1"}, status=201)
    message = send_file(sms_chat(client, agent1), agent1, "shot.png", png_bytes())
    return ChatAttachment.objects.get(pk=message.attachment_id)


def test_the_media_url_serves_the_file_without_a_login(client, sent_file) -> None:  # type: ignore[no-untyped-def]
    path = media_path(public_media.public_url(sent_file.pk))
    response = client.get(path)
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert response["Content-Disposition"] == (
        "inline; filename=\"shot.png\"; filename*=UTF-8''shot.png"
    )
    assert response["X-Content-Type-Options"] == "nosniff"
    assert b"".join(response.streaming_content) == png_bytes()
    # Twilio checks the type with HEAD first.
    head = client.head(path)
    assert head.status_code == 200 and head["Content-Type"] == "image/png"
    assert client.post(path).status_code == 405


def test_a_bad_or_altered_token_is_a_404(client, sent_file) -> None:  # type: ignore[no-untyped-def]
    good = public_media.public_url(sent_file.pk)
    token = urlsplit(good).path.split("/")[-2]
    for bad in (
        "nonsense",
        token[:-1] + ("A" if token[-1] != "A" else "B"),  # the signature changed
        signing.dumps(sent_file.pk),  # signed by us, but not as a media URL
        signing.dumps(str(sent_file.pk), salt=public_media.SALT),  # not an id
    ):
        assert client.get(f"/channels/media/{bad}/").status_code == 404


def test_a_media_url_expires_after_a_day(client, sent_file) -> None:  # type: ignore[no-untyped-def]
    path = media_path(public_media.public_url(sent_file.pk))
    with time_machine.travel(timezone.now() + timedelta(hours=23, minutes=59)):
        assert client.get(path).status_code == 200
    with time_machine.travel(timezone.now() + timedelta(hours=24, seconds=5)):
        assert client.get(path).status_code == 404


def test_a_clients_file_and_a_portal_chats_file_have_no_media_url(  # type: ignore[no-untyped-def]
    client, sent_file, alice, alice_ticket, agent1
) -> None:
    # What the SMS client sent into the same chat.
    session = sent_file.session
    received = attachment_receive(
        session_id=session.pk,
        author=session.client,
        name="their.png",
        content=png_bytes(),
        key="SMin1#media0",
    )
    # An agent's file in a portal chat.
    portal = services.session_join(
        session_id=services.session_request(
            client=alice, kind=ChatKind.POST_TICKET, ticket_id=alice_ticket.pk
        ).pk,
        agent=agent1,
    )
    portal_file = send_file(portal, agent1, "portal.png", png_bytes())
    for attachment_id in (received.attachment_id, portal_file.attachment_id, 999999):
        path = media_path(public_media.public_url(attachment_id))
        assert client.get(path).status_code == 404
    # The agent's own file is still served.
    assert client.get(media_path(public_media.public_url(sent_file.pk))).status_code == 200
