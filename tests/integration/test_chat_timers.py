"""The chat timers with the real clock: `celery worker -B` runs the beat sweep
every second against Redis and daphne, with the durations shortened
(SWITCHBOARD_QUEUE_WARNING_SECONDS=2, NO_ANSWER 4, INACTIVITY 4).

1. A request turns red for the agents and the available supervisor is told,
   then the client hears that nobody answered; once the client's page is
   closed the request is abandoned. A crowd of other requests falls due in
   the same ticks, so one sweep sends hundreds of frames at once.
2. A live chat with no message for the inactivity period: the client is
   offered End chat, ends it, and the worker emails the transcript once.
"""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

from django.utils import timezone

from chat import timers
from chat.models import (
    ChatKind,
    ChatSession,
    Message,
    MessageKind,
    Participant,
    ParticipantRole,
    SessionStatus,
)
from tests.integration.conftest import (
    ChatPeer,
    PeerError,
    Stack,
    make_chat_people,
    send_and_wait,
    session_cookie,
    start_chat,
    until,
)
from tests.personas import BOB, SUPERVISOR

SCENARIO_TIMEOUT = 60  # seconds, for everything after the stack is up
CROWD = 120  # other requests due in the same ticks (a chat.swept each at no-answer)
TIMERS = {
    "SWITCHBOARD_CELERY_EAGER": "0",
    "SWITCHBOARD_SWEEP_SECONDS": "1",
    "SWITCHBOARD_QUEUE_WARNING_SECONDS": "2",
    "SWITCHBOARD_NO_ANSWER_SECONDS": "4",
}


def frames_of(peer: ChatPeer, kind: str) -> list[dict[str, Any]]:
    """The frames of ``kind``; a sweep's staff frame (a list of ``sessions``)
    counts as one frame per session."""
    found: list[dict[str, Any]] = []
    for f in peer.frames:
        if f.get("type") != kind:
            continue
        if "sessions" in f:
            found.extend({"type": kind, "session": s} for s in f["sessions"])
        else:
            found.append(f)
    return found


def session_frames(peer: ChatPeer, kind: str, session_id: int) -> list[dict[str, Any]]:
    return [f for f in frames_of(peer, kind) if f["session"]["id"] == session_id]


def make_crowd(count: int) -> list[int]:
    """Waiting requests of another client, due with the one under test; that
    client has no page open, so they are abandoned after the no-answer."""
    bob = BOB.create()
    now = timezone.now()
    crowd = ChatSession.objects.bulk_create(
        ChatSession(
            kind=ChatKind.PRE_TICKET,
            status=SessionStatus.WAITING,
            contact=bob.contact,
            client=bob,
            subject=f"Crowd {i}",
            requested_at=now,
            last_activity_at=now,
            warning_due_at=now + timedelta(seconds=2),
            no_answer_due_at=now + timedelta(seconds=4),
        )
        for i in range(count)
    )
    Participant.objects.bulk_create(
        Participant(session=s, user=bob, role=ParticipantRole.CLIENT, joined_at=now) for s in crowd
    )
    return [s.pk for s in crowd]


# --- 1. Warning, no-answer, abandoned --------------------------------------------------


async def request_until_abandoned(
    stack: Stack, cookies: dict[str, str], ticket_id: int, crowd: list[int]
) -> tuple[ChatPeer, ChatPeer, ChatPeer, int, float]:
    client = ChatPeer.on(stack, "daphne", "alice", cookies["client"])
    agent = ChatPeer.on(stack, "daphne", "agent", cookies["agent"])
    supervisor = ChatPeer.on(stack, "daphne", "supervisor", cookies["supervisor"])
    try:
        for staff in (agent, supervisor):
            await staff.start()
            reply = await staff.request({"type": "presence.set", "status": "available"})
            assert reply["status"] == "available", reply
        await client.start()
        requested = time.monotonic()
        state = await client.request(
            {"type": "chat.request", "kind": "post_ticket", "ticket_id": ticket_id}
        )
        assert state["session"]["status"] == "waiting", state
        assert state["session"]["warned_at"] is None
        session_id = state["session"]["id"]
        client.open_chat(state)

        # 2 s: red in the agent's session manager, before the no-answer ...
        red = await until(
            lambda: [
                f
                for f in session_frames(agent, "queue.updated", session_id)
                if f["session"]["warned_at"]
            ],
            timeout=10,
            what="the agent to see the request turn red (queue.updated with warned_at)",
        )
        red_after = time.monotonic() - requested
        assert red[0]["session"]["status"] == "waiting"
        assert red[0]["session"]["no_answer_at"] is None
        # ... and a toast for the available supervisor.
        await until(
            lambda: any(
                s["id"] == session_id
                for f in supervisor.frames
                if f.get("type") == "chat.warning"
                for s in f["sessions"]
            ),
            timeout=5,
            what="the supervisor's chat.warning",
        )
        # Every request of the crowd turned red in the same sweep(s): one
        # sweep sent them all (more at once than the Redis pool's 100).
        await until(
            lambda: (
                set(crowd)
                <= {
                    f["session"]["id"]
                    for f in frames_of(agent, "queue.updated")
                    if f["session"]["warned_at"]
                }
            ),
            timeout=5,
            what=f"queue.updated for all {len(crowd)} crowd requests",
        )

        # 4 s: the client is told nobody answered and gets its options.
        await until(
            lambda: any(m["body"] == timers.NO_ANSWER_LINE for m in client.messages.values()),
            timeout=10,
            what="the no-answer system line at the client",
        )
        told = await until(
            lambda: [
                f
                for f in session_frames(client, "chat.session", session_id)
                if f["session"]["no_answer_at"]
            ],
            timeout=5,
            what="chat.session with no_answer_at at the client",
        )
        assert told[0]["session"]["status"] == "waiting"  # the client decides what next

        # The client closes the page: after the presence grace the request is
        # abandoned and becomes a follow-up card for the agents.
        await client.stop()
        await until(
            lambda: session_frames(agent, "queue.abandoned", session_id),
            timeout=15,
            what="queue.abandoned for the request once the client left",
        )
        await until(
            lambda: set(crowd) <= {f["session"]["id"] for f in frames_of(agent, "queue.abandoned")},
            timeout=5,
            what=f"queue.abandoned for all {len(crowd)} crowd requests",
        )
        return client, agent, supervisor, session_id, red_after
    finally:
        for peer in (client, agent, supervisor):
            await peer.stop()


def test_request_turns_red_then_no_answer_then_abandoned(stack_factory) -> None:
    stack = stack_factory(**TIMERS, SWITCHBOARD_PRESENCE_GRACE_SECONDS="2")
    people = make_chat_people()
    supervisor = SUPERVISOR.create()
    crowd = make_crowd(CROWD)
    cookies = {
        "client": session_cookie(people.client),
        "agent": session_cookie(people.agent),
        "supervisor": session_cookie(supervisor),
    }
    client, agent, sup, session_id, red_after = asyncio.run(
        asyncio.wait_for(
            request_until_abandoned(stack, cookies, people.ticket.pk, crowd),
            SCENARIO_TIMEOUT,
        )
    )
    stack.check_alive()
    assert "MaxConnectionsError" not in stack.log("celery")
    assert "broadcast failed" not in stack.log("celery")

    session = ChatSession.objects.get(pk=session_id)
    assert session.status == SessionStatus.ABANDONED
    # Not before the deadline, and within a sweep period or two after it.
    assert session.warned_at is not None and session.no_answer_at is not None
    assert session.warned_at - session.requested_at >= timedelta(seconds=2)
    assert session.no_answer_at - session.requested_at >= timedelta(seconds=4)
    assert session.warned_at - session.requested_at < timedelta(seconds=6)
    assert red_after >= 1.5  # the client's clock and the server's agree roughly
    # Each timer acted once, however many ticks passed.
    bodies = list(
        Message.objects.filter(session=session, kind=MessageKind.SYSTEM).values_list(
            "body", flat=True
        )
    )
    assert bodies.count(timers.NO_ANSWER_LINE) == 1
    assert bodies.count(timers.ABANDONED_LINE.format(name=people.client.full_name)) == 1
    assert [m.seq for m in Message.objects.filter(session=session).order_by("seq")] == list(
        range(1, session.last_seq + 1)
    )
    turned_red = [
        f
        for f in session_frames(agent, "queue.updated", session_id)
        if f["session"]["warned_at"] and not f["session"]["no_answer_at"]
    ]
    assert len(turned_red) == 1
    assert len(session_frames(agent, "queue.abandoned", session_id)) == 1
    toasted = [
        s["id"] for f in sup.frames if f.get("type") == "chat.warning" for s in f["sessions"]
    ]
    assert sorted(toasted) == sorted([session_id, *crowd])  # each request once
    assert ChatSession.objects.filter(pk__in=crowd, status=SessionStatus.ABANDONED).count() == CROWD


# --- 2. Inactivity, End chat, transcript email -------------------------------------------


async def quiet_chat_ended_by_client(
    stack: Stack, client_cookie: str, agent_cookie: str, ticket_id: int, maildir: Path
) -> tuple[ChatPeer, ChatPeer, int]:
    client = ChatPeer.on(stack, "daphne", "alice", client_cookie)
    agent = ChatPeer.on(stack, "daphne", "agent", agent_cookie)
    try:
        await client.start()
        await agent.start()
        session_id = await start_chat(client, agent, ticket_id=ticket_id)

        # A live chat: the engineer ends it, not the client.
        try:
            await client.request({"type": "chat.end", "session_id": session_id})
            raise AssertionError("the client ended a live chat")
        except PeerError as error:
            assert error.code == "end_not_allowed", error
        await asyncio.sleep(1)
        await send_and_wait(agent, client, "Still there?")  # restarts the clock

        # 4 s without a message: the client may end the chat.
        inactive = await until(
            lambda: [
                f
                for f in session_frames(client, "chat.session", session_id)
                if f["session"]["inactive_at"]
            ],
            timeout=10,
            what="chat.session with inactive_at at the client",
        )
        assert inactive[0]["session"]["status"] == "active"
        assert any(m["body"] == timers.INACTIVE_LINE for m in client.messages.values())

        ended = await client.request({"type": "chat.end", "session_id": session_id})
        assert ended["type"] == "chat.state" and ended["session"]["status"] == "ended", ended
        await until(
            lambda: (
                session_frames(agent, "chat.session", session_id)
                and session_frames(agent, "chat.session", session_id)[-1]["session"]["status"]
                == "ended"
            ),
            timeout=5,
            what="the agent to hear that the chat ended",
        )
        # Ending again is refused, and sends nothing more.
        try:
            await client.request({"type": "chat.end", "session_id": session_id})
            raise AssertionError("a chat was ended twice")
        except PeerError as error:
            assert error.code == "invalid_state", error

        await until(
            lambda: list(maildir.iterdir()),
            timeout=20,
            what="the transcript email from the worker",
        )
        # Several more beats, a late retry would show up by now.
        await asyncio.sleep(3)
        return client, agent, session_id
    finally:
        await client.stop()
        await agent.stop()


def test_inactive_chat_client_ends_it_and_gets_one_transcript_email(
    stack_factory, tmp_path: Path
) -> None:
    maildir = tmp_path / "mail"
    maildir.mkdir()
    stack = stack_factory(
        **TIMERS,
        SWITCHBOARD_INACTIVITY_SECONDS="4",
        # Four slashes: an absolute path for django-environ's filemail://.
        SWITCHBOARD_IT_EMAIL_URL=f"filemail:///{maildir}",
    )
    people = make_chat_people()
    _, _, session_id = asyncio.run(
        asyncio.wait_for(
            quiet_chat_ended_by_client(
                stack,
                session_cookie(people.client),
                session_cookie(people.agent),
                people.ticket.pk,
                maildir,
            ),
            SCENARIO_TIMEOUT,
        )
    )
    stack.check_alive()

    session = ChatSession.objects.get(pk=session_id)
    assert session.status == SessionStatus.ENDED
    assert session.ended_by_id == people.client.pk
    assert session.transcript_emailed_at is not None
    # Flagged once, no earlier than 4 s after the last message (which reset
    # the clock; on a very slow machine the sweep may have flagged the chat
    # before it too, and the message cleared that).
    last_text = Message.objects.filter(session=session, kind=MessageKind.TEXT).latest("seq")
    assert session.inactive_at is not None
    assert session.inactive_at - last_text.created_at >= timedelta(seconds=4)
    after = Message.objects.filter(session=session, seq__gt=last_text.seq)
    assert after.filter(kind=MessageKind.SYSTEM, body=timers.INACTIVE_LINE).count() == 1
    mails = list(maildir.iterdir())
    assert len(mails) == 1, mails
    text = mails[0].read_text(errors="replace")
    assert "alice@acme.example" in text
    assert "Transcript of your chat" in text
    assert "Still there?" in text
