from django.apps import AppConfig


class ChatConfig(AppConfig):
    name = "chat"

    def ready(self) -> None:
        from chat import queue_members
        from chat.broadcasts import ticket_changed

        # Celery finds chat/tasks.py by itself; the inbound file task lives
        # with the rest of inbound and is registered by this import.
        from chat.inbound import media  # noqa: F401
        from tickets.events import ticket_changed as ticket_changed_signal

        queue_members.connect_signals()
        # Ticket writes reach the staff consoles as ticket.changed (the
        # tickets app knows no socket: tickets/events.py).
        ticket_changed_signal.connect(ticket_changed, dispatch_uid="chat.ticket_changed")
