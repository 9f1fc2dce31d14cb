"""Notifications people expect: the portal asks for permission when the client
asks to chat, and then shows an agent's reply and a push-chat invitation as a
notification while its tab is hidden; the console's request chime plays after
a fresh page load (sound resumed on the first click or key), unless the agent
pressed Mute; and the console's tab title counts the chats waiting for the
agent ("(2) Tickets · Switchboard")."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from presence.models import PresenceStatus
from tests.e2e.helpers import login, make_ticket, screenshot
from tests.e2e.test_chat_flows import chat_window, go_available, open_as, send
from tests.personas import AGENT1, ALICE, BOB, CAROL

pytestmark = pytest.mark.usefixtures("e2e_db")

WORKSPACE = re.compile(r"/console/chats/\?chat=\d+$")

# The page's Notification, recorded instead of shown, and a tab the test hides
# and shows (a headless tab is always visible).
NOTIFICATION_STUB = """
window.__asked = 0;
window.__notifications = [];
window.__hidden = false;
class RecordedNotification {
  constructor(title, options = {}) { window.__notifications.push({ title, body: options.body }); }
  close() {}
}
RecordedNotification.permission = "default";
RecordedNotification.requestPermission = () => {
  window.__asked += 1;
  RecordedNotification.permission = "granted";
  return Promise.resolve("granted");
};
window.Notification = RecordedNotification;
Object.defineProperty(document, "hidden", { get: () => window.__hidden });
Object.defineProperty(document, "visibilityState", {
  get: () => (window.__hidden ? "hidden" : "visible"),
});
"""

# Every chime (an oscillator started, with the state of the page's audio then),
# under the autoplay rule of browsers, which headless Chromium does not apply:
# audio made before the person clicked or typed in the page stays suspended
# until it is resumed after that. (navigator.userActivation cannot tell: every
# Playwright evaluate counts as a gesture.)
AUDIO_PROBE = """
window.__chimes = [];
window.__gestured = false;
for (const type of ["pointerdown", "keydown"]) {
  window.addEventListener(type, (event) => {
    if (event.isTrusted) window.__gestured = true;
  }, true);
}
const RealAudioContext = window.AudioContext;
window.AudioContext = class extends RealAudioContext {
  constructor() {
    super();
    this.__allowed = window.__gestured;
  }
  get state() { return this.__allowed ? super.state : "suspended"; }
  resume() {
    if (window.__gestured) this.__allowed = true;
    return super.resume();
  }
  createOscillator() { window.__chimes.push(this.state); return super.createOscillator(); }
};
"""


def set_hidden(page: Page, hidden: bool) -> None:
    page.evaluate(
        "(hidden) => { window.__hidden = hidden;"
        " document.dispatchEvent(new Event('visibilitychange')); }",
        hidden,
    )


def test_the_portal_asks_once_and_notifies_while_hidden(new_context) -> None:
    alice = ALICE.create()
    AGENT1.create(presence=PresenceStatus.OFFLINE)
    ticket = make_ticket(alice, "Printer prints blank pages")
    agent = open_as(new_context, "agent1@example.com")
    go_available(agent)

    context = new_context()
    context.grant_permissions(["notifications"])
    context.add_init_script(NOTIFICATION_STUB)
    client = context.new_page()
    login(client, ALICE.email)
    client.get_by_role("link", name="Printer prints blank pages").click()
    assert client.evaluate("window.__asked") == 0  # not before the client asks for anything
    client.get_by_role("button", name="Join chat").click()
    expect(chat_window(client)).to_contain_text("Waiting for an agent")
    assert client.evaluate("window.__asked") == 1

    agent.locator(".toast-request").get_by_role("button", name="Join").click()
    agent.wait_for_url(WORKSPACE)
    expect(chat_window(client).get_by_label("Message")).to_be_enabled()
    send(agent, "Visible: no notification needed")
    expect(chat_window(client)).to_contain_text("Visible: no notification needed")

    set_hidden(client, True)
    send(agent, "Have you tried a new toner cartridge?")
    expect(chat_window(client)).to_contain_text("Have you tried a new toner cartridge?")
    notifications = client.evaluate("window.__notifications")
    assert notifications == [
        {"title": f"{AGENT1.full_name} wrote", "body": "Have you tried a new toner cartridge?"}
    ]

    # The chat over, a chat the agent pushes later is a notification too.
    set_hidden(client, False)
    chat_window(agent).get_by_role("button", name="End chat").click()
    agent.locator("dialog.chat-end-dialog").get_by_role("button", name="End chat").click()
    expect(chat_window(client)).to_contain_text("The chat has ended.")
    chat_window(client).locator(".chat-log").get_by_role("button", name="Leave").click()
    chat_window(agent).get_by_role("button", name="Leave").first.click()
    expect(agent.locator(".chat-window")).to_have_count(0)
    set_hidden(client, True)
    agent.goto(f"/console/tickets/{ticket.pk}/")
    agent.get_by_role("button", name="Push chat").click()
    expect(client.locator("dialog.chat-invitation")).to_be_visible()
    assert client.evaluate("window.__notifications")[-1] == {
        "title": "Chat request",
        "body": f"{AGENT1.full_name} would like to chat with you.",
    }
    assert client.evaluate("window.__asked") == 1  # asked once, not again


def ask_to_chat(new_context, persona, subject: str) -> None:  # type: ignore[no-untyped-def]
    client = open_as(new_context, persona.email)
    client.get_by_role("link", name=subject).click()
    client.get_by_role("button", name="Join chat").click()
    expect(chat_window(client)).to_contain_text("Waiting for an agent")


def test_the_console_chimes_after_a_fresh_load_unless_muted(new_context) -> None:
    AGENT1.create(presence=PresenceStatus.OFFLINE)
    for persona in (ALICE, BOB, CAROL):
        make_ticket(persona.create(), f"Printer of {persona.first_name}")
    context = new_context()
    context.add_init_script(AUDIO_PROBE)
    agent = context.new_page()
    agent.set_default_timeout(10_000)
    login(agent, AGENT1.email)
    go_available(agent)
    agent.close()
    # A fresh page (a new tab of the same browser): nobody has clicked or typed in it yet.
    agent = context.new_page()
    agent.set_default_timeout(10_000)
    agent.goto("/console/")
    expect(agent.locator("[data-socket-state]")).to_have_attribute("data-state", "open")
    expect(agent.get_by_role("button", name="Available")).to_have_attribute("aria-pressed", "true")
    mute = agent.get_by_role("button", name="Mute", exact=True)
    expect(mute).to_have_attribute("aria-pressed", "false")

    ask_to_chat(new_context, ALICE, "Printer of Alice")
    expect(agent.locator(".toast-request")).to_have_count(1)
    # The browser holds the sound back until the agent does something…
    first = agent.evaluate("window.__chimes")
    assert first and set(first) == {"suspended"}, first
    agent.mouse.click(500, 600)  # anywhere on the page
    # …and from then on it plays.
    ask_to_chat(new_context, BOB, "Printer of Bob")
    expect(agent.locator(".toast-request")).to_have_count(2)
    then = agent.evaluate("window.__chimes")[len(first) :]
    assert then and set(then) == {"running"}, then

    # Muted, and still muted after a reload: the next request is silent.
    mute.click()
    expect(mute).to_have_attribute("aria-pressed", "true")
    screenshot(agent, "notify-1-muted")
    agent.reload()
    mute = agent.get_by_role("button", name="Mute", exact=True)
    expect(mute).to_have_attribute("aria-pressed", "true")
    expect(agent.locator("[data-socket-state]")).to_have_attribute("data-state", "open")
    agent.mouse.click(500, 600)  # anywhere on the page
    ask_to_chat(new_context, CAROL, "Printer of Carol")
    expect(agent.locator(".toast-request", has_text=CAROL.full_name)).to_have_count(1)
    assert agent.evaluate("window.__chimes") == []
    # Unmuted: it sounds again.
    mute.click()
    expect(mute).to_have_attribute("aria-pressed", "false")


def test_the_tab_title_counts_the_chats_waiting_for_the_agent(new_context) -> None:
    alice = ALICE.create()
    AGENT1.create(presence=PresenceStatus.OFFLINE)
    ticket = make_ticket(alice, "Printer prints blank pages")
    agent = open_as(new_context, "agent1@example.com")
    go_available(agent)
    expect(agent).to_have_title("Tickets · Switchboard")

    client = open_as(new_context, "alice@acme.example")
    client.get_by_role("link", name="Printer prints blank pages").click()
    client.get_by_role("button", name="Join chat").click()
    # A request for this agent counts.
    expect(agent).to_have_title("(1) Tickets · Switchboard")

    agent.locator(".toast-request").get_by_role("button", name="Join").click()
    agent.wait_for_url(WORKSPACE)
    expect(chat_window(agent)).to_contain_text(f"{AGENT1.full_name} joined the chat.")
    expect(agent).to_have_title("Chats · Switchboard")  # answered and on show: nothing waits

    # On the ticket's page the chat is docked.
    agent.goto(f"/console/tickets/{ticket.pk}/")
    window = chat_window(agent)
    expect(window).to_contain_text(f"{AGENT1.full_name} joined the chat.")
    expect(agent).to_have_title(re.compile(r"^#\d+ Printer prints blank pages · Switchboard$"))

    # A message the agent cannot see (the window is minimized) is unread.
    window.locator(".chat-minimize").click()
    send(client, "Are you there?")
    expect(agent).to_have_title(re.compile(r"^\(1\) #\d+ Printer prints blank pages"))
    window.locator(".chat-minimize").click()  # restored (its name follows its state)
    expect(window).to_contain_text("Are you there?")
    expect(agent).to_have_title(re.compile(r"^#\d+ Printer prints blank pages · Switchboard$"))
