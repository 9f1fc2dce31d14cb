"""What the browser tests do again and again: log in, take screenshots, make tickets.
The people are the demo's: tests/personas.py."""

from __future__ import annotations

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


def screenshot(page: Page, name: str) -> Path:
    """A full-page screenshot in var/screenshots/, to look at after the run."""
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOT_DIR / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def form_titled(page: Page, heading: str) -> Locator:
    """The form that carries this heading (a ticket page has several forms with a "Note")."""
    return page.locator("form").filter(has=page.get_by_role("heading", name=heading))


def make_ticket(owner: User, subject: str, description: str = "") -> Ticket:
    """A ticket of a client, as if it had opened it in the portal."""
    return TicketFactory(contact=owner.contact, subject=subject, description=description)
