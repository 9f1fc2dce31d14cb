"""Django admin's own login is throttled like the product's, and an administrator
lifts a lock-out in admin (Axes → Access attempts: delete the account's rows)."""

from __future__ import annotations

import pytest
from django.contrib.auth import SESSION_KEY
from django.test import Client
from django.urls import reverse

from tests.factories import PASSWORD
from tests.personas import ADMIN, ALICE

pytestmark = pytest.mark.django_db

ADMIN_LOGIN = "/admin/login/"
LOGIN = "/accounts/login/"


def admin_attempt(client: Client, email: str, password: str):  # type: ignore[no-untyped-def]
    return client.post(ADMIN_LOGIN, {"username": email, "password": password, "next": "/admin/"})


def lock_out(client: Client, email: str) -> None:
    for n in range(5):
        client.post(LOGIN, {"username": email, "password": f"wrong-{n}"})


def test_the_admin_login_locks_after_five_failures(client):
    ADMIN.create()
    for n in range(4):
        response = admin_attempt(client, ADMIN.email, f"wrong-{n}")
        assert "locked" not in response.content.decode()

    response = admin_attempt(client, ADMIN.email, "wrong-again")
    assert "locked for 15 minutes" in response.content.decode()

    response = admin_attempt(client, ADMIN.email, PASSWORD)
    assert "locked" in response.content.decode()
    assert SESSION_KEY not in client.session


def test_failures_on_either_login_page_count_together(client):
    ADMIN.create()
    lock_out(client, ADMIN.email)

    response = admin_attempt(client, ADMIN.email, PASSWORD)

    assert "locked" in response.content.decode()
    assert SESSION_KEY not in client.session


def test_an_administrator_unlocks_an_account_in_admin(client):
    ALICE.create()
    lock_out(client, ALICE.email)
    assert client.post(LOGIN, {"username": ALICE.email, "password": PASSWORD}).status_code == 429

    administrator = Client()
    administrator.force_login(ADMIN.create())
    changelist = reverse("admin:axes_accessattempt_changelist")
    assert changelist in administrator.get(reverse("admin:index")).content.decode()
    listed = administrator.get(changelist, {"q": ALICE.email})
    assert listed.status_code == 200
    assert ALICE.email in listed.content.decode()
    ids = [str(pk) for pk in listed.context["cl"].result_list.values_list("pk", flat=True)]
    assert ids

    response = administrator.post(
        changelist,
        {"action": "delete_selected", "_selected_action": ids, "post": "yes"},
    )
    assert response.status_code == 302

    response = client.post(LOGIN, {"username": ALICE.email, "password": PASSWORD})
    assert response.status_code == 302
    assert SESSION_KEY in client.session
