"""Every write to presence: the status an agent chooses, the live connections
that keep it honest, and the sweep that expires it.

Rules: an agent is *available* only while at
least one of its consoles is connected, give or take a grace period so that a
page reload does not flap the status. The last connection closing sets
``offline_deadline``; a connection opening clears it; the beat sweep flips the
agents whose deadline passed to offline with a conditional UPDATE, so two
sweeps (or two beats) never flip anyone twice.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from accounts.models import User
from presence.models import AgentConnection, AgentPresence, PresenceStatus
from realtime.broadcast import broadcast
from realtime.groups import STAFF_GROUP


class PresenceError(Exception):
    """A presence move that is not allowed; ``code`` is stable for clients."""

    code = "presence_error"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        if code is not None:
            self.code = code

    @property
    def message(self) -> str:
        return str(self.args[0])


def _grace() -> timedelta:
    return timedelta(seconds=settings.PRESENCE_GRACE_SECONDS)


def _connections_of(user_ref: OuterRef | int | User) -> Exists:
    return Exists(AgentConnection.objects.filter(user=user_ref))


def _broadcast_changed(presence: AgentPresence, user: User) -> None:
    broadcast(
        STAFF_GROUP,
        "presence.changed",
        {
            "user_id": user.pk,
            "name": user.display_name,
            "status": presence.status,
            "changed_at": presence.status_changed_at,
        },
    )


def _locked_presence(user: User) -> AgentPresence:
    """The agent's presence row, locked for the rest of the transaction.

    Locking serialises the moves of one agent (two tabs closing at once on
    PostgreSQL would otherwise both see the other's connection and neither
    set the deadline).
    """
    presence, _ = AgentPresence.objects.select_for_update().get_or_create(user=user)
    return presence


def presence_set(*, user: User, status: str) -> AgentPresence:
    """The agent chose a status in the console toggle."""
    if not (user.is_active and user.is_agent):
        raise PresenceError("Only staff have a presence status.", code="forbidden")
    if status not in PresenceStatus.values:
        raise PresenceError(f"Unknown presence status {status!r}.", code="invalid_status")
    now = timezone.now()
    with transaction.atomic():
        presence = _locked_presence(user)
        deadline: datetime | None = None
        if (
            status == PresenceStatus.AVAILABLE
            and not AgentConnection.objects.filter(user=user).exists()
        ):
            # Chosen without a live console (e.g. a form post): it still lapses.
            deadline = presence.offline_deadline or now + _grace()
        changed = presence.status != status
        if not changed and presence.offline_deadline == deadline:
            return presence
        presence.offline_deadline = deadline
        fields = ["offline_deadline"]
        if changed:
            presence.status = status
            presence.status_changed_at = now
            fields += ["status", "status_changed_at"]
        presence.save(update_fields=fields)
        if changed:
            _broadcast_changed(presence, user)
    return presence


def _broadcast_client_online(user: User, *, online: bool) -> None:
    # The console's follow-up cards offer Push chat only while the client is
    # in the portal; this keeps them right without a reload.
    broadcast(STAFF_GROUP, "client.presence", {"user_id": user.pk, "online": online})


def connection_open(*, user: User, channel_name: str) -> None:
    """A socket of ``user`` was accepted on ``channel_name``.

    Every user's sockets are tracked (clients too: a push chat is only offered
    while the client is online); only staff have a presence to keep alive.
    A client's first socket tells staff it came online.
    """
    now = timezone.now()
    with transaction.atomic():
        if user.is_agent:
            presence = _locked_presence(user)
            if presence.offline_deadline is not None:
                presence.offline_deadline = None
                presence.save(update_fields=["offline_deadline"])
        else:
            was_online = AgentConnection.objects.filter(user=user).exists()
        AgentConnection.objects.update_or_create(
            channel_name=channel_name, defaults={"user": user, "last_seen": now}
        )
        if not user.is_agent and not was_online:
            _broadcast_client_online(user, online=True)


def connection_close(*, channel_name: str) -> None:
    """The socket on ``channel_name`` closed. Idempotent."""
    now = timezone.now()
    with transaction.atomic():
        connection = (
            AgentConnection.objects.filter(channel_name=channel_name).select_related("user").first()
        )
        if connection is None:
            return
        user = connection.user
        presence = _locked_presence(user) if user.is_agent else None
        connection.delete()
        if presence is None and not AgentConnection.objects.filter(user=user).exists():
            _broadcast_client_online(user, online=False)
        if (
            presence is not None
            and presence.status == PresenceStatus.AVAILABLE
            and presence.offline_deadline is None
            and not AgentConnection.objects.filter(user=user).exists()
        ):
            # The last console went away: "available" lapses after the grace.
            presence.offline_deadline = now + _grace()
            presence.save(update_fields=["offline_deadline"])


def connections_heartbeat(*, channel_names: Collection[str]) -> set[str]:
    """Refresh ``last_seen`` of many sockets in one statement. Returns the
    names whose row is gone (swept as stale), which the caller registers again."""
    names = set(channel_names)
    if not names:
        return set()
    with transaction.atomic():
        found = AgentConnection.objects.filter(channel_name__in=names)
        found.update(last_seen=timezone.now())
        present = set(found.values_list("channel_name", flat=True))
    return names - present


def connections_refresh(*, users: Mapping[str, User]) -> None:
    """The re-checked sockets ``{channel name: user}`` still open: their rows
    refreshed, and registered again where the presence sweep had removed them
    (a daphne that stalled past the stale limit)."""
    for channel in connections_heartbeat(channel_names=users):
        connection_open(user=users[channel], channel_name=channel)


def presence_sweep(*, now: datetime | None = None) -> int:
    """Expire presence; returns how many agents this call turned offline.

    Safe to run twice, or from two beats at once: every step is a conditional
    UPDATE/DELETE, and an agent is only reported (and broadcast) by the call
    whose UPDATE actually changed its row.
    """
    now = now or timezone.now()
    stale_before = now - timedelta(seconds=settings.PRESENCE_STALE_SECONDS)
    has_connection = _connections_of(OuterRef("user"))
    flipped: list[AgentPresence] = []
    with transaction.atomic():
        # (a) Sockets of a daphne that died without saying goodbye.
        AgentConnection.objects.filter(last_seen__lt=stale_before).delete()
        available = AgentPresence.objects.filter(status=PresenceStatus.AVAILABLE)
        # (b) Available agents whose last connection vanished without a close
        # (swept above, or a lost race): start their grace period now.
        available.filter(offline_deadline__isnull=True).filter(~has_connection).update(
            offline_deadline=now + _grace()
        )
        # ...and the reverse repair: connected agents have no deadline.
        available.filter(offline_deadline__isnull=False).filter(has_connection).update(
            offline_deadline=None
        )
        # (c) The flip itself, one conditional UPDATE per agent so that we know
        # which rows *this* sweep changed.
        due = list(
            available.filter(offline_deadline__lte=now).select_related("user").order_by("pk")
        )
        for presence in due:
            changed = AgentPresence.objects.filter(
                pk=presence.pk, status=PresenceStatus.AVAILABLE, offline_deadline__lte=now
            ).update(status=PresenceStatus.OFFLINE, offline_deadline=None, status_changed_at=now)
            if changed:
                presence.status = PresenceStatus.OFFLINE
                presence.offline_deadline = None
                presence.status_changed_at = now
                flipped.append(presence)
                _broadcast_changed(presence, presence.user)
    return len(flipped)
