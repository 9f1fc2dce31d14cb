"""Chat queues: which queue a request goes to, and whose requests they are.

Routing: a request goes to the queue its company is routed to, else to the
default queue, else to none.

Whose they are: a queue's requests belong to its members and to the
supervisors, who answer every queue. Only they may join them, see them (the
console's Chats panel, the API, the request itself), close their follow-up
cards and hear of them over the socket. A request with no queue (its company
is routed nowhere and there is no default queue) is every agent's. An agent
outside the queue comes into a chat only when somebody names it: an
invitation, a transfer or a supervisor's Assign (chat.agent_tools).

Over the socket a member's staff sockets are in the queue's group
``queue.<id>`` and a supervisor's in ``queue.all``, so news of a request goes
to exactly the people it belongs to (:func:`audience`). :func:`socket_groups`
chooses a socket's queue groups (chat.frames.queues registers it with
realtime): when it connects, at every login re-check, and at once when its
user's memberships change (chat.queue_members).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db.models import Q

from accounts.models import User
from chat.models import ChatQueue
from realtime.groups import STAFF_GROUP

# The sockets of supervisors: every queue's requests.
ALL_QUEUES_GROUP = "queue.all"

Membership = ChatQueue.members.through


def queue_group(queue_id: int) -> str:
    """The staff sockets of a queue's members."""
    return f"queue.{queue_id}"


def audience(queue_id: int | None, *more: int | None) -> list[str]:
    """The groups that hear of the requests of a queue (or of two: a chat
    transferred from one to another): the queues' members and the
    supervisors. Every staff socket for a request of no queue (``staff`` holds
    all the others too, so nobody hears a change twice)."""
    queue_ids = [queue_id, *more]
    if None in queue_ids:
        return [STAFF_GROUP]
    return [*(queue_group(q) for q in dict.fromkeys(queue_ids) if q is not None), ALL_QUEUES_GROUP]


def queue_for_company(company_id: int | None) -> ChatQueue | None:
    """``company_id`` None: a writer no contact is known for (an SMS or
    WhatsApp number), which goes to the default queue."""
    routed = None
    if company_id is not None:
        routed = ChatQueue.objects.filter(companies__id=company_id).order_by("name").first()
    return routed or ChatQueue.objects.filter(is_default=True).first()


def answers(user: User, queue_id: int | None) -> bool:
    """Whether staff member ``user`` answers requests of this queue."""
    if not user.is_agent:
        return False
    if queue_id is None or user.is_supervisor:
        return True
    return Membership.objects.filter(chatqueue_id=queue_id, user_id=user.pk).exists()


def answered_by(user: User) -> Q:
    """A filter of chat sessions: those of the queues staff member ``user``
    answers (everything for a supervisor)."""
    if user.is_supervisor:
        return Q()
    own = Membership.objects.filter(user_id=user.pk).values("chatqueue_id")
    return Q(queue__isnull=True) | Q(queue_id__in=own)


def answered_queue_ids(user: User) -> list[int] | None:
    """The queues whose requests ``user``'s console lists: None for every
    queue (a supervisor)."""
    if user.is_supervisor:
        return None
    return sorted(Membership.objects.filter(user_id=user.pk).values_list("chatqueue_id", flat=True))


def socket_groups(users: Mapping[str, Any]) -> dict[str, set[str]]:
    """The queue groups of these sockets (channel name -> user): a
    supervisor's are ``queue.all``, an agent's those of its queues, a
    client's none. One query for any number of sockets (the login re-check
    asks for a batch at once)."""
    agent_ids = {user.pk for user in users.values() if user.is_agent and not user.is_supervisor}
    groups_of: dict[int, set[str]] = {}
    if agent_ids:
        rows = Membership.objects.filter(user_id__in=agent_ids)
        for user_id, queue_id in rows.values_list("user_id", "chatqueue_id"):
            groups_of.setdefault(user_id, set()).add(queue_group(queue_id))
    return {
        channel: {ALL_QUEUES_GROUP} if user.is_supervisor else groups_of.get(user.pk, set())
        for channel, user in users.items()
        if user.is_agent
    }
