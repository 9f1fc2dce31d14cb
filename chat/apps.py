from django.apps import AppConfig


class ChatConfig(AppConfig):
    name = "chat"

    def ready(self) -> None:
        # Other apps register socket frames in <app>/frames.py; in this app that
        # name is the registry itself, so chat's own frames live beside it.
        from chat import (  # noqa: F401
            agent_frames,
            socket_frames,
            supervisor_frames,
            transfer_frames,
            visitor_frames,
        )
