"""What `make run` prints (config/launch.py, the Procfile, the dev logging): the
demo logins once, no line per request unless SWITCHBOARD_ACCESS_LOG asks for it,
and no log line twice."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from config import launch

BASE_DIR = Path(__file__).resolve().parents[2]
DEMO_EMAILS = [
    "admin@example.com",
    "supervisor@example.com",
    "agent1@example.com",
    "agent2@example.com",
    "alice@acme.example",
    "bob@acme.example",
    "carol@globex.example",
    "dave@globex.example",
]


@pytest.mark.django_db
def test_the_demo_logins_are_printed_once(capsys: pytest.CaptureFixture[str]) -> None:
    logins = launch.load_demo_data()
    print(launch.banner(8000, logins))

    out = capsys.readouterr().out
    assert "Demo data created" in out
    assert "password: switchboard" in out
    for email in DEMO_EMAILS:
        assert out.count(email) == 1, out


@pytest.mark.django_db
def test_production_settings_load_and_print_no_demo_logins(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DJANGO_SETTINGS_MODULE", "config.settings.production")
    logins = launch.load_demo_data()
    print(launch.banner(8000, logins))

    out = capsys.readouterr().out
    assert "not loading demo data" in out
    assert not any(email in out for email in DEMO_EMAILS)


def web_arguments(**variables: str) -> list[str]:
    """The arguments the Procfile's web line hands daphne, run by sh as honcho does."""
    procfile = (BASE_DIR / "Procfile").read_text().splitlines()
    [command] = [line.removeprefix("web:").strip() for line in procfile if line.startswith("web:")]
    env = {k: v for k, v in os.environ.items() if k != "SWITCHBOARD_ACCESS_LOG"} | variables
    script = 'daphne() { printf "%s\\n" "$@"; }; ' + command
    result = subprocess.run(
        ["/bin/sh", "-c", script], env=env, capture_output=True, text=True, check=True
    )
    return result.stdout.splitlines()


@pytest.mark.parametrize("variables", [{}, {"SWITCHBOARD_ACCESS_LOG": "0"}])
def test_daphne_logs_no_line_per_request_by_default(variables: dict[str, str]) -> None:
    arguments = web_arguments(**variables)
    assert arguments[arguments.index("--access-log") + 1] == "/dev/null"
    assert arguments[-1] == "config.asgi:application"


def test_the_access_log_is_printed_when_asked_for() -> None:
    arguments = web_arguments(SWITCHBOARD_ACCESS_LOG="1")
    assert "--access-log" not in arguments
    assert arguments[-1] == "config.asgi:application"


@pytest.mark.parametrize(("value", "on"), [("1", True), ("yes", True), ("off", False)])
def test_the_launcher_reads_switchboard_access_log(
    monkeypatch: pytest.MonkeyPatch, value: str, on: bool
) -> None:
    monkeypatch.setenv("SWITCHBOARD_ACCESS_LOG", value)
    assert launch.read_access_log() is on


def test_a_bad_switchboard_access_log_stops_the_launcher_naming_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SWITCHBOARD_ACCESS_LOG", "loud")
    with pytest.raises(SystemExit) as stopped:
        launch.read_access_log()
    assert "SWITCHBOARD_ACCESS_LOG" in str(stopped.value.code)


def test_a_django_warning_is_logged_once_in_development() -> None:
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    env["DJANGO_SETTINGS_MODULE"] = "config.settings.dev"
    code = (
        "import django, logging; django.setup(); "
        "logging.getLogger('django.request').warning('Not Found: /nowhere')"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=BASE_DIR, env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr.count("Not Found: /nowhere") == 1, result.stderr
