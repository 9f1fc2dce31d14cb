"""The local fake provider of `SWITCHBOARD_FAKE_PROVIDERS=1 make run` shows
what the app sent, a WhatsApp template by its name and values, a file by
its link."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import ThreadingHTTPServer

import requests
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from config.fake_provider import FakeProvider, handler_for, whatsapp_text


@contextmanager
def fake_provider() -> Iterator[str]:
    """A fake provider on a free port (its status reports go nowhere); its URL."""
    fake = FakeProvider(app_url="http://127.0.0.1:9", own_url="http://127.0.0.1:9")
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler_for(fake))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def page_showing(base: str, *texts: str) -> str:
    """The fake's page once it shows all of ``texts`` (a file's type is read
    after the send is answered), or as it is after 10 s."""
    deadline = time.monotonic() + 10
    while True:
        page = requests.get(base + "/", timeout=10).text
        if all(text in page for text in texts) or time.monotonic() > deadline:
            return page
        time.sleep(0.05)


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
    with fake_provider() as base:
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
        page = page_showing(base, "(image/png)", "(application/pdf)")
    assert f'<a href="{picture}" target="_blank"><img src="{picture}"' in page
    assert "(image/png)" in page
    assert f'<a href="{document}" target="_blank">file</a> (application/pdf)' in page
    assert "[document] steps.pdf" in page


def test_a_file_sent_is_answered_before_the_fake_reads_its_type(
    httpserver: HTTPServer, settings
) -> None:  # type: ignore[no-untyped-def]
    """The app serves the file's URL itself: the fake asks it for the type
    after answering the send, so the app's send never waits on itself."""
    settings.TWILIO_AUTH_TOKEN = "token"
    served = threading.Event()

    def slow_file(request: Request) -> Response:
        served.wait(timeout=10)
        return Response(b"png", content_type="image/png")

    httpserver.expect_request("/channels/media/slow/").respond_with_handler(slow_file)
    with fake_provider() as base:
        picture = httpserver.url_for("/channels/media/slow/")
        try:
            answer = requests.post(
                f"{base}/twilio/2010-04-01/Accounts/AC1/Messages.json",
                data={"To": "+447700900123", "Body": "", "MediaUrl": picture},
                timeout=2,
            )
            assert answer.status_code == 201
            assert "(type not read yet)" in requests.get(base + "/", timeout=10).text
        finally:
            served.set()
        assert "(image/png)" in page_showing(base, "(image/png)")
