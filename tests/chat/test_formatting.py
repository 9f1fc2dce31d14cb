"""Markdown in messages: what renders, and what never does (chat.formatting)."""

from __future__ import annotations

import pytest
from django.utils.safestring import SafeString

from chat.formatting import LINK_REL, human_size, render_markdown, render_plain

LINK_ATTRS = f'target="_blank" rel="{LINK_REL}"'


@pytest.mark.parametrize(
    ("text", "html"),
    [
        ("**bold** and *italics*", "<p><strong>bold</strong> and <em>italics</em></p>"),
        ("__bold__ _it_", "<p><strong>bold</strong> <em>it</em></p>"),
        ("line one\nline two", "<p>line one<br>\nline two</p>"),
        ("- one\n- two", "<ul>\n<li>one</li>\n<li>two</li>\n</ul>"),
        ("3. three\n4. four", '<ol start="3">\n<li>three</li>\n<li>four</li>\n</ol>'),
        ("run `lpstat -t`", "<p>run <code>lpstat -t</code></p>"),
        ("```sh\nsudo <cmd>\n```", "<pre><code>sudo &lt;cmd&gt;\n</code></pre>"),
        ("> quoted", "<blockquote>\n<p>quoted</p>\n</blockquote>"),
        (
            "[docs](https://example.com/a?b=1&c=2)",
            f'<p><a href="https://example.com/a?b=1&amp;c=2" {LINK_ATTRS}>docs</a></p>',
        ),
        (
            "<https://example.com>",
            f'<p><a href="https://example.com" {LINK_ATTRS}>https://example.com</a></p>',
        ),
        (
            "[mail](mailto:help@example.com)",
            f'<p><a href="mailto:help@example.com" {LINK_ATTRS}>mail</a></p>',
        ),
    ],
)
def test_formatting_renders(text: str, html: str) -> None:
    assert render_markdown(text) == html


@pytest.mark.parametrize(
    ("text", "html"),
    [
        (
            "see https://example.com/kb?id=42&x=1.",
            '<p>see <a href="https://example.com/kb?id=42&amp;x=1" '
            f"{LINK_ATTRS}>https://example.com/kb?id=42&amp;x=1</a>.</p>",
        ),
        (
            "mail mailto:help@example.com",
            f'<p>mail <a href="mailto:help@example.com" {LINK_ATTRS}>'
            "mailto:help@example.com</a></p>",
        ),
        (
            "**http://a.example**",
            f'<p><strong><a href="http://a.example" {LINK_ATTRS}>http://a.example</a></strong></p>',
        ),
    ],
)
def test_typed_web_addresses_become_links(text: str, html: str) -> None:
    assert render_markdown(text) == html


@pytest.mark.parametrize(
    "text",
    [
        "setup.py and notes.md",  # country domains: .py, .md
        "www.example.com",
        "alice@acme.example",
        "ftp://files.example/x",
        "//evil.example/x",
        "javascript:alert(1)",
        "`https://in.code.example`",
    ],
)
def test_other_text_is_not_linked(text: str) -> None:
    assert "<a" not in render_markdown(text)


@pytest.mark.parametrize(
    "text",
    [
        "# not a heading",  # a chat line starting with "#"
        "Total\n---",  # would be a setext heading
    ],
)
def test_headings_stay_text(text: str) -> None:
    assert "<h1" not in render_markdown(text) and "<h2" not in render_markdown(text)


def test_images_are_not_loaded() -> None:
    # An image would fetch a remote URL in every reader's browser unasked.
    html = render_markdown("![pixel](https://tracker.example/p.png)")
    assert "<img" not in html
    assert ">pixel</a>" in html  # left as a plain link the reader may click


@pytest.mark.parametrize(
    "href",
    [
        "javascript:alert(1)",
        "JaVaScRiPt:alert(1)",
        "vbscript:msgbox(1)",
        "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
        "file:///etc/passwd",
        "/accounts/logout/",  # relative: no scheme to check
        "//evil.example/",
        "ftp://files.example/",
    ],
)
def test_only_http_https_mailto_links_keep_their_href(href: str) -> None:
    html = render_markdown(f"[click]({href})")
    assert "href=" not in html


def test_raw_html_is_text() -> None:
    html = render_markdown('<b>hi</b> <a href="/x">x</a> <!-- c -->')
    assert html == '<p>&lt;b&gt;hi&lt;/b&gt; &lt;a href="/x"&gt;x&lt;/a&gt; &lt;!-- c --&gt;</p>'


def test_a_typed_tag_stays_text_when_its_address_becomes_a_link() -> None:
    html = render_markdown('<a href="https://x.example" onclick="steal()">x</a>')
    # The tag is text; only the address inside it is a (sanitized) link.
    assert html == (
        f'<p>&lt;a href="<a href="https://x.example" {LINK_ATTRS}>https://x.example</a>"'
        ' onclick="steal()"&gt;x&lt;/a&gt;</p>'
    )


def test_results_are_safe_strings() -> None:
    assert isinstance(render_markdown("*x*"), SafeString)
    assert render_markdown("") == ""
    # System lines are not markdown: escaped, never formatted.
    assert render_plain("**Bob** <i>joined</i>") == "**Bob** &lt;i&gt;joined&lt;/i&gt;"


PLAIN_ALPHABET = "abcXYZ019 ,.?!'#:;()/@%$=+-"
# Characters that mean something to CommonMark (or to HTML): a line holding
# one must take the full path, or render the same anyway.
MARKUP = '*_`[]<>&\\~|"\n'


def plain_looking_lines() -> list[str]:
    """Lines a person types, and random ones from the plain path's alphabet
    (with list markers, hr dashes and odd spacing among them)."""
    import random

    picked = random.Random(20261202)
    typed = [
        "Hello there",
        "it's fine, isn't it?",
        "ticket #123: done (mostly)",
        "1. one",
        "1) one",
        "12.5% of 3 = 0.375",
        "a  b",
        "a-b - c",
        "Hi! Ok; yes",
        "x.y@example.com",
        "C:/path/x",
        "2024-01-01",
        "3)",
        "9.",
        "#42 is fixed",
        "# not a heading",
        "#",
        "see https://example.com/kb/42 first",
        "HTTP://EXAMPLE.COM",
        "write to mailto:help@example.com",
        "MailTo:help@example.com",
        "setup.py and notes.md",
        "www.example.com",
        "time: 10:30",
    ]
    alphabet = PLAIN_ALPHABET * 3 + MARKUP
    randoms = [
        "".join(picked.choice(alphabet) for _ in range(picked.randint(1, 12))) for _ in range(5000)
    ]
    return typed + randoms


def test_the_plain_line_shortcut_renders_what_markdown_would() -> None:
    from chat.formatting import _is_plain_line, _render, _render_in_full

    shortcut = 0
    for line in plain_looking_lines():
        text = line.strip()
        if not text:
            continue
        shortcut += _is_plain_line(text)
        assert _render(text) == _render_in_full(text), text
    assert shortcut > 500  # the shortcut was taken, not only the full path


@pytest.mark.parametrize(
    ("size", "words"),
    [
        (0, "0 bytes"),
        (1023, "1023 bytes"),
        (1024, "1 KB"),
        (1536, "1.5 KB"),
        (1_234_567, "1.2 MB"),
        # A provider's limit reads as it is set (chat.channels.providers).
        (5 * 1024 * 1024, "5 MB"),
        (100 * 1024 * 1024, "100 MB"),
    ],
)
def test_sizes_read_as_people_write_them(size: int, words: str) -> None:
    assert human_size(size) == words
