"""Markdown in messages: what renders, and what never does (chat.formatting)."""

from __future__ import annotations

import pytest
from django.utils.safestring import SafeString

from chat.formatting import LINK_REL, render_markdown, render_plain

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
    html = render_markdown('<b>hi</b> <a href="https://x.example">x</a> <!-- c -->')
    assert html == (
        "<p>&lt;b&gt;hi&lt;/b&gt; "
        '&lt;a href="https://x.example"&gt;x&lt;/a&gt; &lt;!-- c --&gt;</p>'
    )


def test_results_are_safe_strings() -> None:
    assert isinstance(render_markdown("*x*"), SafeString)
    assert render_markdown("") == ""
    # System lines are not markdown: escaped, never formatted.
    assert render_plain("**Bob** <i>joined</i>") == "**Bob** &lt;i&gt;joined&lt;/i&gt;"
