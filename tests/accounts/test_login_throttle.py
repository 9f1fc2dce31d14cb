"""Password guessing is slowed: after SWITCHBOARD_LOGIN_FAILURE_LIMIT failed log-ins for
one account, or from one address, logging in is locked for
SWITCHBOARD_LOGIN_COOLOFF_SECONDS, and the login page says so and for how long.

These run with the real limits of the settings (5 failures, 15 minutes)."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.test import Client
from django.utils import timezone

from tests.factories import PASSWORD
from tests.personas import AGENT1, ALICE, BOB

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/login/"
GENERIC = "Email or password is incorrect."
HOME = "203.0.113.7"
ELSEWHERE = "198.51.100.20"


def attempt(client: Client, email: str, password: str, *, ip: str = HOME, **headers: str):  # type: ignore[no-untyped-def]
    return client.post(LOGIN, {"username": email, "password": password}, REMOTE_ADDR=ip, **headers)


def fail(client: Client, email: str, times: int, *, ip: str = HOME) -> None:
    """``times`` wrong passwords, each answered with the generic error."""
    for n in range(times):
        response = attempt(client, email, f"wrong-{n}", ip=ip)
        assert response.status_code == 200, n
        assert GENERIC in response.content.decode(), n


def logged_in(client: Client) -> bool:
    return SESSION_KEY in client.session


def test_the_defaults_are_five_failures_and_fifteen_minutes() -> None:
    # The tests below rest on these; the test settings must not loosen them.
    assert settings.AXES_FAILURE_LIMIT == 5
    assert settings.AXES_COOLOFF_TIME.total_seconds() == 15 * 60


def test_the_fifth_wrong_password_locks_the_account_and_says_for_how_long(client):
    ALICE.create()
    fail(client, ALICE.email, 4)

    response = attempt(client, ALICE.email, "wrong-again")

    html = response.content.decode()
    assert response.status_code == 429
    assert "locked" in html
    assert "15 minutes" in html
    assert GENERIC not in html
    # Still the login page: the person can read the message and the form is there.
    assert 'name="username"' in html
    assert "Forgot your password?" in html


def test_the_right_password_is_refused_while_locked(client):
    ALICE.create()
    fail(client, ALICE.email, 4)
    attempt(client, ALICE.email, "wrong-again")

    response = attempt(client, ALICE.email, PASSWORD)

    assert response.status_code == 429
    assert "locked" in response.content.decode()
    assert not logged_in(client)


def test_fifty_guesses_never_get_in(client):
    """The issue as reported: 50 wrong passwords in a row, then the right one."""
    ALICE.create()
    for n in range(50):
        attempt(client, ALICE.email, f"guess-{n}")

    response = attempt(client, ALICE.email, PASSWORD)

    assert response.status_code == 429
    assert not logged_in(client)


def test_the_message_counts_down_and_tries_while_locked_do_not_extend_it(client):
    ALICE.create()
    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
        fail(client, ALICE.email, 4)
        attempt(client, ALICE.email, "wrong-again")

        clock.shift(timedelta(minutes=10))
        response = attempt(client, ALICE.email, "still-guessing")
        assert response.status_code == 429
        assert "5 minutes" in response.content.decode()

        # 15 minutes after the fifth failure, not after the last try.
        clock.shift(timedelta(minutes=5, seconds=1))
        response = attempt(client, ALICE.email, PASSWORD)
        assert response.status_code == 302
        assert logged_in(client)


def test_after_the_cool_off_the_right_password_works(client):
    ALICE.create()
    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
        fail(client, ALICE.email, 4)
        attempt(client, ALICE.email, "wrong-again")
        assert attempt(client, ALICE.email, PASSWORD).status_code == 429

        clock.shift(timedelta(minutes=15, seconds=1))
        response = attempt(client, ALICE.email, PASSWORD)

    assert response.status_code == 302
    assert logged_in(client)


def test_a_successful_login_resets_the_count(client):
    ALICE.create()
    fail(client, ALICE.email, 4)
    assert attempt(client, ALICE.email, PASSWORD).status_code == 302
    client.logout()

    # Without the reset the first of these would be the fifth failure.
    fail(client, ALICE.email, 4)
    assert attempt(client, ALICE.email, PASSWORD).status_code == 302


def test_the_account_is_locked_from_every_address(client):
    ALICE.create()
    fail(client, ALICE.email, 4, ip=HOME)
    attempt(client, ALICE.email, "wrong-again", ip=HOME)

    response = attempt(client, ALICE.email, PASSWORD, ip=ELSEWHERE)

    assert response.status_code == 429
    assert "this email address" in response.content.decode()
    assert not logged_in(client)


def test_the_email_counts_whatever_its_case_and_spaces(client):
    ALICE.create()
    spellings = [
        "Alice@Acme.example",
        "ALICE@ACME.EXAMPLE",
        " alice@acme.example ",
        "aLiCe@acme.example",
    ]
    for n, email in enumerate(spellings):
        attempt(client, email, "wrong", ip=f"192.0.2.{n}")
    response = attempt(client, ALICE.email, "wrong", ip="192.0.2.100")

    assert response.status_code == 429


def test_one_address_is_locked_across_usernames(client):
    AGENT1.create()
    for n in range(5):
        response = attempt(client, f"guess{n}@acme.example", PASSWORD)

    html = response.content.decode()
    assert response.status_code == 429
    assert "locked" in html
    assert "15 minutes" in html
    assert "network address" in html

    # A real account from that address is refused too ...
    response = attempt(client, AGENT1.email, PASSWORD)
    assert response.status_code == 429
    assert not logged_in(client)
    # ... but not from another address.
    assert attempt(client, AGENT1.email, PASSWORD, ip=ELSEWHERE).status_code == 302


def test_logging_in_to_an_own_account_does_not_reset_the_address(client):
    """A guesser with an account of its own cannot log in between guesses to keep
    its address under the limit: a success clears the account's failures only."""
    BOB.create()
    for n in range(4):
        attempt(client, f"guess{n}@acme.example", "wrong")
    assert attempt(client, BOB.email, PASSWORD).status_code == 302
    client.logout()

    response = attempt(client, "guess4@acme.example", "wrong")

    assert response.status_code == 429
    assert "network address" in response.content.decode()


def test_the_address_behind_a_trusted_proxy_is_the_one_counted(client, settings):
    """Behind one proxy the address it appended to X-Forwarded-For is the
    client's (realtime/client_ip.py): the proxy's own address is shared by
    everyone, and what the client put in the header itself is ignored."""
    settings.TRUSTED_PROXY_COUNT = 1
    AGENT1.create()
    proxy = "10.0.0.2"
    for n in range(5):
        response = attempt(
            client,
            f"guess{n}@acme.example",
            "wrong",
            ip=proxy,
            HTTP_X_FORWARDED_FOR=f"192.0.2.{n}, {HOME}",
        )
    assert response.status_code == 429

    # Another client behind the same proxy is not locked.
    response = attempt(client, AGENT1.email, PASSWORD, ip=proxy, HTTP_X_FORWARDED_FOR=ELSEWHERE)
    assert response.status_code == 302


def test_a_too_long_email_is_an_ordinary_failure(client):
    """What axes stores of an attempt has limits (255 characters of username);
    input past them must not break the login."""
    response = attempt(client, "x" * 5000 + "@acme.example", "wrong")

    assert response.status_code == 200
    assert "Email" in response.content.decode()
    assert not logged_in(client)


def test_a_nul_byte_in_a_header_is_an_ordinary_failure(client):
    """PostgreSQL refuses a NUL byte in text: axes stores the user agent and the
    Accept header of every failure."""
    response = attempt(
        client, ALICE.email, "wrong", HTTP_USER_AGENT="evil\x00agent", HTTP_ACCEPT="text/html\x00"
    )

    assert response.status_code == 200
    assert GENERIC in response.content.decode()


def test_a_failure_logs_no_error(client, caplog):
    ALICE.create()
    fail(client, ALICE.email, 4)
    attempt(client, ALICE.email, "wrong-again")
    attempt(client, ALICE.email, PASSWORD)

    assert [r for r in caplog.records if r.levelname in {"ERROR", "CRITICAL"}] == []
