"""Domain events of chat, turned into websocket frames after commit.

Groups: ``user.<id>`` (every socket of one user), ``staff`` (every staff
socket), ``chat.<id>`` (sockets that opened that chat). Who receives what is
decided here, not in the browser. Each function is called inside a service's
transaction and only schedules work for after the commit; the frames are built
then, from committed rows.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import transaction

from accounts.models import User
from chat.models import ChatSession, Message, Participant, SessionStatus
from chat.payloads import (
    PARTICIPANT_ROW_FIELDS,
    SESSION_ROW_FIELDS,
    message_payload,
    participant_payload_from_row,
    session_payload,
    session_payload_from_row,
    user_payload,
)
from chat.realtime import (
    EXCEPT_CHANNEL_KEY,
    STAFF_GROUP,
    event,
    send_many,
    send_now,
    user_group,
)


def chat_group(session_id: int) -> str:
    return f"chat.{session_id}"


def chat_staff_group(session_id: int) -> str:
    """Supervisors watching a chat (chat.watch). Staff only: comments go here,
    never to chat_group, which the client's sockets are in."""
    return f"chat.{session_id}.staff"


def _deliver(frames: list[tuple[str, dict[str, Any]]]) -> None:
    """The one way frames leave this module (called from on_commit callbacks
    only): ``(group, {"type": ..., ...})`` pairs, sent together."""
    messages = [(group, _frame(frame)) for group, frame in frames]
    if len(messages) == 1:
        send_now(*messages[0])
    elif messages:
        send_many(messages)


def _send(group: str, frame: dict[str, Any]) -> None:
    _deliver([(group, frame)])


def _subscribe(user_id: int, session_id: int) -> None:
    """Ask every socket of a user to join a chat's group. The consumer checks
    access again before it does, then tells its browser, which syncs by seq."""
    _send(user_group(user_id), {"type": "chat.subscribe", "session_id": session_id})


def _unsubscribe(user_id: int, session_id: int) -> None:
    _send(user_group(user_id), {"type": "chat.unsubscribe", "session_id": session_id})


def _load(session_id: int) -> tuple[ChatSession, dict[str, Any]]:
    session = ChatSession.objects.select_related("client", "contact__company", "ticket").get(
        pk=session_id
    )
    return session, session_payload(session)


def _broadcast_session(session_id: int) -> dict[str, Any]:
    _, payload = _load(session_id)
    _send(chat_group(session_id), {"type": "chat.session", "session": payload})
    return payload


def message_created(message: Message, *, except_channel: str | None = None) -> dict[str, Any]:
    """``except_channel``: the socket that sent it, which has it in its ack.
    Returns the message's payload (the ack reuses it)."""
    payload = message_payload(message)
    frame: dict[str, Any] = {"type": "chat.message", "message": payload}
    if except_channel is not None:
        frame[EXCEPT_CHANNEL_KEY] = except_channel
    transaction.on_commit(lambda: _send(chat_group(message.session_id), frame))
    return payload


def session_changed(session_id: int) -> None:
    transaction.on_commit(lambda: _broadcast_session(session_id))


def session_requested(session: ChatSession) -> None:
    session_id, client_id = session.pk, session.client_id

    def after_commit() -> None:
        from chat.selectors import available_agent_ids

        _subscribe(client_id, session_id)
        _, payload = _load(session_id)
        _send(STAFF_GROUP, {"type": "queue.added", "session": payload})
        # Only available members of the request's queue are paged.
        for agent_id in available_agent_ids(queue_id=payload["queue_id"]):
            _send(user_group(agent_id), {"type": "chat.incoming", "session": payload})

    transaction.on_commit(after_commit)


def session_answered(session: ChatSession, agent: User) -> None:
    session_id, agent_id = session.pk, agent.pk
    taken_by = user_payload(agent)

    def after_commit() -> None:
        payload = _broadcast_session(session_id)
        _subscribe(agent_id, session_id)
        _send(STAFF_GROUP, {"type": "queue.taken", "session": payload, "taken_by": taken_by})

    transaction.on_commit(after_commit)


def session_ended(session: ChatSession) -> None:
    session_id, has_ticket = session.pk, session.ticket_id is not None

    def after_commit() -> None:
        from chat import tasks

        payload = _broadcast_session(session_id)
        _send(STAFF_GROUP, {"type": "queue.ended", "session": payload})
        if has_ticket:
            tasks.attach_transcript.delay(session_id)
        tasks.email_transcript.delay(session_id)

    transaction.on_commit(after_commit)


def session_left(session: ChatSession, user: User) -> None:
    session_id, user_id, status = session.pk, user.pk, session.status

    def after_commit() -> None:
        payload = _broadcast_session(session_id)
        _unsubscribe(user_id, session_id)
        # The leaver's own sockets get the final state even though they left the group.
        _send(user_group(user_id), {"type": "chat.session", "session": payload})
        if status == SessionStatus.ABANDONED:
            _send(STAFF_GROUP, {"type": "queue.abandoned", "session": payload})

    transaction.on_commit(after_commit)


def session_invited(session: ChatSession, agent: User) -> None:
    session_id, client_id, agent_id = session.pk, session.client_id, agent.pk

    def after_commit() -> None:
        _, payload = _load(session_id)
        _subscribe(agent_id, session_id)
        _send(user_group(client_id), {"type": "chat.invited", "session": payload})
        _send(user_group(agent_id), {"type": "chat.session", "session": payload})

    transaction.on_commit(after_commit)


def push_answered(session: ChatSession, *, accepted: bool) -> None:
    session_id, client_id = session.pk, session.client_id

    def after_commit() -> None:
        if accepted:
            _subscribe(client_id, session_id)
        payload = _broadcast_session(session_id)
        _send(user_group(client_id), {"type": "chat.session", "session": payload})
        _send(
            STAFF_GROUP,
            {"type": "queue.ended" if not accepted else "queue.updated", "session": payload},
        )

    transaction.on_commit(after_commit)


def read_moved(
    *, session_id: int, user: User, seq: int, side: str = "", read_at: datetime | None = None
) -> None:
    """A read marker moved. ``side`` (client/agent) and ``read_at`` let the
    browser stamp the other side's messages up to ``seq`` as chat.receipts did
    (``read_at`` is None when no message was newly read)."""
    frame = {
        "type": "chat.read",
        "session_id": session_id,
        "user_id": user.pk,
        "seq": seq,
        "side": side,
        "read_at": read_at.isoformat() if read_at else None,
    }
    transaction.on_commit(lambda: _send(chat_group(session_id), frame))


def typing_started(*, session_id: int, user: User) -> None:
    """Someone in the chat is typing: to the chat's group, not stored; the
    typist's own sockets drop it (hook in chat.socket_frames)."""
    frame = {"type": "chat.typing", "session_id": session_id, "user": user_payload(user)}
    transaction.on_commit(lambda: _send(chat_group(session_id), frame))


def _frame(frame: dict[str, Any]) -> dict[str, Any]:
    return event(frame["type"], {k: v for k, v in frame.items() if k != "type"})


def _load_many(session_ids: list[int]) -> list[dict[str, Any]]:
    """Payloads for staff of chats a sweep or follow-up changed, with whether
    each client is online (the cards offer Push chat then): three queries
    whatever the number of chats, and built from ``.values()`` rows rather
    than model instances (a sweep of a thousand chats spent most of its time
    instantiating sessions, users and participants)."""
    from chat.selectors import online_user_ids

    rows = list(ChatSession.objects.filter(pk__in=session_ids).values(*SESSION_ROW_FIELDS))
    participants: dict[int, list[dict[str, Any]]] = {row["id"]: [] for row in rows}
    for row in (
        Participant.objects.filter(session_id__in=session_ids)
        .order_by("joined_at", "id")
        .values(*PARTICIPANT_ROW_FIELDS)
    ):
        participants[row["session_id"]].append(participant_payload_from_row(row))
    online = online_user_ids([row["client_id"] for row in rows])
    return [
        session_payload_from_row(
            row, participants[row["id"]], client_online=row["client_id"] in online
        )
        for row in rows
    ]


# A sweep tells the staff about its chats in frames of at most this many
# sessions: one frame rather than one per chat (a thousand group sends, and
# more than a staff socket's channel capacity after a long outage), yet no
# single frame of megabytes.
SWEEP_FRAME_SESSIONS = 200


def _batches(payloads: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    return [
        payloads[start : start + SWEEP_FRAME_SESSIONS]
        for start in range(0, len(payloads), SWEEP_FRAME_SESSIONS)
    ]


def queue_warned(session_ids: list[int]) -> None:
    """Requests waited past the warning: the queue turns red for every agent
    (``queue.updated`` with a list of ``sessions``), and available supervisors
    get a toast (``chat.warning``)."""

    def after_commit() -> None:
        from chat.selectors import available_supervisor_ids

        batches = _batches(_load_many(session_ids))
        frames = [(STAFF_GROUP, {"type": "queue.updated", "sessions": b}) for b in batches]
        for supervisor_id in available_supervisor_ids():
            group = user_group(supervisor_id)
            frames.extend((group, {"type": "chat.warning", "sessions": b}) for b in batches)
        _deliver(frames)

    transaction.on_commit(after_commit)


def sessions_swept(messages: list[Message], *, abandoned: bool = False) -> None:
    """A sweep changed these chats and wrote one system line in each.

    Per chat one ``chat.swept`` event carrying the line and the session: the
    consumer relays it as the ``chat.message`` and ``chat.session`` frames the
    browser knows (one group send per chat instead of two). The staff get the
    changed sessions in batches: ``queue.updated`` (``queue.abandoned`` when
    the sweep abandoned them) with a list of ``sessions``."""
    lines = {m.session_id: message_payload(m) for m in messages}

    def after_commit() -> None:
        payloads = _load_many(list(lines))
        frames: list[tuple[str, dict[str, Any]]] = [
            (
                chat_group(payload["id"]),
                {"type": "chat.swept", "message": lines[payload["id"]], "session": payload},
            )
            for payload in payloads
        ]
        staff_type = "queue.abandoned" if abandoned else "queue.updated"
        frames.extend(
            (STAFF_GROUP, {"type": staff_type, "sessions": batch}) for batch in _batches(payloads)
        )
        _deliver(frames)

    transaction.on_commit(after_commit)


def session_outside_hours(session: ChatSession) -> None:
    """A request while closed: the client hears so, agents get a follow-up
    card, nobody is paged."""
    session_id, client_id = session.pk, session.client_id

    def after_commit() -> None:
        _subscribe(client_id, session_id)
        (payload,) = _load_many([session_id])
        _send(STAFF_GROUP, {"type": "queue.abandoned", "session": payload})

    transaction.on_commit(after_commit)


def follow_up_changed(session: ChatSession) -> None:
    """A follow-up moved on (note left, ticket created, callback asked, card
    closed): the chat and every session manager show the new state."""
    session_id = session.pk

    def after_commit() -> None:
        (payload,) = _load_many([session_id])
        _deliver(
            [
                (chat_group(session_id), {"type": "chat.session", "session": payload}),
                (STAFF_GROUP, {"type": "queue.updated", "session": payload}),
            ]
        )

    transaction.on_commit(after_commit)


def agent_invited(session: ChatSession, *, invitee: User, inviter: User) -> None:
    """An agent was invited into a live chat: every socket of the invitee is
    told (toast, sound, notification); it joins with chat.join."""
    session_id, invitee_id = session.pk, invitee.pk
    invited_by = user_payload(inviter)

    def after_commit() -> None:
        _, payload = _load(session_id)
        _send(
            user_group(invitee_id),
            {"type": "chat.invitation", "session": payload, "invited_by": invited_by},
        )

    transaction.on_commit(after_commit)


def invitation_accepted(session: ChatSession, agent: User) -> None:
    """An invited agent joined: the room sees the new participant, the agent's
    sockets subscribe, session managers move the chat."""
    session_id, agent_id = session.pk, agent.pk

    def after_commit() -> None:
        payload = _broadcast_session(session_id)
        _subscribe(agent_id, session_id)
        _send(STAFF_GROUP, {"type": "queue.updated", "session": payload})

    transaction.on_commit(after_commit)


def session_transferred(
    session: ChatSession, *, to_agent: User, left_ids: list[int], by: User, reason: str
) -> None:
    """A chat moved to ``to_agent`` (Transfer or a supervisor's Assign). The
    new agent is told by whom and why (staff only: the client's group hears
    the session change and the system line, never the reason); the agents who
    handed it over leave the chat's group."""
    session_id, to_id = session.pk, to_agent.pk
    by_payload = user_payload(by)

    def after_commit() -> None:
        _subscribe(to_id, session_id)
        payload = _broadcast_session(session_id)
        frames: list[tuple[str, dict[str, Any]]] = [
            (
                user_group(to_id),
                {
                    "type": "chat.transferred",
                    "session": payload,
                    "by": by_payload,
                    "reason": reason,
                },
            ),
            (STAFF_GROUP, {"type": "queue.updated", "session": payload}),
        ]
        # The leavers' sockets get the final state although they leave the group.
        frames += [
            (user_group(uid), {"type": "chat.session", "session": payload}) for uid in left_ids
        ]
        _deliver(frames)
        for user_id in left_ids:
            _unsubscribe(user_id, session_id)

    transaction.on_commit(after_commit)


def comment_posted(comment: Any, *, title: str, mentioned: list[User]) -> None:
    """A staff-only comment (chat.supervision): to the supervisors watching
    the chat, to the agents in its room and to everyone mentioned, each by
    staff-only groups. Never to chat_group (the client is in it). Who is in
    the room is read after the commit, so an agent who left or was
    transferred away is not told."""
    session_id, comment_id = comment.session_id, comment.pk
    mentioned_ids = [u.pk for u in mentioned if u.is_agent]

    def after_commit() -> None:
        from accounts.models import STAFF_ROLES
        from chat.models import ChatComment, ParticipantRole
        from chat.supervision import comment_payload

        stored = ChatComment.objects.select_related("author").filter(pk=comment_id).first()
        if stored is None:  # pragma: no cover - deleted in between
            return
        frame = {
            "type": "chat.comment",
            "session_id": session_id,
            "title": title,
            "comment": comment_payload(stored),
        }
        in_room = Participant.objects.filter(
            session_id=session_id,
            role=ParticipantRole.AGENT,
            left_at__isnull=True,
            user__role__in=STAFF_ROLES,
        ).values_list("user_id", flat=True)
        groups = [chat_staff_group(session_id)]
        for user_id in dict.fromkeys([*in_room, *mentioned_ids]):
            groups.append(user_group(user_id))
        _deliver([(group, frame) for group in groups])

    transaction.on_commit(after_commit)


def page_viewed(view: Any, *, client: User) -> None:
    """A client's page view (chat.visitors): staff only, like a comment: to
    the supervisors watching the chat and the agents in its room (read after
    the commit), never to chat_group, which the client's sockets are in."""
    session_id, view_id = view.session_id, view.pk

    def after_commit() -> None:
        from accounts.models import STAFF_ROLES
        from chat.models import PageView, ParticipantRole
        from chat.visitors import page_view_payload

        stored = PageView.objects.filter(pk=view_id).first()
        if stored is None:  # pragma: no cover - deleted in between
            return
        frame = {
            "type": "chat.page_viewed",
            "session_id": session_id,
            "page_view": page_view_payload(stored, client),
        }
        in_room = Participant.objects.filter(
            session_id=session_id,
            role=ParticipantRole.AGENT,
            left_at__isnull=True,
            user__role__in=STAFF_ROLES,
        ).values_list("user_id", flat=True)
        groups = [chat_staff_group(session_id), *(user_group(uid) for uid in in_room)]
        _deliver([(group, frame) for group in groups])

    transaction.on_commit(after_commit)
