"""Which queue a request goes to: the queue its company is routed to, else the
default queue (else none: every available agent is paged)."""

from __future__ import annotations

from chat.models import ChatQueue


def queue_for_company(company_id: int | None) -> ChatQueue | None:
    """``company_id`` None: a writer no contact is known for (an SMS or
    WhatsApp number), which goes to the default queue."""
    routed = None
    if company_id is not None:
        routed = ChatQueue.objects.filter(companies__id=company_id).order_by("name").first()
    return routed or ChatQueue.objects.filter(is_default=True).first()
