"""SMS and WhatsApp clients writing in: signed webhooks from both providers
(and unsigned ones), replays, types the chat cannot show, files, who is
writing (a known contact, an unknown number, a contact denied chat) and which
chat a message goes into."""

from __future__ import annotations

import logging

import pytest
from pytest_httpserver import HTTPServer

from accounts.models import Contact
from chat import services
from chat.models import (
    Channel,
    ChannelNotice,
    ChatKind,
    ChatQueue,
    ChatSession,
    ContactChatPermission,
    Message,
    MessageKind,
    PermissionValue,
    PhoneClient,
    SessionStatus,
)
from officehours.models import Schedule
from tests.chat.channels.conftest import TWILIO_MESSAGES_PATH, TWILIO_SID
from tests.chat.channels.signed import (
    STATUS_PATH,
    UNSIGNED,
    post_twilio,
    post_whatsapp,
    sms,
    wa_text,
    whatsapp_value,
)
from tests.personas import ALICE

# Committed for real: what the webhooks start after commit (paging, file and
# send tasks, run inline by the test settings) happens as in production.
pytestmark = pytest.mark.django_db(transaction=True)

NUMBER = "+447700900123"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def only_session() -> ChatSession:
    (session,) = ChatSession.objects.all()
    return session


def texts(session: ChatSession) -> list[str]:
    return list(
        session.messages.exclude(kind=MessageKind.SYSTEM)
        .order_by("seq")
        .values_list("body", flat=True)
    )


# --- Signed webhooks ---------------------------------------------------------------------------


def test_an_sms_from_an_unknown_number_is_a_request_in_the_default_queue(
    client, twilio_on, default_queue, agent1, agent2, sent
) -> None:
    response = post_twilio(client, sms("SM1"))

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/xml")
    assert response.content.decode().endswith("<Response/>")
    session = only_session()
    assert (session.channel, session.kind, session.status) == (
        Channel.SMS,
        ChatKind.PRE_TICKET,
        SessionStatus.WAITING,
    )
    assert session.subject == "+44 7700 900123 (SMS)"
    assert session.client_address == NUMBER
    assert session.contact is None and session.queue == default_queue
    assert session.client.display_name == "+44 7700 900123"
    assert not session.client.is_active and not session.client.has_usable_password()
    assert texts(session) == ["Printer is on fire"]
    # Paged like a portal request: the queue's available agents.
    paged = sent.of_type("chat.incoming")
    assert {group for group, _ in paged} == {f"user.{agent1.pk}", f"user.{agent2.pk}"}
    assert {frame["session"]["channel"] for _, frame in paged} == {"sms"}


def test_a_whatsapp_message_from_an_unknown_number_is_titled_with_the_profile_name(
    client, whatsapp_on, default_queue
) -> None:
    response = post_whatsapp(client, whatsapp_value([wa_text("wamid.1", "Hi there")]))

    assert response.status_code == 200
    session = only_session()
    assert session.channel == Channel.WHATSAPP
    assert session.subject == "Jane Doe, +44 7700 900123 (WhatsApp)"
    assert session.client.display_name == "Jane Doe"
    assert texts(session) == ["Hi there"]


def test_the_same_message_delivered_twice_is_stored_once(client, twilio_on, whatsapp_on) -> None:
    assert post_twilio(client, sms("SM1")).status_code == 200
    assert post_twilio(client, sms("SM1")).status_code == 200
    payload = whatsapp_value([wa_text("wamid.1")])
    assert post_whatsapp(client, payload).status_code == 200
    assert post_whatsapp(client, payload).status_code == 200

    assert Message.objects.filter(provider_message_id="SM1").count() == 1
    assert Message.objects.filter(provider_message_id="wamid.1").count() == 1
    assert ChatSession.objects.count() == 2  # one SMS chat, one WhatsApp chat


@pytest.mark.parametrize("signature", [UNSIGNED, "", "d3Jvbmc="])
def test_an_sms_without_our_signature_is_refused_and_nothing_is_stored(
    client, twilio_on, caplog, signature
) -> None:
    with caplog.at_level(logging.INFO):
        response = post_twilio(client, sms("SM1"), signature=signature)

    assert response.status_code == 403
    assert not ChatSession.objects.exists() and not Message.objects.exists()
    assert not PhoneClient.objects.exists()
    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert [r.levelname for r in warnings] == ["WARNING"]


def test_an_sms_signed_with_another_token_is_refused(client, twilio_on) -> None:
    assert post_twilio(client, sms("SM1"), token="someone-elses").status_code == 403
    assert not Message.objects.exists()


@pytest.mark.parametrize("signature", [UNSIGNED, "sha256=00", "sha1=abc"])
def test_a_whatsapp_call_without_our_signature_is_refused_and_nothing_is_stored(
    client, whatsapp_on, caplog, signature
) -> None:
    with caplog.at_level(logging.INFO):
        response = post_whatsapp(client, whatsapp_value([wa_text("wamid.1")]), signature=signature)

    assert response.status_code == 403
    assert not ChatSession.objects.exists() and not PhoneClient.objects.exists()
    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert [r.levelname for r in warnings] == ["WARNING"]


def test_a_whatsapp_call_signed_with_another_secret_is_refused(client, whatsapp_on) -> None:
    payload = whatsapp_value([wa_text("wamid.1")])
    assert post_whatsapp(client, payload, secret="not-ours").status_code == 403


def test_a_signed_but_unreadable_whatsapp_call_is_a_bad_request_not_an_error(
    client, whatsapp_on, caplog
) -> None:
    with caplog.at_level(logging.INFO):
        response = post_whatsapp(client, {"entry": "nonsense"})
    assert response.status_code == 400
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


def test_the_webhooks_of_a_channel_that_is_off_do_not_exist(client, settings) -> None:
    settings.TWILIO_ACCOUNT_SID = ""
    settings.WHATSAPP_TOKEN = ""
    assert post_twilio(client, sms("SM1")).status_code == 404
    assert client.post(STATUS_PATH, {}).status_code == 404
    assert client.get("/channels/whatsapp/", {"hub.mode": "subscribe"}).status_code == 404
    assert post_whatsapp(client, whatsapp_value([wa_text("wamid.1")])).status_code == 404


def test_the_whatsapp_verification_handshake(client, whatsapp_on) -> None:
    ok = client.get(
        "/channels/whatsapp/",
        {"hub.mode": "subscribe", "hub.verify_token": "wa-verify-token", "hub.challenge": "1158"},
    )
    assert ok.status_code == 200 and ok.content == b"1158"
    wrong = client.get(
        "/channels/whatsapp/",
        {"hub.mode": "subscribe", "hub.verify_token": "guess", "hub.challenge": "1158"},
    )
    assert wrong.status_code == 403
    assert (
        client.get("/channels/whatsapp/", {"hub.verify_token": "wa-verify-token"}).status_code
        == 403
    )


@pytest.mark.parametrize(
    ("message", "line"),
    [
        ({"type": "location", "location": {"latitude": 51.5, "longitude": -0.12}}, "a location"),
        ({"type": "sticker", "sticker": {"id": "S1", "mime_type": "image/webp"}}, "a sticker"),
    ],
)
def test_a_message_the_chat_cannot_show_is_a_line_saying_what_arrived(
    client, whatsapp_on, message, line
) -> None:
    payload = whatsapp_value([{"from": "447700900123", "id": "wamid.9", **message}])
    assert post_whatsapp(client, payload).status_code == 200
    assert post_whatsapp(client, payload).status_code == 200  # and a replay adds nothing

    stored = Message.objects.get(provider_message_id="wamid.9")
    assert stored.kind == MessageKind.SYSTEM
    assert stored.body == f"Jane Doe sent {line}, which cannot be shown here."


# --- Files ----------------------------------------------------------------------------------------


def test_a_picture_by_mms_becomes_a_chat_file(client, twilio_on: HTTPServer) -> None:
    media = f"/twilio/2010-04-01/Accounts/{TWILIO_SID}/Messages/SM1/Media/ME1"
    twilio_on.expect_request(media).respond_with_data(PNG, content_type="image/png")
    fields = sms("SM1", body="", NumMedia="1", MediaUrl0=twilio_on.url_for(media))
    fields["MediaContentType0"] = "image/png"

    assert post_twilio(client, fields).status_code == 200
    assert post_twilio(client, fields).status_code == 200

    (stored,) = Message.objects.filter(kind=MessageKind.FILE)
    assert stored.provider_message_id == "SM1#media0"
    assert stored.attachment.is_image and stored.attachment.original_name == "image.png"
    assert stored.author == only_session().client


def test_a_whatsapp_document_is_fetched_through_the_graph_api(client, whatsapp_on) -> None:
    whatsapp_on.expect_request("/graph/MEDIA7").respond_with_json(
        {"url": whatsapp_on.url_for("/cdn/7"), "mime_type": "application/pdf"}
    )
    whatsapp_on.expect_request("/cdn/7").respond_with_data(b"%PDF-1.4 invoice")
    document = {
        "from": "447700900123",
        "id": "wamid.7",
        "type": "document",
        "document": {"id": "MEDIA7", "mime_type": "application/pdf", "filename": "invoice.pdf"},
    }
    assert post_whatsapp(client, whatsapp_value([document])).status_code == 200

    (stored,) = Message.objects.filter(kind=MessageKind.FILE)
    assert stored.body == "invoice.pdf" and not stored.attachment.is_image


def test_a_file_the_attachment_rules_refuse_is_a_line_not_a_file(client, whatsapp_on) -> None:
    whatsapp_on.expect_request("/graph/MEDIA8").respond_with_json(
        {"url": whatsapp_on.url_for("/cdn/8"), "mime_type": "application/x-msdownload"}
    )
    whatsapp_on.expect_request("/cdn/8").respond_with_data(b"MZ...")
    document = {
        "from": "447700900123",
        "id": "wamid.8",
        "type": "document",
        "document": {"id": "MEDIA8", "filename": "setup.exe"},
    }
    assert post_whatsapp(client, whatsapp_value([document])).status_code == 200

    assert not Message.objects.filter(kind=MessageKind.FILE).exists()
    line = Message.objects.get(provider_message_id="wamid.8#media0")
    assert line.kind == MessageKind.SYSTEM and "setup.exe" in line.body
    assert "could not be kept" in line.body


# --- Who is writing, and into which chat ---------------------------------------------------------


def test_a_known_contact_gets_its_company_and_its_companys_queue(
    client, twilio_on, alice, default_queue, agent2
) -> None:
    acme_queue = ChatQueue.objects.create(name="Acme desk")
    acme_queue.companies.add(alice.contact.company)
    # Alice's phone as the demo has it, written differently from E.164.
    assert alice.contact.phone == ALICE.phone

    post_twilio(client, sms("SM1", sender=alice.contact.phone_e164))

    session = only_session()
    assert session.contact == alice.contact and session.queue == acme_queue
    assert session.client != alice  # the number's own user, never her portal login
    assert session.client.display_name == ALICE.full_name
    assert session.subject == f"{ALICE.full_name}, +44 20 7946 0011 (SMS)"


def test_writing_again_continues_the_open_chat_and_after_its_end_starts_a_new_one(
    client, twilio_on, agent1, default_queue
) -> None:
    post_twilio(client, sms("SM1", body="First"))
    post_twilio(client, sms("SM2", body="Still waiting"))
    first = only_session()
    assert texts(first) == ["First", "Still waiting"]

    services.session_join(session_id=first.pk, agent=agent1)
    post_twilio(client, sms("SM3", body="Thanks for joining"))
    assert texts(first) == ["First", "Still waiting", "Thanks for joining"]

    services.session_end(
        session_id=first.pk, agent=agent1, outcome=services.EndOutcome.CLOSE, reason="Sorted"
    )
    post_twilio(client, sms("SM4", body="One more thing"))
    second = ChatSession.objects.exclude(pk=first.pk).get()
    assert second.status == SessionStatus.WAITING and texts(second) == ["One more thing"]


def test_a_client_of_another_company_is_never_matched_into_someone_elses_chat(
    client, twilio_on, alice, carol, default_queue
) -> None:
    post_twilio(client, sms("SM1", sender=alice.contact.phone_e164, body="Alice here"))
    post_twilio(client, sms("SM2", sender=carol.contact.phone_e164, body="Carol here"))

    alices, carols = (
        ChatSession.objects.get(contact=alice.contact),
        ChatSession.objects.get(contact=carol.contact),
    )
    assert alices != carols
    assert texts(alices) == ["Alice here"] and texts(carols) == ["Carol here"]
    assert carols.contact.company.name != alices.contact.company.name


def test_a_number_that_contacts_of_two_companies_share_matches_neither(
    client, twilio_on, alice, carol, default_queue
) -> None:
    Contact.objects.filter(pk=carol.contact.pk).update(phone_e164=alice.contact.phone_e164)

    post_twilio(client, sms("SM1", sender=alice.contact.phone_e164))

    session = only_session()
    assert session.contact is None and session.queue == default_queue


def test_a_contact_denied_chat_gets_one_polite_answer_and_no_request(
    client, twilio_on: HTTPServer, alice
) -> None:
    ContactChatPermission.objects.create(contact=alice.contact, value=PermissionValue.DENY)
    twilio_on.expect_request(TWILIO_MESSAGES_PATH, method="POST").respond_with_json(
        {"sid": "SMnotice"}, status=201
    )

    post_twilio(client, sms("SM1", sender=alice.contact.phone_e164))
    post_twilio(client, sms("SM2", sender=alice.contact.phone_e164, body="Hello?"))

    assert not ChatSession.objects.exists()
    (notice,) = ChannelNotice.objects.all()
    assert notice.delivery_status == "sent" and notice.provider_message_id == "SMnotice"
    ((call, _),) = twilio_on.log
    assert call.form["To"] == alice.contact.phone_e164
    assert "Chat is not available" in call.form["Body"]


def test_outside_office_hours_the_message_is_a_follow_up_card_that_collects_the_next_ones(
    client, twilio_on, default_queue, sent
) -> None:
    Schedule.objects.create(name="Never open", timezone="UTC")

    post_twilio(client, sms("SM1", body="Server down"))
    post_twilio(client, sms("SM2", body="Still down"))

    session = only_session()
    assert session.status == SessionStatus.ABANDONED and session.outside_hours
    assert texts(session) == ["Server down", "Still down"]
    assert sent.of_type("queue.abandoned") and not sent.of_type("chat.incoming")
