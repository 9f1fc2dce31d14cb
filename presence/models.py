from __future__ import annotations

from django.conf import settings
from django.db import models


class PresenceStatus(models.TextChoices):
    AVAILABLE = "available", "Available"
    AWAY = "away", "Away"
    OFFLINE = "offline", "Offline"


class AgentPresence(models.Model):
    """The status an agent chose, and the deadline at which "available" lapses
    because none of the agent's consoles is connected any more."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="presence"
    )
    status = models.CharField(
        max_length=20, choices=PresenceStatus.choices, default=PresenceStatus.OFFLINE
    )
    status_changed_at = models.DateTimeField(auto_now_add=True)
    # Set when the last connection of an available agent closes; cleared when a
    # connection opens. The beat sweep turns the agent offline once it passes.
    offline_deadline = models.DateTimeField(null=True, blank=True, db_index=True)

    class Meta:
        verbose_name_plural = "agent presence"

    def __str__(self) -> str:
        return f"{self.user}: {self.status}"


class AgentConnection(models.Model):
    """One open console websocket. ``last_seen`` is refreshed by heartbeats so a
    socket whose server process died without saying goodbye is swept away."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="connections"
    )
    channel_name = models.CharField(max_length=200, unique=True)
    connected_at = models.DateTimeField(auto_now_add=True)
    last_seen = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return f"{self.user} via {self.channel_name}"
