"""Greeting and farewell templates of the chat window: which ones an agent
sees (the global ones and its own) and their text for one chat.

Placeholders are replaced with a fixed pattern, never ``str.format``: a body
is admin input, and format fields such as ``{0.__class__}`` would reach into
Python objects. An unknown ``{name}`` is left as written (admin refuses it when
the template is saved, so it only survives in rows made some other way).
"""

from __future__ import annotations

import re
from typing import Any

from django.db.models import Q

from accounts.models import User
from chat.models import ChatSession, ChatTemplate, TemplateKind

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


def placeholder_values(session: ChatSession, agent: User) -> dict[str, str]:
    client_first = ""
    if session.contact_id and session.contact.first_name:
        client_first = session.contact.first_name
    elif session.client_id:
        client_first = session.client.first_name
    return {"client_first_name": client_first, "agent_name": agent.display_name}


def templates_for(agent: User) -> list[ChatTemplate]:
    """The global templates and the agent's own, greetings first."""
    rows = ChatTemplate.objects.filter(Q(owner__isnull=True) | Q(owner=agent))
    kinds = list(TemplateKind.values)  # greeting, then farewell: the order of a chat
    return sorted(rows, key=lambda t: (kinds.index(t.kind), t.ordering, t.title.lower(), t.pk))


def templates_for_session(*, session_id: int, agent: User) -> list[dict[str, Any]]:
    """The agent's templates filled in for this chat. Only for an agent who may
    read the chat (a participant, or a supervisor): it names the client."""
    from chat import selectors
    from chat.errors import ChatForbidden

    if not agent.is_authenticated or not agent.is_agent:
        raise ChatForbidden("Only staff can do this.")
    session = selectors.session_for(agent, session_id)
    values = placeholder_values(session, agent)
    return [
        {
            "id": template.pk,
            "kind": template.kind,
            "title": template.title,
            "scope": "mine" if template.owner_id else "global",
            "text": render(template.body, values),
        }
        for template in templates_for(agent)
    ]
