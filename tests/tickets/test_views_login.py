"""Log in by email, land by role, one generic error, safe ``next``, log out."""

from __future__ import annotations

import pytest
from django.contrib.auth import SESSION_KEY
from django.urls import reverse

from tests.factories import PASSWORD, client_user
from tests.personas import AGENT1, ALICE

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/login/"
GENERIC = "Email or password is incorrect."


def _login(client, email: str, password: str = PASSWORD, **extra: str):  # type: ignore[no-untyped-def]
    return client.post(LOGIN, {"username": email, "password": password, **extra}, follow=True)


def test_login_page_has_the_labels_people_look_for(client):
    html = client.get(LOGIN).content.decode()
    assert '<label for="id_username">Email</label>' in html
    assert '<label for="id_password">Password</label>' in html
    assert ">Log in</button>" in html
    assert 'name="csrfmiddlewaretoken"' in html


def test_client_lands_on_the_portal(client):
    ALICE.create()
    response = _login(client, ALICE.email)
    assert response.redirect_chain[-1][0] == reverse("portal:home")
    assert response.status_code == 200


def test_email_is_case_insensitive(client):
    ALICE.create()
    response = _login(client, ALICE.email.upper())
    assert response.redirect_chain[-1][0] == reverse("portal:home")


def test_staff_land_on_the_console(client):
    AGENT1.create()
    response = _login(client, AGENT1.email)
    assert response.redirect_chain[-1][0] == reverse("console:tickets")


@pytest.mark.parametrize(
    ("email", "password"),
    [
        (ALICE.email, "wrong"),  # right email, wrong password
        ("nobody@acme.example", PASSWORD),  # unknown email
        ("inactive@acme.example", PASSWORD),  # disabled account, right password
    ],
)
def test_every_failure_gets_the_same_message(client, email, password):
    ALICE.create()
    client_user(email="inactive@acme.example", is_active=False)
    response = _login(client, email, password)
    html = response.content.decode()
    assert response.status_code == 200
    assert html.count(GENERIC) == 1
    assert "account is inactive" not in html.lower()
    assert SESSION_KEY not in client.session


def test_empty_form_says_what_is_missing(client):
    response = client.post(LOGIN, {"username": "", "password": ""})
    assert response.status_code == 200
    assert response.content.decode().count("This field is required.") == 2


def test_safe_next_is_respected(client):
    user = ALICE.create()
    target = reverse("portal:ticket_create")
    response = _login(client, user.email, next=target)
    assert response.redirect_chain[0][0] == target


def test_foreign_next_is_ignored(client):
    user = ALICE.create()
    response = _login(client, user.email, next="https://evil.example/steal")
    assert response.redirect_chain[0][0] == "/"
    assert response.redirect_chain[-1][0] == reverse("portal:home")


def test_anonymous_home_goes_to_login(client):
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith(LOGIN)


def test_logged_in_user_visiting_login_is_sent_on(client):
    client.force_login(AGENT1.create())
    response = client.get(LOGIN, follow=True)
    assert response.redirect_chain[-1][0] == reverse("console:tickets")


def test_logout_is_a_post_with_csrf(client):
    user = ALICE.create()
    client.force_login(user)
    html = client.get(reverse("portal:home")).content.decode()
    assert f'action="{reverse("accounts:logout")}"' in html
    assert ">Log out</button>" in html
    assert client.get(reverse("accounts:logout")).status_code == 405
    assert SESSION_KEY in client.session
    response = client.post(reverse("accounts:logout"))
    assert response.status_code == 302
    assert response["Location"] == LOGIN
    assert SESSION_KEY not in client.session
