"""Message formatting: markdown to safe HTML, rendered on the server.

Two layers, so a gap in one is caught by the other:

1. markdown-it-py (CommonMark, raw HTML off): ``<script>`` typed in a message is
   escaped text, and its link validator already refuses ``javascript:``,
   ``vbscript:``, ``file:`` and ``data:`` URLs.
2. nh3 (ammonia) over the result: an allow-list of the tags markdown produces
   for what chat offers (bold, italics, lists, code, quotes, links); links
   keep only an http/https/mailto ``href`` and always get
   ``rel="noopener noreferrer nofollow"`` and ``target="_blank"``.

A web address typed with its scheme (``https://...``, ``mailto:...``) becomes a
link by itself (linkify-it-py). Addresses without a scheme stay text: guessing
them would turn file names such as ``setup.py`` or ``notes.md`` (both country
domains) into links to strangers' sites.

Headings and images are switched off: in a chat "# of users" or "text\\n---"
should stay text, and an image would load a remote URL in every reader's
browser (tracking) without anyone clicking it.

The browser inserts ``body_html`` as HTML, so everything that feeds it must go
through :func:`render_markdown`; ``body`` stays the plain text as typed.
"""

from __future__ import annotations

import re
from functools import lru_cache

import nh3
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from markdown_it import MarkdownIt

ALLOWED_TAGS = frozenset(
    {"a", "blockquote", "br", "code", "em", "hr", "li", "ol", "p", "pre", "strong", "ul"}
)
ALLOWED_ATTRIBUTES = {"a": {"href"}, "ol": {"start"}}
URL_SCHEMES = frozenset({"http", "https", "mailto"})
LINK_REL = "noopener noreferrer nofollow"

# Chat messages are written with Enter / Shift+Enter: a single newline is a
# line break (``breaks``), not a space as in CommonMark documents.
_markdown = (
    MarkdownIt("commonmark", {"html": False, "breaks": True, "linkify": True})
    .enable("linkify")
    .disable(["heading", "lheading", "image"])
)
_markdown.linkify.set({"fuzzy_link": False, "fuzzy_email": False})
# Schemes nh3 would strip the address of anyway (see URL_SCHEMES): not linked.
_markdown.linkify.add("ftp:", None).add("//", None)

_cleaner = nh3.Cleaner(
    tags=set(ALLOWED_TAGS),
    attributes={tag: set(names) for tag, names in ALLOWED_ATTRIBUTES.items()},
    url_schemes=set(URL_SCHEMES),
    # "/path" or "//host" links have no scheme to check: drop them too.
    url_relative="deny",
    link_rel=LINK_REL,
    set_tag_attribute_values={"a": {"target": "_blank"}},
    strip_comments=True,
)


# Most chat lines are one plain sentence: letters, digits, spaces and
# punctuation that means nothing to CommonMark inside a line. Such a line
# renders as itself in one paragraph, without parsing and sanitizing (which
# cost a quarter of a millisecond per message on a busy server). A line that
# starts with anything else (a list marker, a quote, an indent) or holds any
# other character takes the full path; tests/chat/test_formatting.py checks
# the two agree. Headings are off, so a leading "#" ("#42 is fixed") is text.
# A web address ("https://...", "mailto:...") becomes a link, so not plain.
_PLAIN_LINE = re.compile(r"[A-Za-z0-9#][A-Za-z0-9 ,.?!'#:;()/@%$=+-]*")
_LIST_ITEM = re.compile(r"[0-9]{1,9}[.)](?: |$)")


def _is_plain_line(text: str) -> bool:
    return (
        bool(_PLAIN_LINE.fullmatch(text))
        and not _LIST_ITEM.match(text)
        and "://" not in text
        and "mailto:" not in text.lower()
    )


# Replays and history pages render the same bodies again and again; a bounded
# cache keeps that to a dictionary lookup (a body is at most
# CHAT_MESSAGE_MAX_CHARS, so the cache stays a few MB at worst).
@lru_cache(maxsize=4096)
def _render(text: str) -> str:
    if _is_plain_line(text) and not text.endswith(" "):
        return f"<p>{text}</p>"
    return _render_in_full(text)


def _render_in_full(text: str) -> str:
    return _cleaner.clean(_markdown.render(text)).strip()


def render_markdown(text: str) -> SafeString:
    """The HTML of a chat message body: formatted, sanitized, safe to insert."""
    if not text:
        return mark_safe("")
    return mark_safe(_render(text))  # noqa: S308 - sanitized by nh3 above


def render_plain(text: str) -> SafeString:
    """System lines are not markdown (they quote names people chose): escaped only."""
    return escape(text)


def human_size(size: int) -> str:
    """1 234 567 -> "1.2 MB", 5 242 880 -> "5 MB" (a limit reads as one is
    set), for transcripts and error messages."""
    value = float(size)
    for unit in ("bytes", "KB", "MB"):
        if value < 1024 or unit == "MB":
            if unit == "bytes":
                return f"{int(value)} {unit}"
            return f"{value:.1f}".removesuffix(".0") + f" {unit}"
        value /= 1024
    return f"{value:.1f} GB"  # pragma: no cover - the loop returns at MB
