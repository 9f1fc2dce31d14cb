"""Production settings start with good values and refuse bad ones loudly,
naming the variable. Each case imports the settings in a fresh interpreter,
the way daphne, celery and manage.py do."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

BASE_DIR = Path(__file__).resolve().parents[2]
GOOD_SECRET = "k3y-" + "x" * 60

# Variables the settings read; the test environment's values must not leak in.
SETTINGS_VARS = {
    "DEBUG",
    "SECRET_KEY",
    "DATABASE_URL",
    "REDIS_URL",
    "EMAIL_URL",
    "ALLOWED_HOSTS",
    "CSRF_TRUSTED_ORIGINS",
    "PRIVATE_MEDIA_ROOT",
    "TIME_ZONE",
    "LOG_LEVEL",
}


def good_env() -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in SETTINGS_VARS and not key.startswith(("SWITCHBOARD_", "DJANGO_"))
    }
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings.production",
        SECRET_KEY=GOOD_SECRET,
        # Parsed only: django.setup() opens no connection.
        DATABASE_URL="postgres://switchboard:pw@127.0.0.1:5432/switchboard",
        REDIS_URL="redis://127.0.0.1:6379/0",
        ALLOWED_HOSTS="helpdesk.example.com",
    )
    return env


def start(
    env: dict[str, str],
    show: str = "'DEBUG', settings.DEBUG, settings.DATABASES['default']['ENGINE']",
) -> subprocess.CompletedProcess[str]:
    """Start Django with these variables and print ``show`` (Python, with ``settings``)."""
    code = f"import django; django.setup(); from django.conf import settings; print({show})"
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_production_starts_with_good_values() -> None:
    result = start(good_env())
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "DEBUG False django.db.backends.postgresql"


def test_the_login_throttle_reads_its_variables() -> None:
    show = "settings.AXES_FAILURE_LIMIT, settings.AXES_COOLOFF_TIME.total_seconds()"
    assert start(good_env(), show).stdout.strip() == "5 900.0"

    env = {
        **good_env(),
        "SWITCHBOARD_LOGIN_FAILURE_LIMIT": "10",
        "SWITCHBOARD_LOGIN_COOLOFF_SECONDS": "3600",
    }
    result = start(env, show)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "10 3600.0"


@pytest.mark.parametrize(
    ("changes", "names"),
    [
        ({"DEBUG": "true"}, "DEBUG"),
        ({"DEBUG": "1"}, "DEBUG"),
        ({"DEBUG": "maybe"}, "DEBUG"),
        ({"SECRET_KEY": None}, "SECRET_KEY"),
        ({"SECRET_KEY": ""}, "SECRET_KEY"),
        ({"SECRET_KEY": "too-short"}, "SECRET_KEY"),
        ({"SECRET_KEY": "insecure-dev-key-change-me"}, "SECRET_KEY"),
        ({"DATABASE_URL": None}, "DATABASE_URL"),
        ({"DATABASE_URL": ""}, "DATABASE_URL"),
        ({"DATABASE_URL": "not a url"}, "DATABASE_URL"),
        ({"DATABASE_URL": "http://db.example/switchboard"}, "DATABASE_URL"),
        ({"DATABASE_URL": "postgres://"}, "DATABASE_URL"),
        ({"DATABASE_URL": "postgres://u:p@db:port/x"}, "DATABASE_URL"),
        ({"REDIS_URL": "http://x"}, "REDIS_URL"),
        ({"REDIS_URL": "redis://"}, "REDIS_URL"),
        ({"REDIS_URL": "redis://redis:port/0"}, "REDIS_URL"),
        ({"REDIS_URL": "redis://redis:6379/zero"}, "REDIS_URL"),
        ({"REDIS_URL": "unix://relative.sock"}, "REDIS_URL"),
        ({"REDIS_URL": "unix:///run/redis.sock?db=x"}, "REDIS_URL"),
        ({"SWITCHBOARD_SWEEP_SECONDS": "abc"}, "SWITCHBOARD_SWEEP_SECONDS"),
        ({"SWITCHBOARD_SWEEP_SECONDS": "0"}, "SWITCHBOARD_SWEEP_SECONDS"),
        ({"SWITCHBOARD_REQUEUE_SWEEP_SECONDS": "0"}, "SWITCHBOARD_REQUEUE_SWEEP_SECONDS"),
        ({"SWITCHBOARD_ATTACHMENT_MAX_BYTES": "10MB"}, "SWITCHBOARD_ATTACHMENT_MAX_BYTES"),
        ({"SWITCHBOARD_SQLITE_CHECKPOINT_SECONDS": ""}, "SWITCHBOARD_SQLITE_CHECKPOINT_SECONDS"),
        (
            {"SWITCHBOARD_SQLITE_CHECKPOINT_SECONDS": "0.2s"},
            "SWITCHBOARD_SQLITE_CHECKPOINT_SECONDS",
        ),
        (
            {"SWITCHBOARD_SQLITE_CHECKPOINT_SECONDS": "0.0001"},
            "SWITCHBOARD_SQLITE_CHECKPOINT_SECONDS",
        ),
        ({"SWITCHBOARD_SQLITE_CHECKPOINT_SECONDS": "nan"}, "SWITCHBOARD_SQLITE_CHECKPOINT_SECONDS"),
        ({"EMAIL_URL": "carrier-pigeon://coop"}, "EMAIL_URL"),
        ({"EMAIL_URL": "filemail://"}, "EMAIL_URL"),
        ({"SWITCHBOARD_PHONE_REGION": "ZZ"}, "SWITCHBOARD_PHONE_REGION"),
        ({"SWITCHBOARD_PHONE_REGION": ""}, "SWITCHBOARD_PHONE_REGION"),
        ({"SWITCHBOARD_LOGIN_FAILURE_LIMIT": "0"}, "SWITCHBOARD_LOGIN_FAILURE_LIMIT"),
        ({"SWITCHBOARD_LOGIN_FAILURE_LIMIT": "five"}, "SWITCHBOARD_LOGIN_FAILURE_LIMIT"),
        ({"SWITCHBOARD_LOGIN_COOLOFF_SECONDS": "15m"}, "SWITCHBOARD_LOGIN_COOLOFF_SECONDS"),
        ({"SWITCHBOARD_LOGIN_COOLOFF_SECONDS": "0"}, "SWITCHBOARD_LOGIN_COOLOFF_SECONDS"),
        ({"SWITCHBOARD_TASK_TIME_LIMIT_SECONDS": "0"}, "SWITCHBOARD_TASK_TIME_LIMIT_SECONDS"),
        ({"SWITCHBOARD_TASK_RESTORE_CHECK_SECONDS": "0"}, "SWITCHBOARD_TASK_RESTORE_CHECK_SECONDS"),
        (
            {"SWITCHBOARD_TASK_VISIBILITY_TIMEOUT_SECONDS": "1h"},
            "SWITCHBOARD_TASK_VISIBILITY_TIMEOUT_SECONDS",
        ),
        # Shorter than a live worker may hold a message (16 s of retry wait, then
        # twice the 12-s time limit): tasks would run twice at once as a rule.
        (
            {"SWITCHBOARD_TASK_VISIBILITY_TIMEOUT_SECONDS": "40"},
            "SWITCHBOARD_TASK_VISIBILITY_TIMEOUT_SECONDS",
        ),
        (
            {"SWITCHBOARD_TASK_TIME_LIMIT_SECONDS": "60"},
            "SWITCHBOARD_TASK_VISIBILITY_TIMEOUT_SECONDS",
        ),
    ],
    ids=lambda value: repr(value) if isinstance(value, dict) else None,
)
def test_bad_values_stop_start_up_naming_the_variable(
    changes: dict[str, str | None], names: str
) -> None:
    env = good_env()
    for key, value in changes.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value

    result = start(env)

    assert result.returncode != 0, f"started with {changes}: {result.stdout}"
    # The last line is the one people read: the exception and its message.
    last_line = result.stderr.strip().splitlines()[-1]
    assert last_line.startswith("django.core.exceptions.ImproperlyConfigured: "), result.stderr
    assert names in last_line, result.stderr


@pytest.mark.parametrize(
    ("name", "value", "secret"),
    [
        ("DATABASE_URL", "mysql-ish://admin:hunter2@db/x", "hunter2"),
        ("REDIS_URL", "redis://:hunter2@redis:port/0", "hunter2"),
    ],
)
def test_messages_do_not_print_passwords(name: str, value: str, secret: str) -> None:
    result = start({**good_env(), name: value})
    assert result.returncode != 0
    assert name in result.stderr
    assert secret not in result.stderr


def test_the_phone_region_is_read_in_any_case() -> None:
    code = (
        "import django; django.setup(); from django.conf import settings; "
        "print(settings.PHONE_DEFAULT_REGION)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=BASE_DIR,
        env={**good_env(), "SWITCHBOARD_PHONE_REGION": " us "},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "US"
