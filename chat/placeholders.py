"""The placeholders of templates, and how a body is filled in. Plain text
functions (no models): the template models validate with them, the agent
tools fill templates in with them.

Greetings and farewells (ChatTemplate) name theirs: ``{client_first_name}``;
so do the auto-replies to SMS and WhatsApp clients (AutoReply): ``{opens_at}``.
WhatsApp templates (WhatsAppTemplate) number theirs as Meta does: ``{{1}}``,
``{{2}}``... (see the end of this module).

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


def unknown_placeholders(body: str, allowed: tuple[str, ...] = PLACEHOLDERS) -> list[str]:
    """The ``{names}`` in ``body`` that are not in ``allowed`` (the greeting
    placeholders unless said), in order, once each."""
    seen: list[str] = []
    for name in _PLACEHOLDER.findall(body):
        token = "{" + name + "}"
        if name not in allowed and token not in seen:
            seen.append(token)
    return seen


def render(body: str, values: dict[str, str]) -> str:
    """``body`` with each known placeholder replaced by its value."""

    def fill(match: re.Match[str]) -> str:
        name = match.group(1)
        return values[name] if name in values else match.group(0)

    return _PLACEHOLDER.sub(fill, body)


# --- WhatsApp templates: numbered placeholders -------------------------------------

_NUMBERED = re.compile(r"\{\{(\d+)\}\}")


def numbered_placeholders(body: str) -> list[int]:
    """The distinct numbers of the ``{{n}}`` in ``body``, in ascending order."""
    return sorted({int(number) for number in _NUMBERED.findall(body)})


def numbered_problem(body: str) -> str | None:
    """Why ``body``'s placeholders are not {{1}}, {{2}}... without a gap (as
    Meta requires), or None when they are (or when there are none)."""
    numbers = numbered_placeholders(body)
    if numbers == list(range(1, len(numbers) + 1)):
        return None
    found = ", ".join("{{" + str(n) + "}}" for n in numbers)
    return f"Number the placeholders {{{{1}}}}, {{{{2}}}}... without gaps (found {found})."


def fill_numbered(body: str, values: list[str]) -> str:
    """``body`` with each ``{{n}}`` replaced by ``values[n - 1]`` (the caller
    checked there is one value per placeholder)."""
    return _NUMBERED.sub(lambda match: values[int(match.group(1)) - 1], body)
