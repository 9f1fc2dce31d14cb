from __future__ import annotations


class DomainError(Exception):
    """A rule said no. ``code`` is stable (API clients and frames switch on it);
    the message is for people."""

    code = "invalid"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code:
            self.code = code


class TicketError(DomainError):
    code = "ticket_invalid"


class AttachmentRefused(TicketError):
    code = "attachment_refused"
