"""Who hears what of a chat (and of a ticket, which staff consoles show): each
function turns one change, already read by the service that made it, into
websocket frames and sends them once the service's transaction commits
(realtime.broadcast), so nobody hears of a change that rolled back. Nothing
here reads the database or starts work: the services pass in the payloads
(chat.payloads, read through chat.selectors; tickets.events) and the people
to tell.

Groups: ``user.<id>`` (every socket of one user), ``chat.<id>`` (sockets
that opened that chat: its client and the agents in its room, and supervisors
watching), ``chat.<id>.staff`` (supervisors watching it: staff only, never a
client's socket), and the session managers that list a chat: its queue's
``queue.<id>`` (the members) and ``queue.all`` (the supervisors), or
``staff`` (every staff socket) for a chat of no queue (chat.queues.audience).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.db import transaction

from accounts.models import User
from chat.models import Message
from chat.payloads import message_payload, user_payload
from chat.queues import audience
from realtime.broadcast import EXCEPT_CHANNEL_KEY, event, send_many, send_now
from realtime.groups import STAFF_GROUP, user_group

Frame = dict[str, Any]
Frames = list[tuple[str, Frame]]


def chat_group(session_id: int) -> str:
    return f"chat.{session_id}"


def session_of_chat_group(group: str) -> int | None:
    """The session id of a :func:`chat_group` name; None for any other group
    (``chat.<id>.staff`` included)."""
    prefix, _, rest = group.partition(".")
    if prefix == "chat" and rest.isascii() and rest.isdigit():
        return int(rest)
    return None


def chat_staff_group(session_id: int) -> str:
    """Supervisors watching a chat (chat.watch). Staff only: comments and page
    views go here, never to chat_group, which the client's sockets are in."""
    return f"chat.{session_id}.staff"


def _deliver(frames: Frames) -> None:
    """The one way frames leave this module (called from on_commit callbacks
    only): ``(group, {"type": ..., ...})`` pairs, sent together, in order."""
    messages = [(group, event(frame["type"], _body(frame))) for group, frame in frames]
    if len(messages) == 1:
        send_now(*messages[0])
    elif messages:
        send_many(messages)


def _body(frame: Frame) -> Frame:
    return {key: value for key, value in frame.items() if key != "type"}


def _on_commit(frames: Frames) -> None:
    transaction.on_commit(lambda: _deliver(frames))


def _subscribe(user_id: int, session_id: int) -> tuple[str, Frame]:
    """Asks every socket of a user to join a chat's group. The consumer checks
    access again before it does, then tells its browser, which syncs by seq."""
    return user_group(user_id), {"type": "chat.subscribe", "session_id": session_id}


def _unsubscribe(user_id: int, session_id: int) -> tuple[str, Frame]:
    return user_group(user_id), {"type": "chat.unsubscribe", "session_id": session_id}


def _session(payload: Frame) -> tuple[str, Frame]:
    return chat_group(payload["id"]), {"type": "chat.session", "session": payload}


def _managers(frame: Frame, *earlier_queue_ids: int | None) -> Frames:
    """``frame`` (``queue.*`` with its ``session``) to the session managers
    that list the chat: the people of its queue (chat.queues.audience), and
    of the queue a transfer took it from (their consoles drop it)."""
    return [(group, frame) for group in audience(frame["session"]["queue_id"], *earlier_queue_ids)]


def _managers_batched(frame_type: str, payloads: list[Frame]) -> Frames:
    """Many chats (a sweep's) to the session managers that list them: each
    group gets the chats of its queue, in frames of a list of ``sessions``."""
    by_group: dict[str, list[Frame]] = {}
    for payload in payloads:
        for group in audience(payload["queue_id"]):
            by_group.setdefault(group, []).append(payload)
    return [
        (group, {"type": frame_type, "sessions": batch})
        for group, sessions in by_group.items()
        for batch in _batches(sessions)
    ]


# --- Messages and the room ---------------------------------------------------------


def message_created(message: Message, *, except_channel: str | None = None) -> Frame:
    """A stored message, to the chat's group. ``except_channel``: the socket
    that sent it, which has it in its ack. Returns the message's payload (the
    ack reuses it)."""
    payload = message_payload(message)
    frame: Frame = {"type": "chat.message", "message": payload}
    if except_channel is not None:
        frame[EXCEPT_CHANNEL_KEY] = except_channel
    _on_commit([(chat_group(message.session_id), frame)])
    return payload


def delivery_changed(*, session_id: int, seq: int, delivery: Frame) -> None:
    """How far a message sent to an SMS/WhatsApp client got
    (chat.channels.delivery): the room's windows move its tick."""
    frame = {"type": "chat.delivery", "session_id": session_id, "seq": seq, "delivery": delivery}
    _on_commit([(chat_group(session_id), frame)])


def session_changed(payload: Frame) -> None:
    _on_commit([_session(payload)])


def read_moved(
    *, session_id: int, user: User, seq: int, side: str = "", read_at: datetime | None = None
) -> None:
    """A read marker moved. ``side`` (client/agent) and ``read_at`` let the
    browser stamp the other side's messages up to ``seq`` (``read_at`` is
    None when no message was newly read)."""
    frame = {
        "type": "chat.read",
        "session_id": session_id,
        "user_id": user.pk,
        "seq": seq,
        "side": side,
        "read_at": read_at.isoformat() if read_at else None,
    }
    _on_commit([(chat_group(session_id), frame)])


def typing_started(*, session_id: int, user: User) -> None:
    """Someone in the chat is typing: to the chat's group, not stored; the
    typist's own sockets drop it (hook in chat.frames.chats)."""
    frame = {"type": "chat.typing", "session_id": session_id, "user": user_payload(user)}
    _on_commit([(chat_group(session_id), frame)])


# --- The lifecycle -----------------------------------------------------------------


def session_requested(payload: Frame, *, paged_agent_ids: Iterable[int]) -> None:
    """A new request: its client's sockets follow it, the session managers of
    its queue list it, and the agents paged for it (available members of its
    queue) get the toast."""
    frames: Frames = [
        _subscribe(payload["client"]["id"], payload["id"]),
        *_managers({"type": "queue.added", "session": payload}),
    ]
    frames += [
        (user_group(agent_id), {"type": "chat.incoming", "session": payload})
        for agent_id in paged_agent_ids
    ]
    _on_commit(frames)


def session_outside_hours(payload: Frame) -> None:
    """A request while closed: the client hears so, the agents of its queue
    get a follow-up card, nobody is paged."""
    _on_commit(
        [
            _subscribe(payload["client"]["id"], payload["id"]),
            *_managers({"type": "queue.abandoned", "session": payload}),
        ]
    )


def session_answered(payload: Frame, *, agent: User) -> None:
    _on_commit(
        [
            _session(payload),
            _subscribe(agent.pk, payload["id"]),
            *_managers(
                {"type": "queue.taken", "session": payload, "taken_by": user_payload(agent)}
            ),
        ]
    )


def session_ended(payload: Frame) -> None:
    _on_commit([_session(payload), *_managers({"type": "queue.ended", "session": payload})])


def session_left(payload: Frame, *, user_id: int) -> None:
    """``user_id`` left the room. The leaver's own sockets get the final state
    although they leave the group."""
    frames: Frames = [
        _session(payload),
        _unsubscribe(user_id, payload["id"]),
        (user_group(user_id), {"type": "chat.session", "session": payload}),
    ]
    if payload["status"] == "abandoned":
        frames += _managers({"type": "queue.abandoned", "session": payload})
    _on_commit(frames)


def session_invited(payload: Frame, *, agent_id: int) -> None:
    """An agent pushed a chat: the client gets the dialog, the agent's sockets
    follow the chat."""
    _on_commit(
        [
            _subscribe(agent_id, payload["id"]),
            (user_group(payload["client"]["id"]), {"type": "chat.invited", "session": payload}),
            (user_group(agent_id), {"type": "chat.session", "session": payload}),
        ]
    )


def session_reached_out(payload: Frame, *, agent_id: int) -> None:
    """An agent messaged a client who had left (chat.reach_out): the agent's
    sockets follow the new chat, every session manager sees it."""
    _on_commit(
        [
            _subscribe(agent_id, payload["id"]),
            (user_group(agent_id), {"type": "chat.session", "session": payload}),
            (STAFF_GROUP, {"type": "queue.updated", "session": payload}),
        ]
    )


def push_answered(payload: Frame, *, accepted: bool) -> None:
    client_id = payload["client"]["id"]
    frames: Frames = [_subscribe(client_id, payload["id"])] if accepted else []
    frames += [
        _session(payload),
        (user_group(client_id), {"type": "chat.session", "session": payload}),
        *_managers({"type": "queue.updated" if accepted else "queue.ended", "session": payload}),
    ]
    _on_commit(frames)


def follow_up_changed(payload: Frame) -> None:
    """A follow-up moved on (note left, ticket created, callback asked, card
    closed): the chat and the session managers of its queue show the new
    state."""
    _on_commit([_session(payload), *_managers({"type": "queue.updated", "session": payload})])


# --- The timer sweeps ----------------------------------------------------------------

# A sweep tells the staff about its chats in frames of at most this many
# sessions: one frame rather than one per chat (a thousand group sends, and
# more than a staff socket's channel capacity after a long outage), yet no
# single frame of megabytes.
SWEEP_FRAME_SESSIONS = 200


def _batches(payloads: list[Frame]) -> list[list[Frame]]:
    return [
        payloads[start : start + SWEEP_FRAME_SESSIONS]
        for start in range(0, len(payloads), SWEEP_FRAME_SESSIONS)
    ]


def queue_warned(payloads: list[Frame], *, supervisor_ids: Iterable[int]) -> None:
    """Requests waited past the warning: they turn red for the agents of their
    queues (``queue.updated`` with a list of ``sessions``), and available
    supervisors get a toast (``chat.warning``)."""
    batches = _batches(payloads)
    frames = _managers_batched("queue.updated", payloads)
    for supervisor_id in supervisor_ids:
        group = user_group(supervisor_id)
        frames += [(group, {"type": "chat.warning", "sessions": b}) for b in batches]
    _on_commit(frames)


def sessions_swept(lines: list[Message], payloads: list[Frame], *, abandoned: bool) -> None:
    """A sweep changed these chats and wrote one system line in each.

    Per chat one ``chat.swept`` event carrying the line and the session: the
    consumer relays it as the ``chat.message`` and ``chat.session`` frames the
    browser knows (one group send per chat instead of two). The session
    managers get the changed sessions of their queues in batches:
    ``queue.updated`` (``queue.abandoned`` when the sweep abandoned them) with
    a list of ``sessions``."""
    line_of = {line.session_id: message_payload(line) for line in lines}
    frames: Frames = [
        (
            chat_group(payload["id"]),
            {"type": "chat.swept", "message": line_of[payload["id"]], "session": payload},
        )
        for payload in payloads
    ]
    staff_type = "queue.abandoned" if abandoned else "queue.updated"
    frames += _managers_batched(staff_type, payloads)
    _on_commit(frames)


# --- Agent tools ---------------------------------------------------------------------


def agent_invited(payload: Frame, *, invitee_id: int, inviter: User) -> None:
    """An agent was invited into a live chat: every socket of the invitee is
    told (toast, sound, notification); it joins with chat.join."""
    frame = {"type": "chat.invitation", "session": payload, "invited_by": user_payload(inviter)}
    _on_commit([(user_group(invitee_id), frame)])


def invitation_accepted(payload: Frame, *, agent_id: int) -> None:
    """An invited agent joined: the room sees the new participant, the agent's
    sockets subscribe, the session managers of its queue move the chat."""
    _on_commit(
        [
            _session(payload),
            _subscribe(agent_id, payload["id"]),
            *_managers({"type": "queue.updated", "session": payload}),
        ]
    )


def session_transferred(
    payload: Frame,
    *,
    to_agent_id: int,
    left_ids: list[int],
    by: User,
    reason: str,
    from_queue_id: int | None,
) -> None:
    """A chat moved to another agent (Transfer or a supervisor's Assign). The
    new agent is told by whom and why (staff only: the client's group hears
    the session change and the system line, never the reason); the agents who
    handed it over leave the chat's group, their sockets getting the final
    state first. The session managers of its queue hear of it, and those of
    ``from_queue_id`` when it moved to another queue (they drop it)."""
    session_id = payload["id"]
    transferred = {
        "type": "chat.transferred",
        "session": payload,
        "by": user_payload(by),
        "reason": reason,
    }
    frames: Frames = [
        _subscribe(to_agent_id, session_id),
        _session(payload),
        (user_group(to_agent_id), transferred),
        *_managers({"type": "queue.updated", "session": payload}, from_queue_id),
    ]
    frames += [
        (user_group(user_id), {"type": "chat.session", "session": payload}) for user_id in left_ids
    ]
    frames += [_unsubscribe(user_id, session_id) for user_id in left_ids]
    _on_commit(frames)


# --- Staff only ----------------------------------------------------------------------


def comment_posted(
    comment: Frame, *, session_id: int, title: str, recipient_ids: Iterable[int]
) -> None:
    """A staff-only comment (chat.supervision): to the supervisors watching
    the chat and, by their own groups, to ``recipient_ids`` (the agents in its
    room and everyone mentioned). Never to chat_group: the client is in it."""
    frame = {"type": "chat.comment", "session_id": session_id, "title": title, "comment": comment}
    groups = [chat_staff_group(session_id), *(user_group(uid) for uid in recipient_ids)]
    _on_commit([(group, frame) for group in groups])


def page_viewed(page_view: Frame, *, session_id: int, in_room_agent_ids: Iterable[int]) -> None:
    """A client's page view (chat.visitors): staff only, like a comment: to
    the supervisors watching the chat and the agents in its room, never to
    chat_group, which the client's sockets are in."""
    frame = {"type": "chat.page_viewed", "session_id": session_id, "page_view": page_view}
    groups = [chat_staff_group(session_id), *(user_group(uid) for uid in in_room_agent_ids)]
    _on_commit([(group, frame) for group in groups])


# --- Queues ----------------------------------------------------------------------------


def queues_changed(*, user_ids: Iterable[int] | None) -> None:
    """Who is in a queue changed (chat.queue_members): the sockets of these
    users re-read their queue groups and their consoles reload the Chats
    panel. Every staff socket when ``user_ids`` is None (a queue was deleted:
    its requests are every agent's now)."""
    groups = [STAFF_GROUP] if user_ids is None else [user_group(uid) for uid in user_ids]
    _on_commit([(group, {"type": "chat.queues_changed"}) for group in groups])


# --- Tickets --------------------------------------------------------------------------


def ticket_changed(
    sender: object,
    *,
    change: str,
    ticket: Frame,
    previous_status: str | None,
    time_entry: Frame | None,
    **kwargs: Any,
) -> None:
    """A ticket write (tickets.events.ticket_changed, connected in chat/apps.py):
    every staff console updates its ticket list, the ticket's page and its
    Time card. Staff only: the payload carries internal fields (the assignee,
    time logged)."""
    frame: Frame = {
        "type": "ticket.changed",
        "change": change,
        "ticket": ticket,
        "previous_status": previous_status,
        "time_entry": time_entry,
    }
    _on_commit([(STAFF_GROUP, frame)])
