"""Mail written to files (EMAIL_URL=filemail://..., and development's default,
var/mail/): Django's file backend plus one INFO log line per email saying who
it was for and which file holds it, so that `make run` shows that an email went
out without printing it through the Celery worker's stdout (which tags every
line WARNING)."""

from __future__ import annotations

import logging

from django.core.mail import EmailMessage
from django.core.mail.backends.filebased import EmailBackend

logger = logging.getLogger(__name__)


class FileEmailBackend(EmailBackend):
    def write_message(self, message: EmailMessage) -> None:
        super().write_message(message)
        logger.info(
            'Email "%s" to %s written to %s',
            message.subject,
            ", ".join(message.recipients()),
            self.stream.name,
        )
