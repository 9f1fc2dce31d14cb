"""A local stand-in for Twilio and the WhatsApp Cloud API, for `make run`
with SWITCHBOARD_FAKE_PROVIDERS=1 (``manage.py fake_provider``): the app's
outbound calls land here instead of at the providers, and a person can write
to the helpdesk as an SMS or WhatsApp client. Tooling, not product: stdlib
``http.server``, everything in memory.

- ``POST /twilio/2010-04-01/Accounts/<sid>/Messages.json`` and ``POST
  /graph/<phone number id>/messages``: an outbound message (on WhatsApp a
  text, a file (Twilio's ``MediaUrl``, WhatsApp's image or document
  ``link``: shown as a link, a picture as a thumbnail, its content type read
  from the URL as the providers do, once the send is answered) or an approved template, shown by its
  name and values: templates live at Meta, so the fake takes any), kept and
  shown; answered as the provider does (a sid / a wamid), then reported
  delivered (and read, on WhatsApp) through the app's status webhooks, signed.
- ``GET /``: what was "sent", newest first, and a form that sends an inbound
  SMS or WhatsApp message to the app, signed with the configured secrets
  (the providers' own signing code: chat.channels.providers).
- ``GET /graph/<media id>`` and ``GET /files/<name>``: the sample image the form
  can attach.
"""

from __future__ import annotations

import html
import json
import threading
import time
import urllib.parse
import urllib.request
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from django.conf import settings

from chat.channels.providers import twilio_sms, whatsapp_cloud

# A 1x1 PNG: the picture the form can send.
SAMPLE_PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360f8cf00000301010018dd8db00000000049454e44ae426082"
)
REPORT_DELAY_SECONDS = 1.0


@dataclass
class Sent:
    channel: str
    to: str
    body: str
    provider_id: str
    # A file's URL as the app sent it, and the content type it answered with.
    media_url: str = ""
    media_type: str = ""
    at: float = field(default_factory=time.time)
    statuses: list[str] = field(default_factory=list)


class FakeProvider:
    """The state of the fake: what was sent, and how to reach the app."""

    def __init__(self, app_url: str, own_url: str) -> None:
        self.app_url = app_url.rstrip("/")
        self.own_url = own_url.rstrip("/")
        self.sent: list[Sent] = []
        self.lock = threading.Lock()

    # --- to the app -------------------------------------------------------------------
    def post_to_app(self, path: str, data: bytes, headers: dict[str, str]) -> int:
        request = urllib.request.Request(self.app_url + path, data=data, headers=headers)
        direct = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        try:
            with direct.open(request, timeout=10) as response:
                return int(response.status)
        except urllib.error.HTTPError as exc:
            return int(exc.code)
        except OSError:
            return 0

    def twilio_post(self, path: str, fields: dict[str, str]) -> int:
        signature = twilio_sms.sign(settings.PUBLIC_URL + path, fields)
        return self.post_to_app(
            path,
            urllib.parse.urlencode(fields).encode(),
            {"Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": signature},
        )

    def whatsapp_post(self, value: dict[str, Any]) -> int:
        body = json.dumps(
            {
                "object": "whatsapp_business_account",
                "entry": [{"id": "FAKE", "changes": [{"field": "messages", "value": value}]}],
            }
        ).encode()
        return self.post_to_app(
            "/channels/whatsapp/",
            body,
            {"Content-Type": "application/json", "X-Hub-Signature-256": whatsapp_cloud.sign(body)},
        )

    def inbound(self, channel: str, number: str, name: str, text: str, image: bool) -> int:
        message_id = uuid.uuid4().hex[:16]
        if channel == "sms":
            fields = {
                "MessageSid": f"SM{message_id}",
                "From": number,
                "To": settings.TWILIO_SMS_FROM,
                "Body": text,
                "NumMedia": "0",
            }
            if image:
                fields.update(
                    NumMedia="1",
                    MediaContentType0="image/png",
                    MediaUrl0=f"{settings.TWILIO_API_BASE}/media/sample.png",
                )
            return self.twilio_post("/channels/twilio/sms/", fields)
        message: dict[str, Any] = {
            "from": number.lstrip("+"),
            "id": f"wamid.{message_id}",
            "timestamp": str(int(time.time())),
        }
        if image:
            message.update(
                type="image", image={"id": "sample", "mime_type": "image/png", "caption": text}
            )
        else:
            message.update(type="text", text={"body": text})
        contacts = [{"profile": {"name": name}, "wa_id": number.lstrip("+")}] if name else []
        return self.whatsapp_post({"contacts": contacts, "messages": [message]})

    def media_type(self, url: str) -> str:
        """The content type the app serves a file's URL with (Twilio and Meta
        fetch it too), or what went wrong."""
        request = urllib.request.Request(url, method="HEAD")
        direct = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        try:
            with direct.open(request, timeout=10) as response:
                return str(response.headers.get("Content-Type", ""))
        except urllib.error.HTTPError as exc:
            return f"not served: HTTP {exc.code}"
        except OSError as exc:
            return f"not served: {exc}"

    def report(self, sent: Sent) -> None:
        """After the send was answered: a file's type read from its URL, then
        delivered (and read, on WhatsApp) a moment later. Here, not in the
        send's answer: the app serves that URL, and its send must not wait on
        a request back to itself."""
        if sent.media_url:
            sent.media_type = self.media_type(sent.media_url)
        steps = ["delivered"] if sent.channel == "sms" else ["delivered", "read"]
        for status in steps:
            time.sleep(REPORT_DELAY_SECONDS)
            if sent.channel == "sms":
                self.twilio_post(
                    twilio_sms.STATUS_PATH,
                    {
                        "MessageSid": sent.provider_id,
                        "MessageStatus": status,
                        "AccountSid": settings.TWILIO_ACCOUNT_SID,
                    },
                )
            else:
                self.whatsapp_post(
                    {
                        "statuses": [
                            {
                                "id": sent.provider_id,
                                "status": status,
                                "timestamp": str(int(time.time())),
                                "recipient_id": sent.to,
                            }
                        ]
                    }
                )
            sent.statuses.append(status)

    def record(self, sent: Sent) -> None:
        with self.lock:
            self.sent.append(sent)
        threading.Thread(target=self.report, args=(sent,), daemon=True).start()


def handler_for(fake: FakeProvider) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _reply(self, status: int, body: bytes, content_type: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _json(self, data: Any, status: int = 200) -> None:
            self._reply(status, json.dumps(data).encode(), "application/json")

        def _body(self) -> bytes:
            return self.rfile.read(int(self.headers.get("Content-Length") or 0))

        def do_GET(self) -> None:  # noqa: N802 (http.server's name)
            path = urllib.parse.urlsplit(self.path).path
            if path == "/":
                return self._reply(200, page(fake).encode(), "text/html; charset=utf-8")
            if path in ("/twilio/media/sample.png", "/files/sample.png"):
                return self._reply(200, SAMPLE_PNG, "image/png")
            if path.startswith("/graph/"):
                return self._json(
                    {
                        "url": f"{fake.own_url}/files/sample.png",
                        "mime_type": "image/png",
                        "id": path.rsplit("/", 1)[-1],
                    }
                )
            return self._reply(404, b"not here", "text/plain")

        def do_POST(self) -> None:  # noqa: N802
            path = urllib.parse.urlsplit(self.path).path
            body = self._body()
            if path.startswith("/twilio/") and path.endswith("/Messages.json"):
                form = urllib.parse.parse_qs(body.decode())
                sid = f"SM{uuid.uuid4().hex}"
                fake.record(
                    Sent(
                        "sms",
                        form.get("To", [""])[0],
                        form.get("Body", [""])[0],
                        sid,
                        media_url=form.get("MediaUrl", [""])[0],
                    )
                )
                return self._json({"sid": sid, "status": "queued"}, status=201)
            if path.startswith("/graph/") and path.endswith("/messages"):
                data = json.loads(body or b"{}")
                wamid = f"wamid.{uuid.uuid4().hex}"
                fake.record(
                    Sent(
                        "whatsapp",
                        str(data.get("to", "")),
                        whatsapp_text(data),
                        wamid,
                        media_url=whatsapp_link(data),
                    )
                )
                return self._json({"messaging_product": "whatsapp", "messages": [{"id": wamid}]})
            if path == "/inbound":
                form = {k: v[0] for k, v in urllib.parse.parse_qs(body.decode()).items()}
                fake.inbound(
                    form.get("channel", "sms"),
                    form.get("number", "").strip(),
                    form.get("name", "").strip(),
                    form.get("text", "").strip(),
                    form.get("image") == "1",
                )
                self.send_response(303)
                self.send_header("Location", "/")
                self.end_headers()
                return None
            return self._reply(404, b"not here", "text/plain")

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            pass  # honcho's output stays readable

    return Handler


def whatsapp_link(data: dict[str, Any]) -> str:
    """The link of a Cloud API image or document, else empty."""
    kind = str(data.get("type", ""))
    part = data.get(kind) if kind in ("image", "document") else None
    return str(part.get("link", "")) if isinstance(part, dict) else ""


def whatsapp_text(data: dict[str, Any]) -> str:
    """What a Cloud API message says: its text, a file's caption or name, or a
    template's name and values."""
    kind = data.get("type")
    if kind in ("image", "document"):
        part = data.get(kind) or {}
        return f"[{kind}] " + " ".join(
            str(part[key]) for key in ("filename", "caption") if part.get(key)
        )
    if kind != "template":
        return str((data.get("text") or {}).get("body", ""))
    template = data.get("template") or {}
    values = [
        str(parameter.get("text", ""))
        for component in template.get("components") or []
        for parameter in component.get("parameters") or []
    ]
    language = (template.get("language") or {}).get("code", "")
    return f"[template {template.get('name', '')} ({language})] " + " | ".join(values)


def page(fake: FakeProvider) -> str:
    rows = (
        "".join(
            f"<tr><td>{html.escape(s.channel)}</td><td>{html.escape(s.to)}</td>"
            f"<td>{html.escape(s.body)}{_media(s)}</td><td>{html.escape(_status(s))}</td></tr>"
            for s in reversed(fake.sent)
        )
        or '<tr><td colspan="4">Nothing sent yet.</td></tr>'
    )
    return f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>Fake SMS / WhatsApp provider</title><meta http-equiv="refresh" content="5">
<style>body{{font-family:system-ui;margin:2em;max-width:60em}}td,th{{padding:.3em .6em;
border-bottom:1px solid #ddd;text-align:left}}label{{display:block;margin:.4em 0}}</style></head>
<body><h1>Fake SMS / WhatsApp provider</h1>
<p>Messages go to the helpdesk at {html.escape(fake.app_url)}, signed as Twilio and Meta sign.</p>
<form method="post" action="/inbound"><fieldset><legend>Write to the helpdesk</legend>
<label>Channel <select name="channel"><option value="whatsapp">WhatsApp</option>
<option value="sms">SMS</option></select></label>
<label>From <input name="number" value="+447700900123" required></label>
<label>WhatsApp profile name <input name="name" value="Jane Doe"></label>
<label>Message <input name="text" size="60" value="Hello, my laptop will not start"></label>
<label><input type="checkbox" name="image" value="1"> attach a picture</label>
<button type="submit">Send to the helpdesk</button></fieldset></form>
<h2>Sent by the helpdesk</h2><table><tr><th>Channel</th><th>To</th><th>Text</th>
<th>Status</th></tr>{rows}</table></body></html>"""


def _media(sent: Sent) -> str:
    """A sent file: a link to the URL the fake received, a thumbnail when it
    is served as a picture."""
    if not sent.media_url:
        return ""
    url = html.escape(sent.media_url)
    kind = html.escape(sent.media_type or "type not read yet")
    thumbnail = (
        f'<img src="{url}" alt="the picture sent" style="max-width:8em;max-height:8em">'
        if sent.media_type.startswith("image/")
        else "file"
    )
    return f'<br><a href="{url}" target="_blank">{thumbnail}</a> ({kind})'


def _status(sent: Sent) -> str:
    return ", ".join(["sent", *sent.statuses])


def serve(*, port: int, app_url: str) -> None:
    fake = FakeProvider(app_url, f"http://127.0.0.1:{port}")
    server = ThreadingHTTPServer(("127.0.0.1", port), handler_for(fake))
    print(f"Fake SMS/WhatsApp provider on http://127.0.0.1:{port}/ (for {app_url})", flush=True)
    try:
        server.serve_forever()
    finally:
        server.server_close()
