"""Domain events of chat, turned into websocket frames after commit.

Groups: ``user.<id>`` (every socket of one user), ``staff`` (every staff
socket), ``chat.<id>`` (sockets that opened that chat). Who receives what is
decided here, not in the browser. Each function is called inside a service's
transaction and only schedules work for after the commit; the frames are built
then, from committed rows.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction

from accounts.models import User
from chat.models import ChatSession, Message, SessionStatus
from chat.payloads import message_payload, session_payload, user_payload
from chat.realtime import STAFF_GROUP, event, send_many, send_now, user_group


def chat_group(session_id: int) -> str:
    return f"chat.{session_id}"


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


def message_created(message: Message) -> None:
    frame = {"type": "chat.message", "message": message_payload(message)}
    transaction.on_commit(lambda: _send(chat_group(message.session_id), frame))


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


def read_moved(*, session_id: int, user: User, seq: int) -> None:
    frame = {"type": "chat.read", "session_id": session_id, "user_id": user.pk, "seq": seq}
    transaction.on_commit(lambda: _send(chat_group(session_id), frame))


def _frame(frame: dict[str, Any]) -> dict[str, Any]:
    return event(frame["type"], {k: v for k, v in frame.items() if k != "type"})


def _load_many(session_ids: list[int]) -> list[dict[str, Any]]:
    """Payloads for staff of chats a sweep or follow-up changed, with whether
    each client is online (the cards offer Push chat then): a fixed number
    of queries whatever the number of chats."""
    from chat.selectors import online_user_ids

    sessions = list(
        ChatSession.objects.select_related("client", "contact__company", "ticket")
        .prefetch_related("participants__user")
        .filter(pk__in=session_ids)
    )
    online = online_user_ids([s.client_id for s in sessions])
    return [
        session_payload(s, list(s.participants.all()), client_online=s.client_id in online)
        for s in sessions
    ]


def queue_warned(session_ids: list[int]) -> None:
    """Requests waited past the warning: the queue turns red for every agent,
    and available supervisors get a toast."""

    def after_commit() -> None:
        from chat.selectors import available_supervisor_ids

        payloads = _load_many(session_ids)
        frames = [(STAFF_GROUP, {"type": "queue.updated", "session": p}) for p in payloads]
        for supervisor_id in available_supervisor_ids():
            frames.append(
                (user_group(supervisor_id), {"type": "chat.warning", "sessions": payloads})
            )
        _deliver(frames)

    transaction.on_commit(after_commit)


def sessions_swept(messages: list[Message], *, abandoned: bool = False) -> None:
    """A sweep changed these chats and wrote one system line in each."""
    lines = {m.session_id: message_payload(m) for m in messages}

    def after_commit() -> None:
        frames = []
        for payload in _load_many(list(lines)):
            group = chat_group(payload["id"])
            line = lines[payload["id"]]
            frames.append((group, {"type": "chat.message", "message": line}))
            frames.append((group, {"type": "chat.session", "session": payload}))
            staff_type = "queue.abandoned" if abandoned else "queue.updated"
            frames.append((STAFF_GROUP, {"type": staff_type, "session": payload}))
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
