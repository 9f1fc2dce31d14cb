"""Django admin for presence: a read-only window on agent status and live sockets.

Both tables are written by the console's websocket and the beat sweep (through
presence services, which also broadcast the change); editing rows here would
skip the broadcast and be overwritten by the next heartbeat, so admin only shows.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import Count, QuerySet
from django.http import HttpRequest

from presence.models import AgentConnection, AgentPresence


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(AgentPresence)
class AgentPresenceAdmin(ReadOnlyAdmin):
    list_display = ("user", "status", "status_changed_at", "offline_deadline", "connections")
    list_filter = ("status",)
    search_fields = ("user__email", "user__full_name")
    list_select_related = ("user",)
    ordering = ("user__email",)

    def get_queryset(self, request: HttpRequest) -> QuerySet[AgentPresence]:
        return (
            super()
            .get_queryset(request)
            .annotate(_connections=Count("user__connections", distinct=True))
        )

    @admin.display(description="Open consoles", ordering="_connections")
    def connections(self, obj: AgentPresence) -> int:
        return obj._connections  # type: ignore[attr-defined]


@admin.register(AgentConnection)
class AgentConnectionAdmin(ReadOnlyAdmin):
    list_display = ("user", "channel_name", "connected_at", "last_seen")
    search_fields = ("user__email", "user__full_name", "channel_name")
    list_select_related = ("user",)
    date_hierarchy = "connected_at"
    ordering = ("-last_seen",)
