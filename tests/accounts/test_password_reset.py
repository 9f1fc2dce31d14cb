"""Forgot your password? Django's password reset, under /accounts/: ask for a
link by email, open it, set a new password, log in with it."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import SESSION_KEY
from django.core import mail
from django.test import Client
from django.urls import reverse

from tests.factories import PASSWORD
from tests.personas import ALICE

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/login/"
RESET = "/accounts/password_reset/"
NEW_PASSWORD = "a-brand-new-secret"


def request_link(client: Client, email: str):  # type: ignore[no-untyped-def]
    return client.post(RESET, {"email": email})


def link_in(message: mail.EmailMessage) -> str:
    match = re.search(r"https?://testserver(/accounts/reset/[^\s]+/)", message.body)
    assert match, message.body
    return match.group(1)


def set_password(client: Client, link: str, first: str, second: str | None = None):  # type: ignore[no-untyped-def]
    # Django swaps the token in the link for one in the session and redirects.
    form_url = client.get(link)["Location"]
    return client.post(
        form_url, {"new_password1": first, "new_password2": second or first}, follow=True
    )


def log_in(client: Client, email: str, password: str):  # type: ignore[no-untyped-def]
    return client.post(LOGIN, {"username": email, "password": password})


def test_the_login_page_links_to_the_reset(client):
    html = client.get(LOGIN).content.decode()

    assert f'<a href="{RESET}">Forgot your password?</a>' in html
    assert reverse("accounts:password_reset") == RESET


def test_the_reset_form_asks_for_the_email(client):
    response = client.get(RESET)

    html = response.content.decode()
    assert response.status_code == 200
    assert '<label for="id_email">Email</label>' in html
    assert 'name="csrfmiddlewaretoken"' in html
    assert f'href="{LOGIN}"' in html


def test_reset_end_to_end(client):
    user = ALICE.create()

    response = request_link(client, "Alice@Acme.example")
    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:password_reset_done")
    assert "Check your email" in client.get(response["Location"]).content.decode()

    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [user.email]
    assert "Switchboard" in message.subject
    link = link_in(message)

    response = set_password(client, link, NEW_PASSWORD)
    assert response.redirect_chain[-1][0] == reverse("accounts:password_reset_complete")
    html = response.content.decode()
    assert "Your password is set" in html
    assert f'href="{LOGIN}"' in html

    assert log_in(client, user.email, PASSWORD).status_code == 200  # the old one is gone
    assert log_in(client, user.email, NEW_PASSWORD).status_code == 302
    assert SESSION_KEY in client.session


def test_a_link_works_once(client):
    ALICE.create()
    request_link(client, ALICE.email)
    link = link_in(mail.outbox[0])
    set_password(client, link, NEW_PASSWORD)

    response = client.get(link, follow=True)

    html = response.content.decode()
    assert "has expired or was already used" in html
    assert 'name="new_password1"' not in html
    assert f'href="{RESET}"' in html


def test_an_unknown_email_gets_the_same_answer_and_no_mail(client):
    response = request_link(client, "nobody@acme.example")

    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:password_reset_done")
    assert mail.outbox == []


def test_an_invalid_email_is_refused_with_a_message(client):
    response = request_link(client, "not an email")

    assert response.status_code == 200
    assert "Enter a valid email address." in response.content.decode()
    assert mail.outbox == []


def test_passwords_that_differ_are_refused_and_change_nothing(client):
    user = ALICE.create()
    request_link(client, ALICE.email)

    response = set_password(client, link_in(mail.outbox[0]), NEW_PASSWORD, "something-else")

    assert "didn’t match" in response.content.decode()
    user.refresh_from_db()
    assert user.check_password(PASSWORD)


def test_a_short_password_is_refused_with_the_rule(client):
    user = ALICE.create()
    request_link(client, ALICE.email)

    response = set_password(client, link_in(mail.outbox[0]), "short")

    assert "This password is too short." in response.content.decode()
    user.refresh_from_db()
    assert user.check_password(PASSWORD)


def test_setting_a_new_password_lifts_the_account_lock(client):
    """Whoever can read the account's email may log in: a lock-out must not keep
    them out after they proved it with a reset."""
    user = ALICE.create()
    for n in range(5):
        log_in(client, user.email, f"wrong-{n}")
    assert log_in(client, user.email, PASSWORD).status_code == 429

    request_link(client, user.email)
    set_password(client, link_in(mail.outbox[0]), NEW_PASSWORD)

    assert log_in(client, user.email, NEW_PASSWORD).status_code == 302
