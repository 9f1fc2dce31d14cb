"""The SMS and WhatsApp settings: a channel with none of its credentials is
off, one with all of them is on, one with some stops every process at start-up
with the names of the missing variables (a fresh interpreter each time, the
way `make run`, daphne, celery and manage.py load the settings)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

BASE_DIR = Path(__file__).resolve().parents[3]

TWILIO = {
    "SWITCHBOARD_TWILIO_ACCOUNT_SID": "AC123",
    "SWITCHBOARD_TWILIO_AUTH_TOKEN": "twilio-token",
    "SWITCHBOARD_TWILIO_SMS_FROM": "+15005550006",
}
WHATSAPP = {
    "SWITCHBOARD_WHATSAPP_TOKEN": "wa-token",
    "SWITCHBOARD_WHATSAPP_PHONE_NUMBER_ID": "1234567890",
    "SWITCHBOARD_WHATSAPP_APP_SECRET": "wa-secret",
    "SWITCHBOARD_WHATSAPP_VERIFY_TOKEN": "wa-verify",
}
PUBLIC_URL = {"SWITCHBOARD_PUBLIC_URL": "https://help.example.com"}


def manage_check(**variables: str) -> subprocess.CompletedProcess[str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("SWITCHBOARD_TWILIO_", "SWITCHBOARD_WHATSAPP_"))
        and key != "SWITCHBOARD_PUBLIC_URL"
    }
    env.update(DJANGO_SETTINGS_MODULE="config.settings.test", **variables)
    return subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_no_channel_settings_start_with_both_channels_off() -> None:
    result = manage_check()
    assert result.returncode == 0, result.stderr


def test_complete_channels_start() -> None:
    result = manage_check(**TWILIO, **WHATSAPP, **PUBLIC_URL)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(
    ("variables", "missing"),
    [
        ({**PUBLIC_URL, "SWITCHBOARD_TWILIO_ACCOUNT_SID": "AC123"}, "SWITCHBOARD_TWILIO_SMS_FROM"),
        (
            {**PUBLIC_URL, **{k: v for k, v in TWILIO.items() if "TOKEN" not in k}},
            "SWITCHBOARD_TWILIO_AUTH_TOKEN",
        ),
        (
            {k: v for k, v in WHATSAPP.items() if "APP_SECRET" not in k},
            "SWITCHBOARD_WHATSAPP_APP_SECRET",
        ),
        (TWILIO, "SWITCHBOARD_PUBLIC_URL"),
    ],
)
def test_a_half_configured_channel_stops_start_up_naming_what_is_missing(
    variables: dict[str, str], missing: str
) -> None:
    result = manage_check(**variables)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert missing in result.stderr.strip().splitlines()[-1]
