"""Forgot your password? and the lock-out after too many failed log-ins, as a person
meets them in Chromium. Screenshots: var/screenshots/login*.png, password-*.png."""

from __future__ import annotations

import re
import time

from playwright.sync_api import Page, expect

from tests.e2e.helpers import login, screenshot, sent_mail
from tests.personas import ADMIN, ALICE

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


def test_too_many_failures_lock_the_login_and_say_for_how_long(page: Page, e2e_db: None) -> None:
    ALICE.create()
    page.goto("/accounts/login/")
    for n in range(5):
        page.get_by_label("Email").fill(ALICE.email)
        page.get_by_label("Password").fill(f"wrong-{n}")
        with page.expect_navigation():
            page.get_by_role("button", name="Log in").click()

    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("locked for 15 minutes")
    expect(page.get_by_role("link", name="Forgot your password?")).to_be_visible()
    screenshot(page, "login-locked")

    # The right password is refused as well.
    page.get_by_label("Email").fill(ALICE.email)
    page.get_by_label("Password").fill("switchboard")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("alert")).to_contain_text("locked")
    expect(page).to_have_url(re.compile(r"/accounts/login/"))


def test_the_login_card_keeps_its_shape_on_a_phone_and_a_desktop(page: Page, e2e_db: None) -> None:
    """A visual check without an accessibility engine: the link and the lock-out
    message sit inside the card where a person looks for them, nothing sticks out
    of a phone's screen; screenshots for a person to look at."""
    ALICE.create()
    for width, height in [(375, 740), (1280, 720)]:
        page.set_viewport_size({"width": width, "height": height})
        page.goto("/accounts/login/")
        card = box(page, ".login-card")
        button = box(page, "button[type=submit]")
        link = box(page, "text=Forgot your password?")
        assert inside(link, card) and inside(button, card)
        assert link["y"] >= button["y"] + button["height"], "the link comes after the button"
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        screenshot(page, f"login-{width}")

    for n in range(5):
        page.get_by_label("Email").fill(ALICE.email)
        page.get_by_label("Password").fill(f"wrong-{n}")
        with page.expect_navigation():
            page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("alert")).to_contain_text("locked")
    message = box(page, ".form-errors")
    assert inside(message, box(page, ".login-card"))
    assert message["y"] + message["height"] <= box(page, "#id_username")["y"]
    assert page.evaluate("document.documentElement.scrollWidth") <= 1280


def test_the_admin_login_shows_the_lock_out(page: Page, e2e_db: None) -> None:
    ADMIN.create()
    page.goto("/admin/login/")
    for n in range(5):
        page.get_by_label("Email").fill(ADMIN.email)
        page.get_by_label("Password").fill(f"wrong-{n}")
        with page.expect_navigation():
            page.get_by_role("button", name="Log in").click()

    expect(page.get_by_text("logging in is locked for 15 minutes")).to_be_visible()
    screenshot(page, "admin-login-locked")


def box(page: Page, selector: str) -> dict[str, float]:
    found = page.locator(selector).first.bounding_box()
    assert found is not None, f"{selector} is not shown"
    return dict(found)


def inside(inner: dict[str, float], outer: dict[str, float]) -> bool:
    return (
        inner["x"] >= outer["x"]
        and inner["y"] >= outer["y"]
        and inner["x"] + inner["width"] <= outer["x"] + outer["width"]
        and inner["y"] + inner["height"] <= outer["y"] + outer["height"]
    )
