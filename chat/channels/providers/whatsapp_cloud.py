"""WhatsApp through Meta's Cloud API.

In: ``GET /channels/whatsapp/`` (the verification handshake) and ``POST
/channels/whatsapp/`` (``entry[].changes[].value``: ``messages[]`` with ``id``,
``from``, ``type``, ``text.body``...; ``contacts[].profile.name``; ``statuses[]``
with ``id``, ``status``, ``errors``), signed with ``X-Hub-Signature-256:
sha256=<HMAC-SHA256 of the raw body with the app secret>``, compared in
constant time before the body is parsed.
Out: ``POST {API_BASE}/{PHONE_NUMBER_ID}/messages`` with the bearer token:
``"type": "text"``; a file as ``"type": "image"`` (JPEG, PNG: ``link`` and
an optional ``caption``) or ``"type": "document"`` (``link``, ``filename``),
which Meta fetches from the link; or ``"type": "template"`` (name, language
and the body's parameters) outside the 24-hour window.
Media: ``GET {API_BASE}/{media id}`` for its URL, then that URL, both with the
bearer token.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseForbidden

from chat.channels.providers.base import (
    BadPayload,
    FetchedMedia,
    Inbound,
    InboundMedia,
    InboundMessage,
    MediaError,
    MediaRefusal,
    OutboundMedia,
    OutboundTemplate,
    Provider,
    ProviderUnavailable,
    SendError,
    StatusReport,
    answered,
    call,
    download,
    json_of,
)
from chat.formatting import human_size
from chat.models import Channel, DeliveryStatus

STATUSES = {
    "sent": DeliveryStatus.SENT,
    "delivered": DeliveryStatus.DELIVERED,
    "read": DeliveryStatus.READ,
    "failed": DeliveryStatus.FAILED,
}
MEDIA_TYPES = ("image", "document")
# What the Cloud API sends (Meta's "Supported media types" of the Cloud API
# reference): images JPEG and PNG up to 5 MB; documents (text, PDF, Word,
# Excel, PowerPoint) up to 100 MB. A GIF or WebP is neither (WebP is a
# sticker); audio, video and stickers are not sent from the chat.
IMAGE_MAX_BYTES = 5 * 1024 * 1024
IMAGE_TYPES = frozenset({"image/jpeg", "image/png"})
DOCUMENT_MAX_BYTES = 100 * 1024 * 1024
DOCUMENT_TYPES = frozenset(
    {
        "text/plain",
        "application/pdf",
        "application/msword",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "application/vnd.ms-excel",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "application/vnd.ms-powerpoint",
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    }
)
# What is said about a message type the chat cannot show.
UNSHOWABLE = {
    "location": "a location",
    "sticker": "a sticker",
    "audio": "a voice message",
    "video": "a video",
    "contacts": "a contact card",
    "reaction": "a reaction",
    "interactive": "a button reply",
    "button": "a button reply",
}


def sign(body: bytes) -> str:
    """The X-Hub-Signature-256 header Meta puts on ``body`` (the local fake
    provider signs with it)."""
    secret = settings.WHATSAPP_APP_SECRET.encode()
    return "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()


def verification_answer(request: HttpRequest) -> HttpResponse:
    """Meta's webhook handshake: ``hub.challenge`` back when the mode is
    subscribe and the token is ours, else 403."""
    mode = request.GET.get("hub.mode", "")
    token = request.GET.get("hub.verify_token", "")
    expected = settings.WHATSAPP_VERIFY_TOKEN
    if mode == "subscribe" and hmac.compare_digest(token.encode(), expected.encode()):
        return HttpResponse(request.GET.get("hub.challenge", ""), content_type="text/plain")
    return HttpResponseForbidden("Verification refused.")


class WhatsAppCloud(Provider):
    channel = Channel.WHATSAPP

    @classmethod
    def configured(cls) -> bool:
        return bool(settings.WHATSAPP_TOKEN)

    def signature_valid(self, request: HttpRequest) -> bool:
        given = request.headers.get("X-Hub-Signature-256", "")
        return bool(given) and hmac.compare_digest(given.encode(), sign(request.body).encode())

    def parse(self, request: HttpRequest) -> Inbound:
        try:
            data = json.loads(request.body)
            values = [
                change["value"] for entry in data["entry"] for change in entry.get("changes", [])
            ]
            messages: list[InboundMessage] = []
            statuses: list[StatusReport] = []
            for value in values:
                names = {
                    c.get("wa_id", ""): c.get("profile", {}).get("name", "")
                    for c in value.get("contacts", [])
                }
                messages += [_message(m, names) for m in value.get("messages", [])]
                statuses += [s for s in map(_status, value.get("statuses", [])) if s]
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise BadPayload(f"unreadable WhatsApp webhook ({type(exc).__name__})") from exc
        return Inbound(messages=tuple(messages), statuses=tuple(statuses))

    def webhook_answer(self) -> HttpResponse:
        return HttpResponse(status=200)

    def send_text(self, *, to: str, body: str) -> str:
        return _send(to, {"type": "text", "text": {"body": body}})

    def send_template(self, *, to: str, template: OutboundTemplate) -> str:
        sent: dict[str, Any] = {
            "name": template.name,
            "language": {"code": template.language},
        }
        if template.parameters:
            # A template without placeholders takes no components: Meta
            # refuses a body component whose parameters do not match.
            parameters = [{"type": "text", "text": value} for value in template.parameters]
            sent["components"] = [{"type": "body", "parameters": parameters}]
        return _send(to, {"type": "template", "template": sent})

    @classmethod
    def media_refusal(cls, *, content_type: str, size: int) -> MediaRefusal | None:
        if content_type in IMAGE_TYPES:
            limit, what = IMAGE_MAX_BYTES, "A picture"
        elif content_type in DOCUMENT_TYPES:
            limit, what = DOCUMENT_MAX_BYTES, "A document"
        else:
            return MediaRefusal(
                "WhatsApp takes only JPEG or PNG pictures and PDF, Word, Excel, "
                "PowerPoint or text documents: describe this file, or send a link."
            )
        if size > limit:
            return MediaRefusal(
                f"{what} sent by WhatsApp may be at most {human_size(limit)}.", too_large=True
            )
        return None

    def send_media(self, *, to: str, media: OutboundMedia) -> str:
        part: dict[str, str] = {"link": media.url}
        if media.content_type in IMAGE_TYPES:
            kind = "image"
        else:
            kind = "document"
            # The name the client's phone shows and saves it under.
            part["filename"] = media.filename
        if media.caption:
            part["caption"] = media.caption
        return _send(to, {"type": kind, kind: part})

    def fetch_media(self, media: InboundMedia, *, max_bytes: int) -> FetchedMedia:
        try:
            response = call("GET", f"{settings.WHATSAPP_API_BASE}/{media.ref}", headers=_auth())
            answered(response, "")
        except SendError as exc:
            retry = isinstance(exc, ProviderUnavailable)
            raise MediaError(f"WhatsApp did not give the file ({exc})", retry=retry) from exc
        info = json_of(response)
        url = str(info.get("url") or "")
        if not url:
            raise MediaError("WhatsApp gave no address for the file")
        fetched = download(url, max_bytes=max_bytes, headers=_auth())
        content_type = fetched.content_type or str(info.get("mime_type") or media.content_type)
        return FetchedMedia(fetched.content, content_type)


def _send(to: str, message: dict[str, Any]) -> str:
    """One message to the Cloud API; WhatsApp's id of it."""
    response = call(
        "POST",
        f"{settings.WHATSAPP_API_BASE}/{settings.WHATSAPP_PHONE_NUMBER_ID}/messages",
        headers=_auth(),
        json={"messaging_product": "whatsapp", "to": to.lstrip("+"), **message},
    )
    data = json_of(response)
    answered(response, _error_text(data))
    try:
        return str(data["messages"][0]["id"])
    except (KeyError, IndexError, TypeError) as exc:
        raise BadPayload("WhatsApp answered without a message id") from exc


def _auth() -> dict[str, str]:
    return {"Authorization": f"Bearer {settings.WHATSAPP_TOKEN}"}


def _message(message: Mapping[str, Any], names: Mapping[str, str]) -> InboundMessage:
    sender = str(message["from"])
    kind = str(message.get("type", ""))
    base = {
        "provider_message_id": str(message["id"]),
        "sender": sender if sender.startswith("+") else f"+{sender}",
        "profile_name": names.get(sender, ""),
    }
    if kind == "text":
        return InboundMessage(**base, text=str(message["text"]["body"]).strip())
    if kind in MEDIA_TYPES:
        part = message[kind]
        media = InboundMedia(
            str(part["id"]), str(part.get("mime_type", "")), str(part.get("filename", ""))
        )
        return InboundMessage(**base, text=str(part.get("caption", "")).strip(), media=(media,))
    return InboundMessage(**base, unshowable=UNSHOWABLE.get(kind, f"a message of type {kind!r}"))


def _status(status: Mapping[str, Any]) -> StatusReport | None:
    value = STATUSES.get(str(status.get("status", "")))
    if value is None:
        return None
    error = ""
    if value == DeliveryStatus.FAILED:
        errors = status.get("errors") or [{}]
        first = errors[0]
        details = (first.get("error_data") or {}).get("details", "")
        error = " ".join(
            str(part) for part in (first.get("code", ""), first.get("title", ""), details) if part
        )
    return StatusReport(str(status["id"]), value, error or "WhatsApp could not deliver it")


def _error_text(data: Mapping[str, Any]) -> str:
    error = data.get("error") or {}
    if not isinstance(error, dict):
        return ""
    return " ".join(str(part) for part in (error.get("code"), error.get("message")) if part)
