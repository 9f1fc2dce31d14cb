"""Link to contact: an SMS or WhatsApp chat from a number no contact has
(chat.inbound) is linked by an agent to the contact it turns out to be. The
chat then has the contact's company (a ticket can be made from it), its
client is called by the contact's name, and the contact keeps the number as
its phone when it had none, so its next message is matched by itself.

Who may: an agent in the chat's room, or a supervisor. Only a chat without a
contact is linked: a matched chat is never moved to another company.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import Q

from accounts.models import Contact, User
from chat import broadcasts, lifecycle, messages, selectors
from chat.access import require_agent
from chat.errors import ChatNotFound, InvalidState
from chat.models import ChatSession

CANDIDATES = 20
QUERY_MIN = 2


def _may_link(session: ChatSession, agent: User) -> None:
    require_agent(agent)
    if not agent.is_supervisor and not selectors.is_in_room(session.pk, agent):
        raise ChatNotFound("That chat does not exist.")
    if not session.by_phone:
        raise InvalidState(
            "Only SMS and WhatsApp chats are linked to a contact.", code="not_phone_chat"
        )


def contact_candidates(*, session_id: int, agent: User, query: str) -> list[dict[str, Any]]:
    """Contacts whose name, email, phone or company has ``query`` in it (at
    least two characters), for the chat's Link to contact dialog."""
    _may_link(selectors.session_by_id(session_id), agent)
    query = (query or "").strip()
    if len(query) < QUERY_MIN:
        return []
    found = (
        Contact.objects.select_related("company")
        .filter(
            Q(name__icontains=query)
            | Q(email__icontains=query)
            | Q(phone__icontains=query)
            | Q(company__name__icontains=query)
        )
        .order_by("name", "pk")[:CANDIDATES]
    )
    return [
        {
            "id": contact.pk,
            "name": contact.name,
            "email": contact.email,
            "phone": contact.phone,
            "company": contact.company.name,
        }
        for contact in found
    ]


def contact_link(*, session_id: int, agent: User, contact_id: int) -> ChatSession:
    """Link the chat to the contact. Linking it again to the same contact
    (a resend) changes nothing."""
    with transaction.atomic():
        session = lifecycle.lock(session_id)
        _may_link(session, agent)
        if session.contact_id == contact_id:
            return session
        if session.contact is not None:
            raise InvalidState(
                f"This chat is already linked to {session.contact.name}.", code="already_linked"
            )
        contact = Contact.objects.select_related("company").filter(pk=contact_id).first()
        if contact is None:
            raise ChatNotFound("That contact does not exist.")
        ChatSession.objects.filter(pk=session.pk).update(contact=contact)
        session.contact = contact
        User.objects.filter(pk=session.client_id).update(full_name=contact.name[:150])
        if not contact.phone:
            contact.phone = session.client_address
            contact.save(update_fields=["phone"])
        where = f"{contact.name} ({contact.company.name})"
        lifecycle.record(session, actor=agent, reason=f"linked to contact {where}")
        messages.system_line(session, f"{agent.display_name} linked this chat to {where}.")
        broadcasts.follow_up_changed(selectors.session_payload_of(session.pk))
        return session
