from django.apps import AppConfig


class ChatConfig(AppConfig):
    name = "chat"

    def ready(self) -> None:
        from chat import queue_members

        # Celery finds chat/tasks.py by itself; the inbound file task lives
        # with the rest of inbound and is registered by this import.
        from chat.inbound import media  # noqa: F401

        queue_members.connect_signals()
