"""Staff-only comments on a live chat, with @mentions.

Rules (each checked here, never in the browser):

- **Comment**: a supervisor on any live chat, or an agent who is in the
  chat's room. A comment is staff-only: it is not a Message, so it never
  enters the conversation's seq, replay, transcript or email, and it is
  delivered only to staff sockets (chat.broadcasts.comment_posted).
- **Mentions**: ``@token`` in a comment body, where the token is letters,
  digits and ``._+-`` (trailing punctuation dropped) and the ``@`` does not
  follow a letter, digit or dot (so an email address in the text is not a
  mention). A token names an active staff member by the local part of their
  email (``@agent1`` -> agent1@example.com) or, failing that, by first name
  (``@Priya`` -> "Priya Shah"), case-insensitively. A first name two people
  share mentions both: a notification too many beats one missed. The author
  is never mentioned; clients and inactive users never are.
"""

from __future__ import annotations

import re
import uuid

from django.conf import settings
from django.db import transaction
from django.db.models import Prefetch, QuerySet
from django.utils import timezone

from accounts.models import STAFF_ROLES, User
from chat import broadcasts, lifecycle, selectors
from chat.errors import ChatForbidden, ChatNotFound, InvalidState, MessageInvalid
from chat.models import OPEN_STATUSES, ChatComment
from chat.payloads import comment_payload


def may_read_comments(user: User, session_id: int) -> bool:
    """Supervisors, and the agents in the room. An agent who left or was
    transferred away stops seeing new comments."""
    if not user.is_authenticated or not user.is_active or not user.is_agent:
        return False
    return user.is_supervisor or selectors.is_in_room_agent(session_id, user)


MENTION_RE = re.compile(r"(?<![\w.@+-])@([A-Za-z0-9](?:[\w.+-]*[A-Za-z0-9_])?)")


def mention_tokens(body: str) -> list[str]:
    """The ``@tokens`` of a body, lower-cased, in order, without repeats."""
    seen: dict[str, None] = {}
    for match in MENTION_RE.finditer(body):
        seen.setdefault(match.group(1).lower(), None)
    return list(seen)


def resolve_mentions(body: str, *, author: User | None = None) -> list[User]:
    """Active staff named in ``body`` (see the module docstring). One query."""
    tokens = mention_tokens(body)
    if not tokens:
        return []
    staff = list(User.objects.filter(is_active=True, role__in=STAFF_ROLES).order_by("pk"))
    by_local: dict[str, list[User]] = {}
    by_first: dict[str, list[User]] = {}
    for user in staff:
        by_local.setdefault(user.email.split("@")[0].lower(), []).append(user)
        if user.full_name.strip():
            by_first.setdefault(user.full_name.split()[0].lower(), []).append(user)
    found: dict[int, User] = {}
    for token in tokens:
        for user in by_local.get(token) or by_first.get(token) or []:
            if author is None or user.pk != author.pk:
                found.setdefault(user.pk, user)
    return list(found.values())


def comment_add(
    *, session_id: int, author: User, body: str, client_id: uuid.UUID | str | None = None
) -> ChatComment:
    """Post a staff-only comment on a live chat and notify the mentioned. A
    ``client_id`` the author used before returns that comment: nothing new is
    stored, nobody is notified again (a resend after a dropped connection)."""
    if not author.is_authenticated or not author.is_agent:
        raise ChatForbidden("Only staff may comment on a chat.")
    body = (body or "").strip()
    if not body:
        raise MessageInvalid("Write a comment first.", code="comment_empty")
    limit = settings.CHAT_MESSAGE_MAX_CHARS
    if len(body) > limit:
        raise MessageInvalid(
            f"A comment may be at most {limit:,} characters.", code="comment_too_long"
        )
    with transaction.atomic():
        # Under the session's row lock: the chat cannot end between the check
        # and the insert, and a comment is ordered with the chat's changes.
        session = lifecycle.lock(session_id)
        if not author.is_supervisor and not selectors.is_in_room_agent(session.pk, author):
            # An agent outside the room may know the chat exists (the queue,
            # other chats) but has no say in it.
            selectors.session_for(author, session.pk)  # not_found for chats it cannot see
            raise ChatForbidden("Only the agents in this chat and supervisors may comment on it.")
        if client_id is not None:
            # Before the state check: the chat may have ended since the first try.
            stored = ChatComment.objects.filter(
                session=session, author=author, client_id=client_id
            ).first()
            if stored is not None:
                return stored
        if session.status not in OPEN_STATUSES:
            raise InvalidState("Comments are for live chats.", code="chat_not_live")
        # No race to catch here: a resend waits for the session lock above and
        # then finds this row.
        comment = ChatComment.objects.create(
            session=session,
            author=author,
            body=body,
            created_at=timezone.now(),
            client_id=client_id,
        )
        mentioned = resolve_mentions(body, author=author)
        if mentioned:
            comment.mentions.set(mentioned)
        # The agents in the room as the comment commits (one who left or was
        # transferred away is not told; nor a former agent who is no longer
        # staff) and the mentioned staff.
        in_room = selectors.in_room_staff_ids(session.pk)
        broadcasts.comment_posted(
            comment_payload(comment),
            session_id=session.pk,
            title=session.title,
            recipient_ids=dict.fromkeys([*in_room, *(u.pk for u in mentioned if u.is_agent)]),
        )
        return comment


def comments_of(session_id: int) -> QuerySet[ChatComment]:
    """A chat's comments, oldest first (no access check: callers check)."""
    return (
        ChatComment.objects.filter(session_id=session_id)
        .select_related("author")
        .prefetch_related(Prefetch("mentions", queryset=User.objects.order_by("pk")))
        .order_by("created_at", "id")
    )


def comments_for(*, session_id: int, user: User) -> list[ChatComment]:
    """The comments of a chat for someone allowed to read them; anyone else
    gets "not found" (a client must not even learn that comments exist)."""
    if not may_read_comments(user, session_id):
        raise ChatNotFound("That chat does not exist.")
    return list(comments_of(session_id))
