"""Presence reads shared by the console, the socket and (later) chat routing."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TypedDict

from django.conf import settings
from django.db.models import Q, QuerySet
from django.utils import timezone

from accounts.models import STAFF_ROLES, User
from presence.models import AgentConnection, AgentPresence, PresenceStatus


class AgentState(TypedDict):
    user_id: int
    name: str
    status: str


def available_agents(*, now: datetime | None = None) -> QuerySet[User]:
    """Active staff who count as available right now.

    An agent whose grace period already ran out is not available even if the
    sweep has not flipped it yet (the sweep runs every few seconds).
    """
    now = now or timezone.now()
    return User.objects.filter(
        is_active=True,
        role__in=STAFF_ROLES,
        presence__status=PresenceStatus.AVAILABLE,
    ).filter(Q(presence__offline_deadline__isnull=True) | Q(presence__offline_deadline__gt=now))


def is_available(*, user: User, now: datetime | None = None) -> bool:
    return available_agents(now=now).filter(pk=user.pk).exists()


def presence_status(*, user: User) -> str:
    """The status the agent's toggle shows (offline when never set)."""
    status = AgentPresence.objects.filter(user=user).values_list("status", flat=True).first()
    return status or PresenceStatus.OFFLINE


def agent_states() -> list[AgentState]:
    """Every active staff member and its status, for the console's Agents list.

    One query whatever the number of agents.
    """
    rows = (
        User.objects.filter(is_active=True, role__in=STAFF_ROLES)
        .order_by("full_name", "email")
        .values_list("pk", "full_name", "email", "presence__status")
    )
    return [
        {"user_id": pk, "name": full_name or email, "status": status or PresenceStatus.OFFLINE}
        for pk, full_name, email, status in rows
    ]


def is_online(*, user: User, now: datetime | None = None) -> bool:
    """Has ``user`` (client or staff) a live socket? Used to offer push chat."""
    now = now or timezone.now()
    fresh = now - timedelta(seconds=settings.PRESENCE_STALE_SECONDS)
    return AgentConnection.objects.filter(user=user, last_seen__gte=fresh).exists()
