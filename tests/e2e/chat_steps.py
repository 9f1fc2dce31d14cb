"""Steps the chat browser tests share: open a browser as someone, go Available, ask
for a chat from a ticket and answer it, find the chat window, and ask where the
keyboard focus is (the keyboard and screen reader tests assert it after each step)."""

from __future__ import annotations

from collections.abc import Callable

from playwright.sync_api import BrowserContext, Locator, Page, expect

from tests.e2e.helpers import login


def open_as(new_context: Callable[..., BrowserContext], email: str, **context: object) -> Page:
    page = new_context(**context).new_page()
    page.set_default_timeout(10_000)
    login(page, email)
    return page


def go_available(agent: Page) -> None:
    button = agent.get_by_role("button", name="Available")
    expect(button).to_be_enabled()
    button.click()
    expect(button).to_have_attribute("aria-pressed", "true")


def visible_chat(page: Page) -> Locator:
    """The chat window on show: the portal's, a docked one, or the workspace's open chat."""
    return page.locator(".chat-window:visible").last


def focused(page: Page) -> dict[str, str]:
    """What has the keyboard focus: its tag, its accessible-ish name (label, aria-label or
    text) and the id of the chat window it is in ("" when none)."""
    return page.evaluate(
        """() => {
          const node = document.activeElement;
          if (!node || node === document.body) return { tag: "body", name: "", chat: "" };
          const label = node.labels && node.labels[0] ? node.labels[0].textContent : "";
          const win = node.closest(".chat-window");
          return {
            tag: node.tagName.toLowerCase(),
            name: (label || node.getAttribute("aria-label") || node.textContent || "").trim(),
            chat: win ? win.dataset.sessionId : "",
          };
        }"""
    )


def press_tab_until(
    page: Page,
    matches: Callable[[dict[str, str]], bool],
    *,
    limit: int = 60,
    backwards: bool = False,
) -> dict[str, str]:
    """Press Tab (or Shift+Tab) until the focused element matches, as a keyboard user
    moves through a page; fails after `limit` presses."""
    for _ in range(limit):
        page.keyboard.press("Shift+Tab" if backwards else "Tab")
        now = focused(page)
        if matches(now):
            return now
    raise AssertionError(f"{limit} presses of Tab never reached the element; focus is on {now}")
