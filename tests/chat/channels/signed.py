"""Webhook calls as the providers make them, signed (or not) the way each
documents it: Twilio's X-Twilio-Signature (computed here with the twilio
package's RequestValidator, over the public URL + path and the form fields)
and Meta's X-Hub-Signature-256 (HMAC-SHA256 of the raw body)."""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

from django.test import Client
from twilio.request_validator import RequestValidator

from tests.chat.channels.conftest import PUBLIC_URL, TWILIO_TOKEN, WA_PHONE_ID, WA_SECRET

SMS_PATH = "/channels/twilio/sms/"
STATUS_PATH = "/channels/twilio/status/"
WHATSAPP_PATH = "/channels/whatsapp/"
UNSIGNED = object()


def post_twilio(
    client: Client,
    fields: dict[str, str],
    *,
    path: str = SMS_PATH,
    signature: Any = None,
    token: str = TWILIO_TOKEN,
) -> Any:
    if signature is None:
        signature = RequestValidator(token).compute_signature(PUBLIC_URL + path, fields)
    headers = {} if signature is UNSIGNED else {"HTTP_X_TWILIO_SIGNATURE": signature}
    return client.post(path, fields, **headers)


def sms(
    sid: str, sender: str = "+447700900123", body: str = "Printer is on fire", **extra: str
) -> dict[str, str]:
    return {
        "MessageSid": sid,
        "AccountSid": "AC0123456789",
        "From": sender,
        "To": "+15005550006",
        "Body": body,
        "NumMedia": "0",
        **extra,
    }


def twilio_status(sid: str, status: str, **extra: str) -> dict[str, str]:
    return {"MessageSid": sid, "MessageStatus": status, "AccountSid": "AC0123456789", **extra}


def post_whatsapp(
    client: Client, payload: dict[str, Any], *, signature: Any = None, secret: str = WA_SECRET
) -> Any:
    body = json.dumps(payload).encode()
    if signature is None:
        signature = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    headers = {} if signature is UNSIGNED else {"HTTP_X_HUB_SIGNATURE_256": signature}
    return client.post(WHATSAPP_PATH, body, content_type="application/json", **headers)


def whatsapp_value(
    messages: list[dict[str, Any]] | None = None,
    statuses: list[dict[str, Any]] | None = None,
    *,
    name: str = "Jane Doe",
    wa_id: str = "447700900123",
) -> dict[str, Any]:
    value: dict[str, Any] = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "15550000000", "phone_number_id": WA_PHONE_ID},
    }
    if messages is not None:
        value["contacts"] = [{"profile": {"name": name}, "wa_id": wa_id}] if name else []
        value["messages"] = messages
    if statuses is not None:
        value["statuses"] = statuses
    return {
        "object": "whatsapp_business_account",
        "entry": [{"id": "WABA1", "changes": [{"field": "messages", "value": value}]}],
    }


def wa_text(message_id: str, body: str = "Hello", sender: str = "447700900123") -> dict[str, Any]:
    return {
        "from": sender,
        "id": message_id,
        "timestamp": "1767000000",
        "type": "text",
        "text": {"body": body},
    }


def wa_status(message_id: str, status: str, **extra: Any) -> dict[str, Any]:
    return {
        "id": message_id,
        "status": status,
        "timestamp": "1767000000",
        "recipient_id": "447700900123",
        **extra,
    }
