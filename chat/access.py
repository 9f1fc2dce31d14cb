"""Who may act at all: the checks every chat service starts with. Who is in
a chat's room is a read (chat.selectors)."""

from __future__ import annotations

from accounts.models import User
from chat import queues
from chat.errors import ChatForbidden, NotInQueue
from chat.models import ChatSession


def require_agent(user: User) -> None:
    if not user.is_authenticated or not user.is_agent:
        raise ChatForbidden("Only staff can do this.")


def require_client(user: User) -> None:
    if not user.is_authenticated or not user.is_client or getattr(user, "contact", None) is None:
        raise ChatForbidden("Only a client with a portal contact can do this.")


def require_supervisor(user: User) -> None:
    if not user.is_authenticated or not user.is_supervisor:
        raise ChatForbidden("Only supervisors may do this.")


def require_queue_member(agent: User, session: ChatSession) -> None:
    """A request is answered, and its follow-up card closed, only by a member
    of its queue or a supervisor (chat.queues)."""
    if queues.answers(agent, session.queue_id):
        return
    queue = session.queue
    where = f"the {queue.name} queue" if queue else "another queue"
    raise NotInQueue(
        f"This request belongs to {where}: only its members and supervisors can take it."
    )
