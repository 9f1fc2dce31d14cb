"""Blocking a client from chat for a while (24 h by default), optionally its
IP address too: the writes (block, lift, put back in force) and the beat sweep
that ends blocks when they expire. ``session_request`` refuses blocked clients
and addresses through chat.selectors.client_blocked.

A block counts while ``active`` and ``expires_at > now``: the check
(chat.selectors.client_blocked) compares with the clock itself, so a block
ends on time even if beat is late; the sweep then clears ``active`` so admin
lists it as over.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from chat import lifecycle, selectors
from chat.access import require_agent
from chat.errors import ChatNotFound, InvalidState, MessageInvalid
from chat.models import ChatBlock

REASON_MAX = 2000


def client_block(
    *,
    session_id: int,
    agent: User,
    reason: str,
    block_ip: bool,
    client_id: uuid.UUID | str | None = None,
) -> ChatBlock:
    """An agent in the chat (or a supervisor) blocks its client from
    requesting chats for CHAT_BLOCK_SECONDS; with ``block_ip`` the address the
    client requested this chat from is blocked too. The chat itself goes on;
    the client is not told (nothing is written into the chat). A
    ``client_id`` this agent used on this chat before returns that block (a
    resend after a dropped connection): nothing new is written."""
    require_agent(agent)
    reason = (reason or "").strip()
    if not reason:
        raise MessageInvalid("Say why the client is blocked.", code="reason_required")
    if len(reason) > REASON_MAX:
        raise MessageInvalid(
            f"The reason may be at most {REASON_MAX:,} characters.", code="reason_too_long"
        )
    with transaction.atomic():
        session = lifecycle.lock(session_id)
        # In the room: not an agent who left or was transferred away.
        if not agent.is_supervisor and not selectors.is_in_room(session.pk, agent):
            raise ChatNotFound("That chat does not exist.")
        if client_id is not None:
            # Under the session lock: a racing resend waits, then finds the row.
            stored = ChatBlock.objects.filter(
                session=session, created_by=agent, request_key=client_id
            ).first()
            if stored is not None:
                return stored
        ip_address = session.client_ip if block_ip else None
        if block_ip and not ip_address:
            raise InvalidState(
                "The client's IP address is not known for this chat; block the client only.",
                code="ip_unknown",
            )
        now = timezone.now()
        expires_at = now + timedelta(seconds=settings.CHAT_BLOCK_SECONDS)
        block = ChatBlock.objects.create(
            client=session.client,
            ip_address=ip_address,
            reason=reason,
            session=session,
            created_by=agent,
            expires_at=expires_at,
            request_key=client_id,
        )
        # The audit trail of the chat (staff only): the status does not change.
        what = "client and IP address" if ip_address else "client"
        lifecycle.record(
            session,
            actor=agent,
            reason=f"{what} blocked until {expires_at:%Y-%m-%d %H:%M %Z}: {reason}",
            at=now,
        )
        return block


def block_lift(*, block_id: int, by: User | None) -> bool:
    """End a block before it expires. False if it was no longer active
    (lifted or swept already): nothing changes twice."""
    return bool(
        ChatBlock.objects.filter(pk=block_id, active=True).update(
            active=False, lifted_at=timezone.now(), lifted_by=by
        )
    )


def block_restore(*, block_id: int) -> bool:
    """Put a lifted block back in force (until its ``expires_at``): who lifted
    it and when are cleared. False if it was in force already."""
    return bool(
        ChatBlock.objects.filter(pk=block_id, active=False).update(
            active=True, lifted_at=None, lifted_by=None
        )
    )


def sweep_block_expiry(*, now: datetime | None = None) -> int:
    """Blocks past ``expires_at`` stop being active (run by the beat sweep).
    A conditional UPDATE: a second run, or a second beat, finds nothing."""
    now = now or timezone.now()
    return ChatBlock.objects.filter(active=True, expires_at__lte=now).update(active=False)
