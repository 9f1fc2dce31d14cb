"""SMS and WhatsApp switched on against a local fake of the providers
(pytest-httpserver): nothing here reaches the internet."""

from __future__ import annotations

import pytest
from pytest_httpserver import HTTPServer

PUBLIC_URL = "https://help.example.com"
TWILIO_SID = "AC0123456789"
TWILIO_TOKEN = "twilio-auth-token"
TWILIO_FROM = "+15005550006"
WA_TOKEN = "wa-bearer-token"
WA_PHONE_ID = "1098765"
WA_SECRET = "wa-app-secret"
WA_VERIFY = "wa-verify-token"
# Where the fakes take a sent message (the API bases the fixtures below set).
TWILIO_MESSAGES_PATH = f"/twilio/2010-04-01/Accounts/{TWILIO_SID}/Messages.json"
WA_MESSAGES_PATH = f"/graph/{WA_PHONE_ID}/messages"


@pytest.fixture
def twilio_on(settings, httpserver: HTTPServer) -> HTTPServer:  # type: ignore[no-untyped-def]
    settings.PUBLIC_URL = PUBLIC_URL
    settings.TWILIO_ACCOUNT_SID = TWILIO_SID
    settings.TWILIO_AUTH_TOKEN = TWILIO_TOKEN
    settings.TWILIO_SMS_FROM = TWILIO_FROM
    settings.TWILIO_API_BASE = httpserver.url_for("/twilio")
    return httpserver


@pytest.fixture
def whatsapp_on(settings, httpserver: HTTPServer) -> HTTPServer:  # type: ignore[no-untyped-def]
    settings.WHATSAPP_TOKEN = WA_TOKEN
    settings.WHATSAPP_PHONE_NUMBER_ID = WA_PHONE_ID
    settings.WHATSAPP_APP_SECRET = WA_SECRET
    settings.WHATSAPP_VERIFY_TOKEN = WA_VERIFY
    settings.WHATSAPP_API_BASE = httpserver.url_for("/graph")
    return httpserver
