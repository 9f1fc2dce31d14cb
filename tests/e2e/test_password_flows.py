"""Forgot your password?, as a person meets it in Chromium. Screenshots:
var/screenshots/login.png, password-*.png."""

from __future__ import annotations

import re
import time

from playwright.sync_api import Page, expect

from tests.e2e.helpers import login, screenshot, sent_mail
from tests.personas import ALICE

NEW_PASSWORD = "a-brand-new-secret"


def reset_link(to: str) -> str:
    """The link of the newest reset email to this address (daphne sends it
    before it answers, so it is there; the loop only covers a slow disk)."""
    deadline = time.monotonic() + 5
    while True:
        mails = [m for m in sent_mail() if m["To"] == to]
        if mails or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert mails, f"no mail to {to}"
    body = mails[-1].get_body(preferencelist=("plain",))
    assert body is not None
    match = re.search(r"http://\S+/accounts/reset/\S+/", body.get_content())
    assert match, body.get_content()
    return match.group(0)


def test_forgot_password_to_a_new_password(page: Page, e2e_db: None) -> None:
    ALICE.create()
    page.goto("/accounts/login/")
    screenshot(page, "login")

    page.get_by_role("link", name="Forgot your password?").click()
    expect(page.get_by_role("heading", name="Reset your password")).to_be_visible()
    page.get_by_label("Email").fill(ALICE.email)
    screenshot(page, "password-reset")
    page.get_by_role("button", name="Send reset link").click()
    expect(page.get_by_role("heading", name="Check your email")).to_be_visible()
    screenshot(page, "password-reset-sent")

    page.goto(reset_link(ALICE.email))
    expect(page.get_by_role("heading", name="Set a new password")).to_be_visible()
    page.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("New password confirmation").fill(NEW_PASSWORD)
    screenshot(page, "password-set")
    page.get_by_role("button", name="Set password").click()
    expect(page.get_by_role("heading", name="Your password is set")).to_be_visible()
    screenshot(page, "password-set-done")

    page.get_by_role("link", name="Log in").click()
    login(page, ALICE.email, NEW_PASSWORD)
    expect(page).to_have_url(re.compile(r"/portal/$"))
