"""Files in a live chat, clicked through in two browsers: alice drops an image
onto her chat window (both sides see the preview) and pastes another, agent1
attaches a PDF with the paperclip (alice gets a download link), a refused
file shows its reason in the window, a file name carrying HTML stays text,
and after the end the Chat history lists the files."""

from __future__ import annotations

import base64
import re

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.chat.files_helpers import PDF_BYTES, png_bytes
from tests.e2e.helpers import screenshot
from tests.e2e.test_chat_flows import chat_window, go_available, open_as, people  # noqa: F401
from tests.personas import AGENT1

# Join opens the chat in the agent workspace.
WORKSPACE = re.compile(r"/console/chats/\?chat=\d+$")

pytestmark = pytest.mark.usefixtures("e2e_db")

IMAGE = png_bytes(160, 90, (40, 140, 90))
XSS_NAME = "<img src=x onerror=window.__xss=1>.png"


def drop_file(page: Page, window: Locator, name: str, content: bytes, mime: str) -> None:
    """Drag and drop as the browser does it: dragenter, dragover, drop with a
    DataTransfer holding the file."""
    data = page.evaluate_handle(
        """([b64, name, mime]) => {
            const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
            const transfer = new DataTransfer();
            transfer.items.add(new File([bytes], name, { type: mime }));
            return transfer;
        }""",
        [base64.b64encode(content).decode(), name, mime],
    )
    log = window.locator(".chat-log")
    for event in ("dragenter", "dragover", "drop"):
        log.dispatch_event(event, {"dataTransfer": data})


def paste_file(page: Page, window: Locator, name: str, content: bytes, mime: str) -> None:
    window.get_by_label("Message").evaluate(
        """(input, [b64, name, mime]) => {
            const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
            const transfer = new DataTransfer();
            transfer.items.add(new File([bytes], name, { type: mime }));
            input.dispatchEvent(new ClipboardEvent("paste", {
                clipboardData: transfer, bubbles: true, cancelable: true,
            }));
        }""",
        [base64.b64encode(content).decode(), name, mime],
    )


def image_loaded(window: Locator, name: str) -> None:
    """The thumbnail is shown and its bytes came (the access-checked preview)."""
    image = window.get_by_role("img", name=name)
    expect(image).to_be_visible()
    image.evaluate(
        "(img) => img.complete ? null : new Promise((ok) => img.addEventListener('load', ok))"
    )
    assert image.evaluate("(img) => img.naturalWidth") > 0


def test_files_both_ways(new_context, people) -> None:  # noqa: F811
    agent = open_as(new_context, "agent1@example.com")
    go_available(agent)
    client = open_as(new_context, "alice@acme.example")
    client.get_by_role("link", name="Printer prints blank pages").click()
    client.get_by_role("button", name="Join chat").click()
    client_window = chat_window(client)
    expect(client_window).to_contain_text("Waiting for an agent")
    # No files before an agent is in the room.
    expect(client_window.get_by_role("button", name="Attach a file")).to_be_disabled()

    agent.locator(".toast-request").get_by_role("button", name="Join").click()
    agent.wait_for_url(WORKSPACE)
    agent_window = chat_window(agent)
    expect(agent_window).to_contain_text(f"{AGENT1.full_name} joined the chat.")
    expect(client_window.get_by_role("button", name="Attach a file")).to_be_enabled()

    # Alice drops a screenshot onto her window: the preview on both sides.
    drop_file(client, client_window, "blank-page.png", IMAGE, "image/png")
    image_loaded(client_window, "blank-page.png")
    image_loaded(agent_window, "blank-page.png")
    screenshot(client, "files-1-client-dropped-image")
    screenshot(agent, "files-2-agent-sees-image")

    # Agent1 attaches a PDF with the paperclip: alice gets a download link.
    with agent.expect_file_chooser() as chooser:
        agent_window.get_by_role("button", name="Attach a file").click()
    chooser.value.set_files(
        files=[{"name": "toner-guide.pdf", "mimeType": "application/pdf", "buffer": PDF_BYTES}]
    )
    link = client_window.get_by_role("link", name=re.compile(r"toner-guide\.pdf"))
    expect(link).to_be_visible()
    expect(link).to_contain_text(f"{len(PDF_BYTES)} bytes")
    expect(link).to_have_attribute("href", re.compile(r"^/chat/files/\d+/$"))
    expect(client_window.get_by_role("img", name="toner-guide.pdf")).to_have_count(0)
    with client.expect_download() as download:
        link.click()
    assert download.value.suggested_filename == "toner-guide.pdf"
    with open(download.value.path(), "rb") as handle:
        assert handle.read() == PDF_BYTES
    screenshot(client, "files-3-client-sees-pdf")

    # A pasted image works the same way.
    paste_file(client, client_window, "pasted.png", png_bytes(40, 40, (200, 60, 60)), "image/png")
    image_loaded(agent_window, "pasted.png")

    # A refused file: the reason in the window, nothing in the log.
    client_window.locator("input.chat-file-input").set_input_files(
        files=[{"name": "tool.exe", "mimeType": "application/octet-stream", "buffer": b"MZ"}]
    )
    expect(client_window.locator(".chat-error")).to_contain_text(
        "tool.exe was not sent: Files of type .exe are not accepted."
    )
    expect(agent_window).not_to_contain_text("tool.exe")
    screenshot(client, "files-4-refused")

    # A file name with HTML in it stays text on both sides.
    client_window.locator("input.chat-file-input").set_input_files(
        files=[{"name": XSS_NAME, "mimeType": "image/png", "buffer": IMAGE}]
    )
    expect(agent_window.locator(".chat-file-name").last).to_have_text(XSS_NAME)
    expect(client_window.locator(".chat-file-name").last).to_have_text(XSS_NAME)
    image_loaded(agent_window, XSS_NAME)  # the name is only the image's alt text
    for page in (client, agent):
        assert page.evaluate("window.__xss") is None
        assert page.locator("img[onerror]").count() == 0

    # After the end the Chat history lists the files, linked to the download.
    agent_window.get_by_role("button", name="End chat").click()
    agent.locator("dialog.chat-end-dialog").get_by_role("button", name="End chat").click()
    expect(client_window).to_contain_text("The chat has ended.")
    expect(client_window.get_by_role("button", name="Attach a file")).to_be_disabled()
    agent.goto(f"/console/tickets/{people['ticket'].pk}/")
    agent.get_by_role("tab", name="Chat history").click()
    history = agent.locator(".chat-history")
    expect(history.get_by_role("link", name=re.compile("blank-page.png"))).to_be_visible()
    expect(history.get_by_role("link", name=re.compile("toner-guide.pdf"))).to_be_visible()
    expect(history).to_contain_text(XSS_NAME)
    assert agent.evaluate("window.__xss") is None
    screenshot(agent, "files-5-history")
