from django.apps import AppConfig


class ChatConfig(AppConfig):
    name = "chat"

    def ready(self) -> None:
        # Other apps register socket frames in <app>/frames.py; in this app that
        # name is the registry itself, so chat's own frames live beside it.
        from chat import socket_frames  # noqa: F401
