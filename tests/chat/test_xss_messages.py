"""XSS payloads in chat messages stay inert everywhere a message is shown as
HTML: the payload's body_html (inserted as HTML by the browser), the Chat
history tab of the portal and the console, and the transcript email. The
transcript file is plain text and is only ever served as a download.

"Inert" is checked on the parsed HTML, not by searching for strings: the
text of a message may well read ``onerror=`` or ``javascript:`` (it is what
the person typed, shown escaped); what must never exist is an element or an
attribute that runs it.
"""

from __future__ import annotations

import uuid
from html.parser import HTMLParser

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from chat import receipts, services, transcripts
from chat.formatting import ALLOWED_TAGS, URL_SCHEMES
from chat.models import ChatKind
from chat.payloads import message_payload
from chat.transcripts import transcript_lines
from tickets.models import TicketAttachment

pytestmark = pytest.mark.django_db

PAYLOADS = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    '<img src="x" onerror="alert(1)">',
    "[x](javascript:alert(1))",
    "[x](JaVaScRiPt:alert(1))",
    "[x](javascript&#58;alert(1))",
    "[x](&#106;avascript:alert(1))",
    "[x](<javascript:alert(1)>)",
    "[x](java\tscript:alert(1))",
    "<javascript:alert(1)>",
    '<a href="javascript:alert(1)">x</a>',
    "<a href='https://ok.example' onclick='alert(1)'>x</a>",
    "<svg onload=alert(1)>",
    "<svg><script>alert(1)</script></svg>",
    '"><script>alert(1)</script>',
    "'><img src=x onerror=alert(1)>",
    "<iframe src=javascript:alert(1)></iframe>",
    "<details open ontoggle=alert(1)>",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    "<style>body{display:none}</style>",
    "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "[x](vbscript:msgbox(1))",
    "![x](javascript:alert(1))",
    "![x](https://tracker.example/pixel.png)",
    '[x](https://ok.example "t\\" onmouseover=\\"alert(1)")',
    "[<img src=x onerror=alert(1)>](https://ok.example)",
    "**<script>**alert(1)",
    "`<script>alert(1)</script>`",
    "```\n<script>alert(1)</script>\n```",
    "<!--<script>alert(1)//-->",
    "&lt;script&gt;alert(1)&lt;/script&gt;",
    "<scr<script>ipt>alert(1)</script>",
]

# The markup of a transcript line itself (templates/chat/_history.html; span:
# the "Internal comment" tag of the supervisor transcript).
TRANSCRIPT_TAGS = {"li", "time", "strong", "em", "div", "span"}
BAD_SCHEMES = ("javascript:", "vbscript:", "data:")
URL_ATTRIBUTES = {"href", "src", "action", "formaction", "xlink:href", "data", "srcdoc"}


class Elements(HTMLParser):
    """Every element of a document: (tag, attributes), plus script contents."""

    VOID = frozenset({"br", "hr", "img", "input", "meta", "link", "source", "wbr"})

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict[str, str]]] = []
        # Elements inside a transcript (<ol class="transcript">) of a page.
        self.in_transcripts: list[str] = []
        self.scripts: list[str] = []
        self._in_script = False
        self._transcript_depth = 0
        self.feed(html)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {name: value or "" for name, value in attrs}
        self.elements.append((tag, attributes))
        self._in_script = tag == "script"
        if self._in_script:
            self.scripts.append("")
        if self._transcript_depth:
            self.in_transcripts.append(tag)
            if tag not in self.VOID:
                self._transcript_depth += 1
        elif tag == "ol" and "transcript" in attributes.get("class", "").split():
            self._transcript_depth = 1

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = False
        if self._transcript_depth and tag not in self.VOID:
            self._transcript_depth -= 1

    def handle_data(self, data: str) -> None:
        if self._in_script:
            self.scripts[-1] += data


def assert_inert(html: str) -> None:
    """No event handler attributes, no script URLs, no script that is not ours."""
    parsed = Elements(html)
    for tag, attrs in parsed.elements:
        for name, value in attrs.items():
            assert not name.startswith("on"), (tag, name, value)
            if name in URL_ATTRIBUTES:
                cleaned = "".join(value.split()).lower()
                assert not cleaned.startswith(BAD_SCHEMES), (tag, name, value)
        if tag == "script":
            # The pages' own module scripts, from our static files (and the
            # admin's translation catalogue), and nothing else.
            assert attrs.get("src", "").startswith(("/static/", "/admin/jsi18n/")), (tag, attrs)
    assert not any("alert" in script for script in parsed.scripts)
    # What a transcript shows: its own markup and the formatting tags, nothing else.
    assert set(parsed.in_transcripts) <= ALLOWED_TAGS | TRANSCRIPT_TAGS, parsed.in_transcripts


def assert_safe_fragment(html: str) -> None:
    """A message's HTML: only the tags formatting allows, links only to
    http/https/mailto and opening safely, and no tag at all from the payload."""
    assert_inert(html)
    assert "<script" not in html.lower()
    for tag, attrs in Elements(html).elements:
        assert tag in ALLOWED_TAGS, tag
        if tag == "a":
            assert attrs.get("target") == "_blank"
            assert attrs.get("rel") == "noopener noreferrer nofollow"
            if "href" in attrs:
                assert attrs["href"].split(":", 1)[0].lower() in URL_SCHEMES, attrs


@pytest.fixture
def chat_with_payloads(alice, alice_ticket, agent1):  # type: ignore[no-untyped-def]
    session = services.session_request(
        client=alice, kind=ChatKind.POST_TICKET, ticket_id=alice_ticket.pk
    )
    services.session_join(session_id=session.pk, agent=agent1)
    sent = []
    for index, payload in enumerate(PAYLOADS):
        author = alice if index % 2 == 0 else agent1
        sent.append(
            services.message_send(
                session_id=session.pk, author=author, client_id=uuid.uuid4(), body=payload
            ).message
        )
    return session, sent


def logged_in(user) -> Client:  # type: ignore[no-untyped-def]
    client = Client()
    client.force_login(user)
    return client


def test_payload_html_is_inert(chat_with_payloads):
    _, messages = chat_with_payloads
    for message, payload in zip(messages, PAYLOADS, strict=True):
        frame = message_payload(message)
        assert frame["body"] == payload  # the text as typed, for textContent
        assert_safe_fragment(frame["body_html"])


def test_history_tabs_are_inert(chat_with_payloads, alice, agent1, alice_ticket):
    session, _ = chat_with_payloads
    receipts.participant_mark_read(session_id=session.pk, user=alice, seq=10_000)
    for user, name in ((alice, "portal"), (agent1, "console")):
        response = logged_in(user).get(
            reverse(f"{name}:ticket_detail", args=[alice_ticket.pk]) + "?tab=chats"
        )
        assert response.status_code == 200
        html = response.content.decode()
        assert "Chat history" in html
        assert_inert(html)
        transcript = Elements(html).in_transcripts
        assert transcript.count("li") == len(transcript_lines(session))
    for line in transcript_lines(session):
        assert_safe_fragment(str(line["body_html"]))


def test_transcript_email_and_file_are_inert(chat_with_payloads, alice, agent1, alice_ticket):
    session, _ = chat_with_payloads
    services.session_end(session_id=session.pk, agent=agent1)
    assert transcripts.transcript_attach(session_id=session.pk)
    assert transcripts.transcript_email(session_id=session.pk)

    (email,) = mail.outbox
    html, mimetype = email.alternatives[0]
    assert mimetype == "text/html"
    assert_inert(html)
    assert "<script" not in html.lower()
    # The text part is the plain transcript: payloads as typed, never HTML.
    assert email.content_subtype == "plain"
    assert "<script>alert(1)</script>" in email.body

    # The file: plain text, served only as a download that no browser renders.
    attachment = TicketAttachment.objects.get(ticket=alice_ticket)
    response = logged_in(alice).get(reverse("files:attachment", args=[attachment.pk]))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Disposition"].startswith("attachment;")
    assert "sandbox" in response["Content-Security-Policy"]
    text = b"".join(response.streaming_content).decode()
    assert "<script>alert(1)</script>" in text  # what was said, as text
