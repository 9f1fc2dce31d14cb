"""Browser tests: Playwright drives Debian's Chromium against a real daphne.

Run them in their own pytest process (`make test` does): Playwright's sync API keeps
an event loop running, which breaks pytest-asyncio tests that come after it.

    pytest -m browser tests/e2e

- `live_server_url` starts daphne (HTTP + websockets; pytest-django's live_server is
  WSGI only) as a subprocess on a free port, on the same test database as this
  process: a file for SQLite, the fixed test database name on PostgreSQL
  (config/settings/test.py). Its log is var/e2e-daphne<tag>.log.
- Tests write through `e2e_db` (transactional_db): rows are committed, so daphne sees
  them, and flushed after each test.
- Every test in this folder is marked `browser`.
- Mail that daphne sends lands as files in var/e2e-mail<tag>/ (emptied when daphne
  starts); `sent_mail()` of tests/e2e/helpers.py reads it.
- tests/e2e/helpers.py: `login(page, email)`, `screenshot(page, name)`, tickets, mail;
  the people are the demo's (tests/personas.py).
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import BrowserContext, Page

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = BASE_DIR / "var"
E2E_DIR = Path(__file__).resolve().parent

# SWITCHBOARD_CHROMIUM lets a developer point at another Chromium (e.g. on macOS).
CHROMIUM = os.environ.get("SWITCHBOARD_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # tryfirst: the mark must be on the items before `-m` deselects by it.
    for item in items:
        if E2E_DIR in item.path.parents:
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session", autouse=True)
def _allow_sync_orm_next_to_playwright() -> Iterator[None]:
    """Playwright's sync API runs an event loop in this thread, so Django would refuse
    every ORM call of the tests and fixtures (SynchronousOnlyOperation). Only this
    process, which runs nothing but browser tests, gets the escape hatch."""
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    yield
    os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    """Debian's Chromium: `playwright install` cannot download browsers here."""
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(
            f"Chromium not found at {CHROMIUM}: apt-get install -y chromium "
            "(or set SWITCHBOARD_CHROMIUM to a Chromium binary)"
        )
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_for_port(port: int, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"daphne exited with {process.returncode}:\n{log.read_text()[-3000:]}")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    pytest.fail(f"daphne did not listen on port {port} within 30 s; see {log}")


# SMS and WhatsApp are on in the daphne of the browser tests, their APIs a
# local fake: the session's pytest-httpserver (tests/e2e/test_sms_flow.py and
# test_reach_out_flows.py sign with these).
E2E_TWILIO = {
    "SWITCHBOARD_TWILIO_ACCOUNT_SID": "ACe2e",
    "SWITCHBOARD_TWILIO_AUTH_TOKEN": "e2e-twilio-token",
    "SWITCHBOARD_TWILIO_SMS_FROM": "+15005550006",
}
E2E_WHATSAPP = {
    "SWITCHBOARD_WHATSAPP_TOKEN": "e2e-whatsapp-token",
    "SWITCHBOARD_WHATSAPP_PHONE_NUMBER_ID": "e2e-phone-id",
    "SWITCHBOARD_WHATSAPP_APP_SECRET": "e2e-whatsapp-secret",
    "SWITCHBOARD_WHATSAPP_VERIFY_TOKEN": "e2e-whatsapp-verify",
}


@pytest.fixture(scope="session")
def live_server_url(
    django_db_setup: None, django_db_blocker: Any, make_httpserver: Any
) -> Iterator[str]:
    """A real daphne serving config.asgi on the test database, for the whole session."""
    from django.db import connection

    with django_db_blocker.unblock():
        # After django_db_setup this is the test database's name (or SQLite file).
        db_name = str(connection.settings_dict["NAME"])
    tag = re.sub(r"[^A-Za-z0-9_-]", "", os.environ.get("SWITCHBOARD_TEST_DB_TAG", ""))
    log = VAR_DIR / f"e2e-daphne{tag}.log"
    mail_dir = VAR_DIR / f"e2e-mail{tag}"
    shutil.rmtree(mail_dir, ignore_errors=True)
    mail_dir.mkdir(parents=True)
    # This process reads the mail from there too (helpers.sent_mail).
    os.environ["SWITCHBOARD_E2E_MAIL_DIR"] = str(mail_dir)
    port = _free_port()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.e2e.settings",
        "SWITCHBOARD_E2E_DB_NAME": db_name,
        **E2E_TWILIO,
        "SWITCHBOARD_TWILIO_API_BASE": make_httpserver.url_for("/twilio"),
        **E2E_WHATSAPP,
        "SWITCHBOARD_WHATSAPP_API_BASE": make_httpserver.url_for("/graph"),
        "SWITCHBOARD_PUBLIC_URL": f"http://127.0.0.1:{port}",
    }
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)  # daphne's ORM calls must stay checked
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port)]
            + ["--websocket-max-message-size", "131072"]  # as the Procfile
            + ["config.asgi:application"],
            cwd=BASE_DIR,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        _wait_for_port(port, process, log)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="session")
def base_url(live_server_url: str) -> str:
    """pytest-playwright gives it to every context: `page.goto("/portal/")` works."""
    return live_server_url


# How long daphne's connections must be idle before the test database is flushed.
QUIET_SECONDS = 0.3


@pytest.fixture
def e2e_db(transactional_db: None, live_server_url: str) -> Iterator[None]:
    """Committed rows (daphne reads them from its own connection), flushed after the test.

    The browsers are closed before this tears down, but daphne may still be
    handling their sockets' goodbyes (connection_close locks rows) or a frame
    sent just before (a page view's insert checks its user row): flushing
    meanwhile deadlocked on PostgreSQL (TRUNCATE against a row lock). So wait
    until daphne has let go of every socket, and on PostgreSQL until no other
    connection to the test database is inside a statement or transaction."""
    yield
    from presence.models import AgentConnection

    deadline = time.monotonic() + 10
    while AgentConnection.objects.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    wait_until_others_idle(deadline)


def wait_until_others_idle(deadline: float) -> None:
    """On PostgreSQL: until the other connections to this database have been
    idle (no statement, no open transaction) for QUIET_SECONDS, or ``deadline``."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return
    quiet_since = None
    while time.monotonic() < deadline:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                " AND pid <> pg_backend_pid() AND state IS DISTINCT FROM 'idle'"
            )
            busy = cursor.fetchone()[0]
        now = time.monotonic()
        if busy:
            quiet_since = None
        elif quiet_since is None:
            quiet_since = now
        elif now - quiet_since >= QUIET_SECONDS:
            return
        time.sleep(0.05)


@pytest.fixture
def new_context(
    new_context: Callable[..., BrowserContext],
) -> Iterator[Callable[..., BrowserContext]]:
    """Every context a test opens (the `page` fixture's included): an uncaught JavaScript
    error in any of its pages fails the test, since the pages' scripts are the product."""
    errors: list[str] = []

    def make(**kwargs: Any) -> BrowserContext:
        context = new_context(**kwargs)
        context.on(
            "weberror",
            lambda error: errors.append(f"{error.page.url if error.page else '?'}: {error.error}"),
        )
        return context

    yield make
    if errors:
        pytest.fail("JavaScript errors in the browser:\n" + "\n".join(errors))


@pytest.fixture
def page(page: Page) -> Page:
    # Pages talk to a local server: a slow answer is a bug worth a fast failure.
    page.set_default_timeout(10_000)
    return page
