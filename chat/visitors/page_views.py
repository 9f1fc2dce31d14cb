"""Page views of a chat's client, and the ``chat.visitor`` reply (visitor
info and page views) for staff: see chat.visitors for the rules."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from accounts.models import User
from chat import broadcasts, lifecycle, selectors
from chat.errors import ChatForbidden, ChatNotFound, InvalidState, MessageInvalid
from chat.models import (
    ChatSession,
    PageView,
    SessionStatus,
    VisitorInfo,
)
from chat.payloads import page_view_payload
from chat.visitors.recording import PATH_MAX, clean_path, clean_title

TITLE_MAX = 200
PAGE_VIEWS_PER_CHAT = 500
PAGE_VIEW_STATUSES = (SessionStatus.WAITING, SessionStatus.ACTIVE)


@dataclass(frozen=True)
class PageViewResult:
    page_view: PageView | None
    created: bool


def page_view_record(
    *, session_id: int, client: User, path: Any, title: Any = ""
) -> PageViewResult:
    """The chat's client opened a portal page while its chat is open."""
    if not client.is_authenticated or not client.is_client:
        raise ChatForbidden("Only the chat's client reports its page views.")
    clean = clean_path(path)
    if clean is None:
        raise MessageInvalid(
            f"A page must be a path on this site starting with / (at most {PATH_MAX} characters).",
            code="page_path_invalid",
        )
    title = clean_title(title)
    if len(title) > TITLE_MAX:
        raise MessageInvalid(
            f"A page title may be at most {TITLE_MAX} characters.", code="page_title_too_long"
        )
    with transaction.atomic():
        # Under the chat's row lock: it cannot end between the check and the
        # insert, and two tabs reporting the same page record it once.
        session = lifecycle.lock(session_id)
        if session.client_id != client.pk:
            raise ChatNotFound("That chat does not exist.")
        if session.status not in PAGE_VIEW_STATUSES:
            raise InvalidState(
                "Page views are recorded while a chat is open.", code="chat_not_live"
            )
        if not selectors.is_in_room(session.pk, client):
            raise InvalidState("You have left this chat.", code="not_in_room")
        views = PageView.objects.filter(session=session)
        last = views.order_by("-viewed_at", "-id").first()
        if last is not None and last.path == clean:
            return PageViewResult(last, False)
        if views.count() >= PAGE_VIEWS_PER_CHAT:
            return PageViewResult(None, False)
        view = PageView.objects.create(
            session=session, path=clean, title=title, viewed_at=timezone.now()
        )
        broadcasts.page_viewed(
            page_view_payload(view, session.client),
            session_id=session.pk,
            in_room_agent_ids=selectors.in_room_staff_ids(session.pk),
        )
        return PageViewResult(view, True)


# --- Reads and payloads (staff only) ----------------------------------------------------------


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def visitor_payload(session: ChatSession, info: VisitorInfo | None) -> dict[str, Any]:
    return {
        "ip_address": session.client_ip,
        "user_agent": info.user_agent if info else "",
        "session_start": session.requested_at.isoformat(),
        "landing_page": info.landing_page if info else "",
        "landing_at": _iso(info.landing_at) if info else None,
        "first_visit_page": info.first_visit_page if info else "",
        "first_visit_at": _iso(info.first_visit_at) if info else None,
        "recorded": info is not None,
    }


def visitor_info_for(*, user: User, session_id: int) -> dict[str, Any]:
    """The ``chat.visitor`` reply: visitor info and page views of a chat, for
    staff who may read it. Anyone else (a client, its own chat included) is
    told the chat does not exist, so it learns nothing."""
    if not user.is_authenticated or not user.is_agent:
        raise ChatNotFound("That chat does not exist.")
    session = selectors.session_for(user, session_id)
    info = VisitorInfo.objects.filter(session=session).first()
    views = PageView.objects.filter(session=session).order_by("viewed_at", "id")
    return {
        "type": "chat.visitor",
        "session_id": session.pk,
        "visitor": visitor_payload(session, info),
        "page_views": [page_view_payload(v, session.client) for v in views[:PAGE_VIEWS_PER_CHAT]],
    }
