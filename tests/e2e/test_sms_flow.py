"""An SMS request answered in the console: a client texts the helpdesk (the
test is Twilio: it POSTs the inbound message to daphne, signed as Twilio
signs), the agent gets the request with its SMS badge, joins and answers; the
reply goes out through the fake Twilio API (the session's pytest-httpserver)
and its delivery tick moves when Twilio reports it delivered. The agent then
attaches a picture with the paperclip: Twilio is sent a ``MediaUrl`` that
serves it without a login; a file SMS cannot carry is refused in the window."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from itertools import count

import pytest
import requests
from playwright.sync_api import BrowserContext, expect
from pytest_httpserver import HTTPServer
from twilio.request_validator import RequestValidator
from werkzeug import Response

from presence.models import PresenceStatus
from tests.chat.files_helpers import png_bytes
from tests.e2e.conftest import E2E_TWILIO
from tests.e2e.helpers import screenshot
from tests.e2e.test_chat_flows import chat_window, go_available, open_as, send
from tests.personas import AGENT1

pytestmark = pytest.mark.usefixtures("e2e_db")

SID = E2E_TWILIO["SWITCHBOARD_TWILIO_ACCOUNT_SID"]
TOKEN = E2E_TWILIO["SWITCHBOARD_TWILIO_AUTH_TOKEN"]


def post_signed(live_server_url: str, path: str, fields: dict[str, str]) -> requests.Response:
    signature = RequestValidator(TOKEN).compute_signature(live_server_url + path, fields)
    return requests.post(
        live_server_url + path, data=fields, headers={"X-Twilio-Signature": signature}, timeout=10
    )


def wait_for(probe: Callable[[], object], timeout: float = 10) -> object:
    deadline = time.monotonic() + timeout
    while not (result := probe()):
        if time.monotonic() > deadline:
            pytest.fail("timed out")
        time.sleep(0.1)
    return result


def test_an_sms_request_joined_and_answered_with_its_delivery_tick(
    new_context: Callable[..., BrowserContext], live_server_url: str, httpserver: HTTPServer
) -> None:
    AGENT1.create(presence=PresenceStatus.OFFLINE)
    sids = count(1)
    httpserver.expect_request(
        f"/twilio/2010-04-01/Accounts/{SID}/Messages.json", method="POST"
    ).respond_with_handler(
        lambda request: Response(
            json.dumps({"sid": f"SMe2e{next(sids)}", "status": "queued"}),
            status=201,
            content_type="application/json",
        )
    )
    agent = open_as(new_context, AGENT1.email)
    go_available(agent)

    inbound = {
        "MessageSid": "SMin1",
        "From": "+447700900123",
        "To": "+15005550006",
        "Body": "My laptop will not start",
        "NumMedia": "0",
    }
    answer = post_signed(live_server_url, "/channels/twilio/sms/", inbound)
    assert answer.status_code == 200 and "<Response/>" in answer.text

    toast = agent.locator(".toast-request")
    expect(toast).to_contain_text("+44 7700 900123")
    card = agent.locator("#session-manager .sm-queue .sm-item")
    expect(card.locator(".channel-badge")).to_have_text("SMS")
    toast.get_by_role("button", name="Join").click()

    window = chat_window(agent)
    expect(window.locator(".chat-heading .channel-badge")).to_have_text("SMS")
    expect(window).to_contain_text("My laptop will not start")
    send(agent, "Hold the power button for ten seconds")

    wait_for(lambda: httpserver.log)
    ((request, _),) = httpserver.log
    assert request.form["To"] == "+447700900123"
    assert request.form["Body"] == "Hold the power button for ten seconds"
    tick = window.locator(".chat-line.mine .chat-tick").last
    expect(tick).to_have_attribute("data-delivery", "sent")

    status = {"MessageSid": "SMe2e1", "MessageStatus": "delivered", "AccountSid": SID}
    assert post_signed(live_server_url, "/channels/twilio/status/", status).status_code == 200
    expect(tick).to_have_attribute("data-delivery", "delivered")
    expect(tick).to_contain_text("Delivered")
    screenshot(agent, "sms-1-answered-delivered")

    # A picture with the paperclip: it goes out as an MMS whose MediaUrl
    # serves the file to Twilio, without a login.
    picture = png_bytes(40, 30, (200, 90, 30))
    with agent.expect_file_chooser() as chooser:
        window.get_by_role("button", name="Attach a file").click()
    chooser.value.set_files(
        files=[{"name": "cable.png", "mimeType": "image/png", "buffer": picture}]
    )
    wait_for(lambda: len(httpserver.log) == 2)
    media_request = httpserver.log[1][0]
    assert media_request.form["To"] == "+447700900123"
    media_url = media_request.form["MediaUrl"]
    assert media_url.startswith(f"{live_server_url}/channels/media/")
    fetched = requests.get(media_url, timeout=10)
    assert fetched.status_code == 200 and fetched.headers["Content-Type"] == "image/png"
    assert fetched.content == picture
    file_line = window.locator(".chat-line.mine").last
    expect(file_line).to_contain_text("cable.png")
    expect(file_line.locator(".chat-tick")).to_have_attribute("data-delivery", "sent")
    screenshot(agent, "sms-2-picture-sent")

    # A file SMS cannot carry: the reason in the window, nothing sent.
    window.locator("input.chat-file-input").set_input_files(
        files=[{"name": "notes.txt", "mimeType": "text/plain", "buffer": b"hello"}]
    )
    expect(window.locator(".chat-error")).to_contain_text(
        "notes.txt was not sent: SMS takes only pictures"
    )
    assert len(httpserver.log) == 2
