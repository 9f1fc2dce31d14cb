"""Domain errors of chat. Each has a stable ``code`` that error frames and API
responses carry, so the browser can react to the kind of refusal."""

from __future__ import annotations

from tickets.errors import DomainError


class ChatError(DomainError):
    code = "chat_error"


class ChatNotAllowed(ChatError):
    code = "chat_not_allowed"


class ChatNotFound(ChatError):
    """Unknown session, or one the user may not see (indistinguishable on purpose)."""

    code = "not_found"


class ChatForbidden(ChatError):
    code = "forbidden"


class AlreadyAnswered(ChatError):
    code = "already_answered"


class InvalidState(ChatError):
    code = "invalid_state"


class MessageInvalid(ChatError):
    code = "message_invalid"


class ClientOffline(ChatError):
    code = "client_offline"


class AtCapacity(ChatError):
    """The agent is already in as many live chats as one agent may be."""

    code = "at_capacity"


class ChatUnavailable(ChatError):
    """A request refused without saying why (a blocked client or address must
    not learn about the block from the message)."""

    code = "chat_unavailable"


class NotInQueue(ChatError):
    """The request belongs to a queue the agent is not a member of: only its
    members and supervisors answer it (chat.queues)."""

    code = "not_in_queue"


class WindowClosed(ChatError):
    """Free text to a WhatsApp client outside its 24-hour window
    (chat.whatsapp_window): only an approved template may go out."""

    code = "window_closed"
