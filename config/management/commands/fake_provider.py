"""``manage.py fake_provider``: the local stand-in for Twilio and the WhatsApp
Cloud API (config/fake_provider.py) that `make run` starts with
SWITCHBOARD_FAKE_PROVIDERS=1."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from config import fake_provider


class Command(BaseCommand):
    help = "Serve a local fake of Twilio and the WhatsApp Cloud API (development only)."
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--port", type=int, default=8100)

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.PUBLIC_URL:
            raise CommandError("Set SWITCHBOARD_PUBLIC_URL: the fake posts inbound messages there.")
        fake_provider.serve(port=options["port"], app_url=settings.PUBLIC_URL)
