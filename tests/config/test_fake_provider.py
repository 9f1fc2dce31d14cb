"""The local fake provider of `SWITCHBOARD_FAKE_PROVIDERS=1 make run` shows
what the app sent, a WhatsApp template by its name and values, a file by
its link."""

from __future__ import annotations

import threading
from http.server import ThreadingHTTPServer

import requests
from pytest_httpserver import HTTPServer

from config.fake_provider import FakeProvider, handler_for, whatsapp_text


def test_a_template_shows_by_its_name_and_values() -> None:
    sent = {
        "messaging_product": "whatsapp",
        "to": "447700900456",
        "type": "template",
        "template": {
            "name": "ticket_follow_up",
            "language": {"code": "en_US"},
            "components": [
                {
                    "type": "body",
                    "parameters": [
                        {"type": "text", "text": "Erin"},
                        {"type": "text", "text": "Priya"},
                    ],
                }
            ],
        },
    }

    assert whatsapp_text(sent) == "[template ticket_follow_up (en_US)] Erin | Priya"
    assert whatsapp_text({"type": "text", "text": {"body": "Hello"}}) == "Hello"


def test_a_file_sent_shows_as_its_link_and_a_picture_as_a_thumbnail(
    httpserver: HTTPServer, settings
) -> None:  # type: ignore[no-untyped-def]
    """The fake reads the file's type from its URL (as Twilio and Meta fetch
    it) and shows the link on its page."""
    settings.TWILIO_AUTH_TOKEN = "token"
    httpserver.expect_request("/channels/media/pic/").respond_with_data(
        b"png", content_type="image/png"
    )
    httpserver.expect_request("/channels/media/doc/").respond_with_data(
        b"%PDF", content_type="application/pdf"
    )
    fake = FakeProvider(app_url="http://127.0.0.1:9", own_url="http://127.0.0.1:9")
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler_for(fake))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        picture = httpserver.url_for("/channels/media/pic/")
        answer = requests.post(
            f"{base}/twilio/2010-04-01/Accounts/AC1/Messages.json",
            data={"To": "+447700900123", "Body": "", "MediaUrl": picture},
            timeout=10,
        )
        assert answer.status_code == 201
        document = httpserver.url_for("/channels/media/doc/")
        message = {
            "messaging_product": "whatsapp",
            "to": "447700900123",
            "type": "document",
            "document": {"link": document, "filename": "steps.pdf"},
        }
        assert requests.post(f"{base}/graph/1/messages", json=message, timeout=10).ok
        page = requests.get(base + "/", timeout=10).text
    finally:
        server.shutdown()
        server.server_close()
    assert f'<a href="{picture}" target="_blank"><img src="{picture}"' in page
    assert "(image/png)" in page
    assert f'<a href="{document}" target="_blank">file</a> (application/pdf)' in page
    assert "[document] steps.pdf" in page
