"""Greeting and farewell templates of the chat window: which ones an agent
sees (the global ones and its own) and their text for one chat, filled in by
chat.placeholders."""

from __future__ import annotations

from typing import Any

from django.db.models import Q

from accounts.models import User
from chat import selectors
from chat.access import require_agent
from chat.models import ChatSession, ChatTemplate, TemplateKind
from chat.placeholders import render


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
    require_agent(agent)
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
