"""WhatsApp templates as agents use them: the approved ones they are offered,
one filled in and sent in a WhatsApp chat (inside its 24-hour window or
outside it: chat.whatsapp_window), and the writer of such a message, which
reaching out (chat.reach_out) shares.

A template message is stored like any agent message (the next seq, queued
for the provider), with the filled text as its body, which the chat and the
transcript show; beside it a WhatsAppTemplateMessage says what Meta is sent
(name, language, the values in order). The send task then makes the one
provider call (chat.channels.delivery).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction

from accounts.models import User
from chat import lifecycle, messages, selectors, tasks
from chat.access import require_agent
from chat.enqueue import enqueue_on_commit
from chat.errors import ChatNotFound, InvalidState, MessageInvalid
from chat.messages import SendResult
from chat.models import (
    Channel,
    ChatSession,
    DeliveryStatus,
    Message,
    SessionStatus,
    WhatsAppTemplate,
    WhatsAppTemplateMessage,
)
from chat.placeholders import fill_numbered

# Longest value of one placeholder (Meta's own limit is higher; a value is a
# name, a ticket number, a date).
VALUE_MAX = 1000


def template_payload(template: WhatsAppTemplate) -> dict[str, Any]:
    """A template as the agent's dialog shows it (the body goes in as text)."""
    return {
        "id": template.pk,
        "name": template.name,
        "language": template.language,
        "body": template.body,
        "placeholders": template.placeholder_count,
    }


def approved_templates() -> list[dict[str, Any]]:
    return [template_payload(t) for t in WhatsAppTemplate.objects.filter(approved=True)]


@dataclass(frozen=True)
class FilledTemplate:
    template: WhatsAppTemplate
    values: list[str]
    text: str


def template_fill(*, template_id: int, values: list[str]) -> FilledTemplate:
    """An approved template with one value for each of its placeholders, or a
    clear refusal: a template that is gone or not approved, a value missing,
    too long, or holding a line break or tab (WhatsApp refuses those)."""
    template = WhatsAppTemplate.objects.filter(pk=template_id, approved=True).first()
    if template is None:
        raise ChatNotFound("That template does not exist or is not approved.")
    values = [value.strip() for value in values]
    count = template.placeholder_count
    if len(values) != count:
        raise MessageInvalid(
            f"This template takes {count} value{'' if count == 1 else 's'}, "
            f"one for each of its placeholders (got {len(values)}).",
            code="template_values",
        )
    for number, value in enumerate(values, start=1):
        slot = "{{" + str(number) + "}}"
        if not value:
            raise MessageInvalid(f"Fill in {slot}.", code="template_values")
        if len(value) > VALUE_MAX:
            raise MessageInvalid(
                f"{slot} may be at most {VALUE_MAX:,} characters.", code="template_values"
            )
        if "\n" in value or "\t" in value:
            raise MessageInvalid(
                f"{slot} cannot hold a line break or a tab: WhatsApp refuses them.",
                code="template_values",
            )
    text = fill_numbered(template.body, values)
    if len(text) > settings.CHAT_MESSAGE_MAX_CHARS:
        raise MessageInvalid("The filled template is too long.", code="message_too_long")
    return FilledTemplate(template, values, text)


def template_message_append(
    session: ChatSession, *, author: User, filled: FilledTemplate, client_id: uuid.UUID
) -> Message:
    """Store ``filled`` in ``session`` (a WhatsApp chat whose lock the caller
    holds) as ``author``'s message, queued; sent once the caller commits."""
    message = messages.append(
        session,
        author=author,
        body=filled.text,
        client_id=client_id,
        delivery_status=DeliveryStatus.QUEUED,
    )
    WhatsAppTemplateMessage.objects.create(
        message=message,
        template=filled.template,
        name=filled.template.name,
        language=filled.template.language,
        parameters=filled.values,
    )
    enqueue_on_commit(tasks.deliver_message, message.pk)
    return message


def template_send(
    *,
    session_id: int,
    agent: User,
    template_id: int,
    values: list[str],
    client_id: str | uuid.UUID,
) -> SendResult:
    """An agent in an active WhatsApp chat sends an approved template (the way
    to write once the 24-hour window has closed). A resend with a
    ``client_id`` already stored returns the stored message."""
    require_agent(agent)
    client_uuid = messages.client_uuid(client_id)
    filled = template_fill(template_id=template_id, values=values)
    with transaction.atomic():
        session = lifecycle.lock(session_id)
        stored = messages.stored(session.pk, client_uuid)
        if stored is not None and stored.author_id == agent.pk:
            return SendResult(stored, False)  # sent again after a dropped connection
        if not selectors.is_in_room_agent(session.pk, agent):
            raise ChatNotFound("That chat does not exist.")
        if session.channel != Channel.WHATSAPP:
            raise InvalidState("Templates go to WhatsApp chats only.", code="not_whatsapp")
        if session.status != SessionStatus.ACTIVE:
            raise InvalidState("This chat has ended; messages can no longer be sent.")
        message = template_message_append(
            session, author=agent, filled=filled, client_id=client_uuid
        )
        return SendResult(message, True)
