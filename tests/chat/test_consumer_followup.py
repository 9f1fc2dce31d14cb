"""Consumer tests of the follow-up frames: each works for its owner and is
refused (with a stable code, nothing stored) for anyone else."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from asgiref.sync import sync_to_async
from django.utils import timezone

from chat import timers
from chat.models import ChatSession, SessionStatus
from tests.chat.test_consumer_chat import expect_error, make_people, request, start_chat
from tests.realtime.conftest import receive_type, send
from tickets.models import Ticket, TicketNote

pytestmark = pytest.mark.django_db(transaction=True)


@sync_to_async
def nobody_answered() -> None:
    timers.sweep_no_answer(now=timezone.now() + timedelta(seconds=61))


async def waiting_request(connect, people):  # type: ignore[no-untyped-def]
    client_ws = await connect(people["alice"])
    state = await request(client_ws, people["ticket"])
    return client_ws, state["session"]["id"]


async def test_no_answer_notice_reaches_the_client(connect) -> None:
    people = await make_people()
    client_ws, session_id = await waiting_request(connect, people)
    await nobody_answered()
    line = await receive_type(client_ws, "chat.message")
    assert line["message"]["body"] == timers.NO_ANSWER_LINE
    session = (await receive_type(client_ws, "chat.session"))["session"]
    assert session["no_answer_at"] is not None and session["status"] == "waiting"


async def test_keep_waiting(connect) -> None:
    people = await make_people()
    client_ws, session_id = await waiting_request(connect, people)
    await send(client_ws, {"type": "chat.keep_waiting", "session_id": session_id})
    await expect_error(client_ws, "invalid_state")  # not before the notice
    await nobody_answered()
    await send(client_ws, {"type": "chat.keep_waiting", "session_id": session_id})
    state = await receive_type(client_ws, "chat.state")
    assert state["session"]["no_answer_at"] is None


async def test_leave_note_and_refusals(connect) -> None:
    people = await make_people()
    client_ws, session_id = await waiting_request(connect, people)
    await nobody_answered()
    carol_ws = await connect(people["carol"])
    await send(carol_ws, {"type": "chat.leave_note", "session_id": session_id, "body": "x"})
    await expect_error(carol_ws, "not_found")
    await send(client_ws, {"type": "chat.leave_note", "session_id": session_id, "body": " "})
    await expect_error(client_ws, "note_empty")
    await send(client_ws, {"type": "chat.leave_note", "session_id": session_id, "body": "Later"})
    state = await receive_type(client_ws, "chat.state")
    assert state["session"]["status"] == SessionStatus.ABANDONED
    notes = await sync_to_async(list)(TicketNote.objects.values_list("body", flat=True))
    assert notes == ["Later"]


async def test_create_ticket_from_pre_ticket_request(connect) -> None:
    people = await make_people()
    client_ws = await connect(people["alice"])
    await send(client_ws, {"type": "chat.request", "kind": "pre_ticket", "subject": "VPN"})
    session_id = (await receive_type(client_ws, "chat.state"))["session"]["id"]
    await nobody_answered()
    await send(
        client_ws, {"type": "chat.create_ticket", "session_id": session_id, "body": "It drops"}
    )
    state = await receive_type(client_ws, "chat.state")
    ticket = await sync_to_async(Ticket.objects.get)(pk=state["session"]["ticket_id"])
    assert ticket.subject == "VPN" and ticket.description == "It drops"


async def test_callback_with_bad_then_good_phone(connect) -> None:
    people = await make_people()
    client_ws, session_id = await waiting_request(connect, people)
    await nobody_answered()
    agent_ws = await connect(people["agent1"])
    await send(client_ws, {"type": "chat.callback", "session_id": session_id, "phone": "abc"})
    await expect_error(client_ws, "phone_invalid")
    await send(
        client_ws,
        {
            "type": "chat.callback",
            "session_id": session_id,
            "phone": "+44 20 7946 0000",
            "message": "after 2",
        },
    )
    state = await receive_type(client_ws, "chat.state")
    assert state["session"]["status"] == "callback"
    assert state["session"]["callback_phone"] == "+442079460000"
    card = await receive_type(agent_ws, "queue.updated")
    assert card["session"]["status"] == "callback"


async def test_close_followup_by_staff_only(connect) -> None:
    people = await make_people()
    client_ws, session_id = await waiting_request(connect, people)
    await send(client_ws, {"type": "chat.leave", "session_id": session_id})  # abandoned
    await receive_type(client_ws, "chat.left")
    frame = {
        "type": "chat.close_followup",
        "session_id": session_id,
        "outcome": "resolved_email",
        "note": "Emailed",
    }
    await send(client_ws, frame)
    await expect_error(client_ws, "forbidden")
    agent_ws = await connect(people["agent1"])
    await send(agent_ws, {**frame, "outcome": "bogus"})
    await expect_error(agent_ws, "invalid")
    await send(agent_ws, frame)
    state = await receive_type(agent_ws, "chat.state")
    assert (
        state["session"]["status"] == "closed" and state["session"]["outcome"] == "resolved_email"
    )


async def test_client_ends_after_inactivity(connect) -> None:
    people = await make_people()
    client_ws, agent_ws, session_id = await start_chat(connect, people)
    await send(client_ws, {"type": "chat.end", "session_id": session_id})
    await expect_error(client_ws, "end_not_allowed")
    await sync_to_async(ChatSession.objects.filter(pk=session_id).update)(
        last_activity_at=timezone.now() - timedelta(hours=2)
    )
    await send(client_ws, {"type": "chat.end", "session_id": session_id})
    state = await receive_type(client_ws, "chat.state")
    assert state["session"]["status"] == "ended"


async def test_abandoned_card_says_whether_the_client_is_online(connect) -> None:
    people = await make_people()
    client_ws, session_id = await waiting_request(connect, people)
    await send(client_ws, {"type": "chat.leave", "session_id": session_id})
    await receive_type(client_ws, "chat.left")
    agent_ws = await connect(people["agent1"])
    await send(agent_ws, {"type": "chat.snapshot"})
    (card,) = (await receive_type(agent_ws, "chat.snapshot"))["abandoned"]
    assert card["id"] == session_id and card["client_online"] is True
    await client_ws.disconnect()
    await send(agent_ws, {"type": "chat.snapshot"})
    (card,) = (await receive_type(agent_ws, "chat.snapshot"))["abandoned"]
    assert card["client_online"] is False


# --- What a timer sweep sends: chat.swept, relayed as chat.message + chat.session -------


async def frames_until(ws, match: Callable[[dict], bool], after: int = 0) -> list[dict]:  # type: ignore[no-untyped-def]
    """Frames up to and including the first that ``match``es, then ``after`` more."""
    frames = [await ws.receive_json_from(timeout=5)]
    while not match(frames[-1]):
        frames.append(await ws.receive_json_from(timeout=5))
    frames += [await ws.receive_json_from(timeout=5) for _ in range(after)]
    return frames


def inactive_line(frame: dict) -> bool:
    return frame["type"] == "chat.message" and frame["message"]["body"] == timers.INACTIVE_LINE


async def test_swept_chat_reaches_everyone_in_it_as_line_then_session(connect) -> None:
    people = await make_people()
    client_ws, agent_ws, session_id = await start_chat(connect, people)
    await sync_to_async(timers.sweep_inactivity)(now=timezone.now() + timedelta(hours=2))
    # Everyone in the chat gets the two frames the browser knows, the line
    # first and right after it the session; the agent's session manager also
    # gets the staff batch (sent concurrently: before or after those).
    client_frames = await frames_until(client_ws, inactive_line, after=1)
    agent_frames = await frames_until(agent_ws, inactive_line, after=1)
    while not any(f["type"] == "queue.updated" for f in agent_frames):
        agent_frames.append(await agent_ws.receive_json_from(timeout=5))
    for frames in (client_frames, agent_frames):
        at = next(i for i, f in enumerate(frames) if inactive_line(f))
        line, session = frames[at], frames[at + 1]
        assert line["message"]["session_id"] == session_id
        assert session["type"] == "chat.session" and session["session"]["id"] == session_id
        assert session["session"]["inactive_at"] is not None  # End chat is offered
        assert session["session"]["last_seq"] == line["message"]["seq"]
        # The event itself never reaches a browser.
        assert "chat.swept" not in {f["type"] for f in frames}
    (batch,) = [f for f in agent_frames if f["type"] == "queue.updated"]
    assert [s["id"] for s in batch["sessions"]] == [session_id]
    assert await client_ws.receive_nothing(timeout=0.2)


async def test_staff_get_swept_requests_in_one_frame(connect) -> None:
    people = await make_people()
    agent_ws = await connect(people["agent2"])
    client_ws = await connect(people["alice"])
    ids = []
    for subject in ("One", "Two", "Three"):
        await send(client_ws, {"type": "chat.request", "kind": "pre_ticket", "subject": subject})
        ids.append((await receive_type(client_ws, "chat.state"))["session"]["id"])
    await nobody_answered()
    batch = await receive_type(agent_ws, "queue.updated")
    assert sorted(s["id"] for s in batch["sessions"]) == sorted(ids)
    assert all(s["no_answer_at"] and s["status"] == "waiting" for s in batch["sessions"])
    # The client's page hears about each of its requests.
    told = set()
    for _ in ids:
        told.add((await receive_type(client_ws, "chat.session"))["session"]["id"])
    assert told == set(ids)
