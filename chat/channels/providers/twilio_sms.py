"""SMS through Twilio.

In: ``POST /channels/twilio/sms/`` (a message: ``MessageSid``, ``From``,
``Body``, ``NumMedia``, ``MediaUrl<n>``, ``MediaContentType<n>``) and ``POST
/channels/twilio/status/`` (``MessageSid``, ``MessageStatus``, ``ErrorCode``),
both signed with ``X-Twilio-Signature`` over SWITCHBOARD_PUBLIC_URL + the path
and the form fields, checked with the twilio package's RequestValidator.
Out: ``POST {API_BASE}/2010-04-01/Accounts/{SID}/Messages.json`` with basic
auth: ``Body``, and for a file ``MediaUrl`` (an MMS; ``Body`` its caption, may
be empty), which Twilio fetches. Media: ``MediaUrl<n>`` with the same basic
auth, only under API_BASE (the credentials never go anywhere else).
"""

from __future__ import annotations

from collections.abc import Mapping

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from twilio.request_validator import RequestValidator

from chat.channels.providers.base import (
    BadPayload,
    FetchedMedia,
    Inbound,
    InboundMedia,
    InboundMessage,
    MediaError,
    MediaRefusal,
    OutboundMedia,
    Provider,
    StatusReport,
    answered,
    call,
    download,
    json_of,
)
from chat.formatting import human_size
from chat.models import Channel, DeliveryStatus

STATUS_PATH = "/channels/twilio/status/"
# Twilio's MessageStatus values that tell us something; the others (queued,
# sending, accepted...) are steps before "sent".
STATUSES = {
    "sent": DeliveryStatus.SENT,
    "delivered": DeliveryStatus.DELIVERED,
    "read": DeliveryStatus.READ,
    "undelivered": DeliveryStatus.FAILED,
    "failed": DeliveryStatus.FAILED,
}
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response/>'
MAX_MEDIA = 10  # Twilio sends at most ten files with a message
# What an MMS may carry (twilio.com/docs/messaging/guides/accepted-mime-types):
# the whole message at most 5 MB; JPEG, PNG and GIF are the pictures Twilio
# fits to every handset, and PDF is accepted as it is. Twilio passes other
# types on unformatted, which most phones cannot open: refused here.
MMS_MAX_BYTES = 5 * 1024 * 1024
MMS_TYPES = frozenset({"image/jpeg", "image/png", "image/gif", "application/pdf"})


def sign(url: str, params: Mapping[str, str]) -> str:
    """The X-Twilio-Signature Twilio puts on a call of ``url`` with ``params``
    (the local fake provider signs with it)."""
    return str(RequestValidator(settings.TWILIO_AUTH_TOKEN).compute_signature(url, params))


class TwilioSms(Provider):
    channel = Channel.SMS

    @classmethod
    def configured(cls) -> bool:
        return bool(settings.TWILIO_ACCOUNT_SID)

    def signature_valid(self, request: HttpRequest) -> bool:
        signature = request.headers.get("X-Twilio-Signature", "")
        if not signature:
            return False
        url = settings.PUBLIC_URL + request.get_full_path()
        validator = RequestValidator(settings.TWILIO_AUTH_TOKEN)
        return bool(validator.validate(url, request.POST, signature))

    def parse(self, request: HttpRequest) -> Inbound:
        form = request.POST
        sid = form.get("MessageSid", "").strip()
        if not sid:
            raise BadPayload("no MessageSid")
        if "MessageStatus" in form:
            status = STATUSES.get(form.get("MessageStatus", ""))
            if status is None:
                return Inbound()
            error = ""
            if status == DeliveryStatus.FAILED:
                code = form.get("ErrorCode", "")
                text = form.get("ErrorMessage", "")
                error = f"Twilio error {code}".strip() + (f": {text}" if text else "")
            return Inbound(statuses=(StatusReport(sid, status, error),))
        sender = form.get("From", "").strip()
        if not sender:
            raise BadPayload("no From")
        try:
            count = min(int(form.get("NumMedia", "0") or 0), MAX_MEDIA)
        except ValueError as exc:
            raise BadPayload("NumMedia is not a number") from exc
        media = tuple(
            InboundMedia(form[f"MediaUrl{i}"], form.get(f"MediaContentType{i}", ""))
            for i in range(count)
            if form.get(f"MediaUrl{i}")
        )
        message = InboundMessage(sid, sender, text=form.get("Body", "").strip(), media=media)
        return Inbound(messages=(message,))

    def webhook_answer(self) -> HttpResponse:
        # An empty TwiML document: Twilio sends nothing back by itself.
        return HttpResponse(EMPTY_TWIML, content_type="text/xml")

    def send_text(self, *, to: str, body: str) -> str:
        return _send({"To": to, "Body": body})

    @classmethod
    def media_refusal(cls, *, content_type: str, size: int) -> MediaRefusal | None:
        if content_type not in MMS_TYPES:
            return MediaRefusal(
                "SMS takes only pictures (JPEG, PNG, GIF) and PDF files: "
                "describe this file, or send a link."
            )
        if size > MMS_MAX_BYTES:
            return MediaRefusal(
                f"A file sent by SMS may be at most {human_size(MMS_MAX_BYTES)}.", too_large=True
            )
        return None

    def send_media(self, *, to: str, media: OutboundMedia) -> str:
        return _send({"To": to, "Body": media.caption, "MediaUrl": media.url})

    def fetch_media(self, media: InboundMedia, *, max_bytes: int) -> FetchedMedia:
        if not media.ref.startswith(settings.TWILIO_API_BASE + "/"):
            # Only Twilio's own media URLs get the account's credentials.
            raise MediaError("the file is not on Twilio's API")
        auth = (settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN)
        fetched = download(media.ref, max_bytes=max_bytes, auth=auth)
        return FetchedMedia(fetched.content, fetched.content_type or media.content_type)


def _send(fields: dict[str, str]) -> str:
    """One message to Twilio's Messages API; its sid."""
    sid = settings.TWILIO_ACCOUNT_SID
    response = call(
        "POST",
        f"{settings.TWILIO_API_BASE}/2010-04-01/Accounts/{sid}/Messages.json",
        auth=(sid, settings.TWILIO_AUTH_TOKEN),
        data={
            **fields,
            "From": settings.TWILIO_SMS_FROM,
            "StatusCallback": settings.PUBLIC_URL + STATUS_PATH,
        },
    )
    data = json_of(response)
    answered(response, _error_text(data))
    message_sid = str(data.get("sid") or "")
    if not message_sid:
        raise BadPayload("Twilio answered without a message sid")
    return message_sid


def _error_text(data: Mapping[str, object]) -> str:
    message = str(data.get("message") or "")
    code = data.get("code")
    return f"Twilio error {code}: {message}" if code and message else message
