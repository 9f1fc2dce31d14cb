"""Development mail (`make run`, the dev settings) goes to files under
var/mail/, with one calm INFO line per email naming its file, instead of being
printed through the Celery worker's stdout. The tests keep Django's in-memory
outbox (config/settings/test.py)."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.core import mail

BASE_DIR = Path(__file__).resolve().parents[2]
FILE_BACKEND = "config.email_files.FileEmailBackend"

# Sends one email with the settings' backend, into the directory given as argv[1]
# (the backend's file_path; the default, var/mail, stays untouched by the test).
SEND_ONE = """
import sys
import django
django.setup()
from django.conf import settings
from django.core import mail
print(settings.EMAIL_BACKEND)
print(settings.EMAIL_FILE_PATH)
mail.EmailMessage(
    "Transcript of your chat", "Hello Alice", to=["alice@acme.example"],
    connection=mail.get_connection(file_path=sys.argv[1]),
).send()
"""


def run_dev(tmp_path: Path, **variables: str) -> subprocess.CompletedProcess[str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"EMAIL_URL", "DJANGO_SETTINGS_MODULE"}
    }
    env.update(DJANGO_SETTINGS_MODULE="config.settings.dev", **variables)
    return subprocess.run(
        [sys.executable, "-c", SEND_ONE, str(tmp_path)],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_dev_mail_is_a_file_under_var_mail_with_one_line_saying_where(tmp_path: Path) -> None:
    result = run_dev(tmp_path)

    assert result.returncode == 0, result.stderr
    backend, file_path = result.stdout.splitlines()[:2]
    assert backend == FILE_BACKEND
    assert Path(file_path) == BASE_DIR / "var" / "mail"
    # The email is in a file, not on the console.
    [written] = list(tmp_path.iterdir())
    assert "Subject: Transcript of your chat" in written.read_text()
    assert "Hello Alice" not in result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert str(written) in lines[0]
    assert "alice@acme.example" in lines[0]


def test_a_filemail_url_gets_the_same_backend(tmp_path: Path) -> None:
    # filemail:// takes the path after the third slash: four for an absolute one.
    result = run_dev(tmp_path, EMAIL_URL=f"filemail:///{tmp_path / 'outbox'}")

    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[:2] == [FILE_BACKEND, str(tmp_path / "outbox")]


def test_an_explicit_email_url_wins_in_development(tmp_path: Path) -> None:
    result = run_dev(tmp_path, EMAIL_URL="consolemail://")

    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0] == "django.core.mail.backends.console.EmailBackend"


def test_each_email_gets_one_info_line(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    connection = mail.get_connection(FILE_BACKEND, file_path=str(tmp_path))
    messages = [
        mail.EmailMessage(f"Chat {n}", "Body", to=[f"client{n}@example.com"]) for n in (1, 2)
    ]
    with caplog.at_level(logging.INFO, logger="config.email_files"):
        assert connection.send_messages(messages) == 2

    records = [r for r in caplog.records if r.name == "config.email_files"]
    assert [r.levelno for r in records] == [logging.INFO, logging.INFO]
    [written] = list(tmp_path.iterdir())
    assert all(str(written) in r.getMessage() for r in records)
    assert "client1@example.com" in records[0].getMessage()
    assert "client2@example.com" in records[1].getMessage()


def test_the_tests_keep_the_in_memory_outbox() -> None:
    assert settings.EMAIL_BACKEND == "django.core.mail.backends.locmem.EmailBackend"
