"""The per-agent maximum of live chats (``MAX_CHATS_PER_AGENT``): checked by
every move that puts an agent into a chat (join, invitation, push, transfer)."""

from __future__ import annotations

from django.conf import settings

from accounts.models import User
from chat import selectors
from chat.errors import AtCapacity


def check_capacity(agent: User, *, exclude_session_id: int | None = None) -> None:
    """Refuse with AtCapacity if ``agent`` is already in MAX_CHATS_PER_AGENT
    live chats (active, or pushed and waiting for the client), not counting
    ``exclude_session_id``. Call it inside the transaction that adds the agent
    to a chat, after locking that chat.

    It locks the agent's user row first, so two chats joined at once by the
    same agent are counted one after the other: the second count runs once
    the first join has committed (PostgreSQL; on SQLite the IMMEDIATE
    transaction already serializes writers). Session first, then agent: the
    order every caller keeps, so none can deadlock another. FOR NO KEY UPDATE
    does not hold up inserts that merely reference the user (messages,
    connections)."""
    list(User.objects.select_for_update(no_key=True).filter(pk=agent.pk).values_list("pk"))
    live = selectors.live_places().filter(user=agent)
    if exclude_session_id is not None:
        live = live.exclude(session_id=exclude_session_id)
    limit = settings.MAX_CHATS_PER_AGENT
    if live.count() >= limit:
        raise AtCapacity(
            f"You are already in {limit} live chats, the most one agent may have. "
            "End or leave one before taking another."
        )
