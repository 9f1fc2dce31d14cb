"""The websocket routes: the one ``/ws/`` socket, and the benchmark's echo
consumer when ``SWITCHBOARD_BENCH_ECHO=1`` (never in a normal deployment)."""

from __future__ import annotations

import os

from django.urls import URLPattern, path

from realtime.consumer import SwitchboardConsumer


def websocket_urlpatterns() -> list[URLPattern]:
    patterns = [path("ws/", SwitchboardConsumer.as_asgi())]
    if os.environ.get("SWITCHBOARD_BENCH_ECHO") == "1":
        from realtime.echo import EchoConsumer

        patterns.append(path("ws/echo/", EchoConsumer.as_asgi()))
    return patterns
