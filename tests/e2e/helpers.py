"""What the browser tests do again and again: log in, take screenshots, make tickets,
read the mail daphne sent. The people are the demo's: tests/personas.py."""

from __future__ import annotations

import email
import os
from email.message import EmailMessage
from email.policy import default as email_policy
from pathlib import Path

from playwright.sync_api import Locator, Page

from accounts.models import User
from tests.factories import PASSWORD, TicketFactory
from tickets.models import Ticket

SCREENSHOT_DIR = Path(__file__).resolve().parent.parent.parent / "var" / "screenshots"


def login(page: Page, email: str, password: str = PASSWORD) -> None:
    """Log in through the login form, the way a person does."""
    page.goto("/accounts/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(lambda url: "/accounts/login/" not in url)


def screenshot(page: Page, name: str, *, full_page: bool = True) -> Path:
    """A screenshot in var/screenshots/, to look at after the run: the whole page, or
    (full_page=False) the screen as the user sees it, fixed sheets and bars included."""
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOT_DIR / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    return path


def form_titled(page: Page, heading: str) -> Locator:
    """The form that carries this heading (a ticket page has several forms with a "Note")."""
    return page.locator("form").filter(has=page.get_by_role("heading", name=heading))


def make_ticket(owner: User, subject: str, description: str = "") -> Ticket:
    """A ticket of a client, as if it had opened it in the portal."""
    return TicketFactory(contact=owner.contact, subject=subject, description=description)


def sent_mail() -> list[EmailMessage]:
    """Every message daphne has sent since it started, oldest first (Django's
    file backend: one file per connection, messages apart by a line of dashes)."""
    messages: list[EmailMessage] = []
    files = Path(os.environ["SWITCHBOARD_E2E_MAIL_DIR"]).glob("*.log")
    for path in sorted(files, key=lambda path: path.stat().st_mtime):
        for text in path.read_text().split("\n" + "-" * 79 + "\n"):
            if text.strip():
                message = email.message_from_string(text, policy=email_policy)
                assert isinstance(message, EmailMessage)
                messages.append(message)
    return messages
