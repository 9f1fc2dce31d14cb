"""A change of who is in a queue takes effect on open sockets at once.

Members are edited in Django admin (Chat queues), or by any code that changes
``ChatQueue.members``. Once such a change commits, the sockets of the staff
added or removed re-read their queue groups, and their consoles reload the
Chats panel (chat.broadcasts.queues_changed). A deleted queue's requests lose
their queue and become every agent's, so every staff socket is told.

A write that sends no signal (a bulk insert into the through table, raw SQL)
still reaches every socket at its next login re-check, which chooses its
queue groups again (chat.queues.socket_groups).
"""

from __future__ import annotations

from typing import Any

from django.db.models.signals import m2m_changed, post_delete

from chat import broadcasts
from chat.models import ChatQueue


def connect_signals() -> None:
    """Called once, from chat.apps.ChatConfig.ready."""
    m2m_changed.connect(
        members_changed, sender=ChatQueue.members.through, dispatch_uid="chat.queue_members"
    )
    post_delete.connect(queue_deleted, sender=ChatQueue, dispatch_uid="chat.queue_deleted")


def members_changed(
    *,
    instance: Any,
    action: str,
    reverse: bool,
    pk_set: set[int] | None,
    **kwargs: Any,
) -> None:
    """``queue.members`` (``reverse``: ``user.chat_queues``) changed. Before
    a clear the members are read: afterwards nobody knows who they were."""
    if action in ("post_add", "post_remove"):
        user_ids = {instance.pk} if reverse else set(pk_set or ())
    elif action == "pre_clear":
        user_ids = {instance.pk} if reverse else set(instance.members.values_list("pk", flat=True))
    else:
        return
    if user_ids:
        broadcasts.queues_changed(user_ids=sorted(user_ids))


def queue_deleted(**kwargs: Any) -> None:
    broadcasts.queues_changed(user_ids=None)
