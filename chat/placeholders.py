"""The placeholders of greeting and farewell templates, and how a body is
filled in. Plain text functions (no models): the template model validates
with them, the agent tools fill templates in with them.

Placeholders are replaced with a fixed pattern, never ``str.format``: a body
is admin input, and format fields such as ``{0.__class__}`` would reach into
Python objects. An unknown ``{name}`` is left as written (admin refuses it when
the template is saved, so it only survives in rows made some other way).
"""

from __future__ import annotations

import re

PLACEHOLDERS: tuple[str, ...] = ("client_first_name", "agent_name")

# What looks like a placeholder: a word in single braces.
_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


def unknown_placeholders(body: str) -> list[str]:
    """The ``{names}`` in ``body`` that are not placeholders, in order, once each."""
    seen: list[str] = []
    for name in _PLACEHOLDER.findall(body):
        token = "{" + name + "}"
        if name not in PLACEHOLDERS and token not in seen:
            seen.append(token)
    return seen


def render(body: str, values: dict[str, str]) -> str:
    """``body`` with each known placeholder replaced by its value."""

    def fill(match: re.Match[str]) -> str:
        name = match.group(1)
        return values[name] if name in values else match.group(0)

    return _PLACEHOLDER.sub(fill, body)
