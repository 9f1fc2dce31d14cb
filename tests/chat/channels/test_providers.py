"""The two providers against a local fake of their APIs: what a send asks
for, what a refusal or an outage means for a retry, how files are fetched."""

from __future__ import annotations

import base64
import json

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from chat.channels.providers import provider_for
from chat.channels.providers.base import (
    InboundMedia,
    MediaError,
    ProviderRefused,
    ProviderUnavailable,
)
from chat.models import Channel
from tests.chat.channels.conftest import (
    PUBLIC_URL,
    TWILIO_FROM,
    TWILIO_MESSAGES_PATH,
    TWILIO_SID,
    TWILIO_TOKEN,
    WA_MESSAGES_PATH,
    WA_TOKEN,
)

BASIC = "Basic " + base64.b64encode(f"{TWILIO_SID}:{TWILIO_TOKEN}".encode()).decode()


def test_a_channel_without_settings_has_no_provider(settings) -> None:  # type: ignore[no-untyped-def]
    settings.TWILIO_ACCOUNT_SID = ""
    settings.WHATSAPP_TOKEN = ""
    assert provider_for(Channel.SMS) is None
    assert provider_for(Channel.WHATSAPP) is None
    assert provider_for(Channel.WEB) is None


def test_twilio_sends_the_documented_form_with_basic_auth(twilio_on: HTTPServer) -> None:
    twilio_on.expect_request(TWILIO_MESSAGES_PATH, method="POST").respond_with_json(
        {"sid": "SM1", "status": "queued"}, status=201
    )
    assert provider_for(Channel.SMS).send_text(to="+447700900123", body="Hello") == "SM1"
    ((request, _),) = twilio_on.log
    assert request.headers["Authorization"] == BASIC
    assert request.form.to_dict() == {
        "To": "+447700900123",
        "From": TWILIO_FROM,
        "Body": "Hello",
        "StatusCallback": f"{PUBLIC_URL}/channels/twilio/status/",
    }


def test_whatsapp_sends_the_documented_json_with_the_bearer_token(whatsapp_on: HTTPServer) -> None:
    whatsapp_on.expect_request(WA_MESSAGES_PATH, method="POST").respond_with_json(
        {"messaging_product": "whatsapp", "messages": [{"id": "wamid.1"}]}
    )
    assert provider_for(Channel.WHATSAPP).send_text(to="+447700900123", body="Hi") == "wamid.1"
    ((request, _),) = whatsapp_on.log
    assert request.headers["Authorization"] == f"Bearer {WA_TOKEN}"
    assert json.loads(request.data) == {
        "messaging_product": "whatsapp",
        "to": "447700900123",
        "type": "text",
        "text": {"body": "Hi"},
    }


def test_a_refusal_is_final_and_carries_the_providers_words(twilio_on: HTTPServer) -> None:
    twilio_on.expect_request(TWILIO_MESSAGES_PATH).respond_with_json(
        {"code": 21211, "message": "The 'To' number is not a valid phone number."}, status=400
    )
    with pytest.raises(
        ProviderRefused, match="Twilio error 21211: The 'To' number is not a valid phone number"
    ):
        provider_for(Channel.SMS).send_text(to="+447700900123", body="Hello")


@pytest.mark.parametrize("status", [429, 500, 503])
def test_busy_or_broken_provider_means_nothing_was_sent(twilio_on: HTTPServer, status: int) -> None:
    twilio_on.expect_request(TWILIO_MESSAGES_PATH).respond_with_data("busy", status=status)
    with pytest.raises(ProviderUnavailable):
        provider_for(Channel.SMS).send_text(to="+447700900123", body="Hello")


def test_an_unreachable_provider_means_nothing_was_sent(twilio_on: HTTPServer, settings) -> None:  # type: ignore[no-untyped-def]
    settings.TWILIO_API_BASE = "http://127.0.0.1:9"  # discard: nobody listens
    with pytest.raises(ProviderUnavailable):
        provider_for(Channel.SMS).send_text(to="+447700900123", body="Hello")


def test_twilio_media_is_fetched_with_basic_auth(twilio_on: HTTPServer) -> None:
    path = f"/twilio/2010-04-01/Accounts/{TWILIO_SID}/Messages/MM1/Media/ME1"
    twilio_on.expect_request(path, headers={"Authorization": BASIC}).respond_with_data(
        b"\x89PNG\r\n\x1a\nrest", content_type="image/png"
    )
    fetched = provider_for(Channel.SMS).fetch_media(
        InboundMedia(twilio_on.url_for(path), "image/png"), max_bytes=1000
    )
    assert fetched.content.startswith(b"\x89PNG") and fetched.content_type == "image/png"


def test_twilio_credentials_never_go_to_another_host(twilio_on: HTTPServer) -> None:
    with pytest.raises(MediaError):
        provider_for(Channel.SMS).fetch_media(
            InboundMedia("https://elsewhere.example/cat.png", "image/png"), max_bytes=1000
        )
    assert twilio_on.log == []


def test_whatsapp_media_is_resolved_then_downloaded_with_the_token(
    whatsapp_on: HTTPServer,
) -> None:
    auth = {"Authorization": f"Bearer {WA_TOKEN}"}
    whatsapp_on.expect_request("/graph/MEDIA1", headers=auth).respond_with_json(
        {"url": whatsapp_on.url_for("/cdn/file1"), "mime_type": "application/pdf", "id": "MEDIA1"}
    )
    whatsapp_on.expect_request("/cdn/file1", headers=auth).respond_with_data(
        b"%PDF-1.4", content_type="application/pdf"
    )
    fetched = provider_for(Channel.WHATSAPP).fetch_media(
        InboundMedia("MEDIA1", "application/pdf", "invoice.pdf"), max_bytes=1000
    )
    assert fetched.content == b"%PDF-1.4"


def test_a_file_larger_than_attachments_may_be_is_not_kept(twilio_on: HTTPServer) -> None:
    path = "/twilio/big"

    def big(request: Request) -> Response:
        return Response(b"x" * 5000, content_type="image/jpeg")

    twilio_on.expect_request(path).respond_with_handler(big)
    with pytest.raises(MediaError, match="larger"):
        provider_for(Channel.SMS).fetch_media(
            InboundMedia(twilio_on.url_for(path), "image/jpeg"), max_bytes=1000
        )
