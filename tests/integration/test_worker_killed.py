"""The whole Celery worker killed while it runs a task, as an OOM kill or a
crashed host does (SIGKILL to its process group: no shutdown code runs, so
the task's message stays unacknowledged in Redis), then started again: the
task runs again within a minute of the restart and does its work once.

The transcript task waits at a gate (tests/integration/gate.py) until the
test opens it, so the kill lands while the task runs. The whole process group
is killed: SIGKILL to the worker's main process alone would leave its children
running as orphans (the embedded beat; with the prefork pool, the pool process
that runs the task, which may go on and finish it), which is not what a crash
leaves.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from chat.models import ChatSession, SessionStatus
from tests.integration import gate
from tests.integration.conftest import (
    ChatPeer,
    Stack,
    make_chat_people,
    send_and_wait,
    session_cookie,
    start_chat,
    wait_until,
)
from tickets.models import TicketAttachment, TicketNote

SCENARIO_TIMEOUT = 30  # seconds, for the chat up to its end
RERUN_WITHIN = 60  # seconds after the restart: the "within a minute"
ATTACH_TASK = "chat.tasks.attach_transcript"


async def chat_ended_by_agent(
    stack: Stack, client_cookie: str, agent_cookie: str, ticket_id: int
) -> int:
    client = ChatPeer.on(stack, "daphne", "alice", client_cookie)
    agent = ChatPeer.on(stack, "daphne", "agent", agent_cookie)
    try:
        await client.start()
        await agent.start()
        session_id = await start_chat(client, agent, ticket_id=ticket_id)
        await send_and_wait(client, agent, "The printer is on fire")
        await send_and_wait(agent, client, "Unplug it, please")
        ended = await agent.request({"type": "chat.end", "session_id": session_id})
        assert ended["session"]["status"] == "ended", ended
        return session_id
    finally:
        await client.stop()
        await agent.stop()


def transcripts_of(session_id: int) -> list[TicketAttachment]:
    return list(TicketAttachment.objects.filter(source_key=f"chat-transcript-{session_id}"))


def test_transcript_task_of_a_killed_worker_runs_again_after_the_restart(
    stack_factory, tmp_path: Path
) -> None:
    gate_dir = tmp_path / "gate"
    gate_dir.mkdir()
    maildir = tmp_path / "mail"
    maildir.mkdir()
    stack = stack_factory(
        SWITCHBOARD_CELERY_EAGER="0",
        SWITCHBOARD_IT_GATE_DIR=str(gate_dir),
        SWITCHBOARD_IT_GATE_TASK=ATTACH_TASK,
        SWITCHBOARD_IT_EMAIL_URL=f"filemail:///{maildir}",
    )
    people = make_chat_people()
    session_id = asyncio.run(
        asyncio.wait_for(
            chat_ended_by_agent(
                stack,
                session_cookie(people.client),
                session_cookie(people.agent),
                people.ticket.pk,
            ),
            SCENARIO_TIMEOUT,
        )
    )
    wait_until(
        lambda: len(gate.runs(gate_dir)) == 1,
        timeout=20,
        what="the worker to start attach_transcript (held at the gate)",
    )

    stack.kill_group("celery")
    gate.open_gate(gate_dir)
    assert transcripts_of(session_id) == []
    assert ChatSession.objects.get(pk=session_id).status == SessionStatus.ENDED

    restarted = time.monotonic()
    stack.start_worker()
    wait_until(
        lambda: transcripts_of(session_id),
        timeout=RERUN_WITHIN - (time.monotonic() - restarted),
        interval=0.5,
        what=f"the transcript to be attached within {RERUN_WITHIN} s of the worker's restart",
    )
    wait_until(lambda: list(maildir.iterdir()), timeout=20, what="the transcript email")
    time.sleep(3)  # a second copy handed out with either message would have run by now
    stack.check_alive()

    # The killed run and, after the restart, the same message once more.
    killed, rerun = gate.runs(gate_dir)
    assert rerun == killed
    [transcript] = transcripts_of(session_id)
    assert transcript.ticket_id == people.ticket.pk
    assert transcript.note is not None
    notes = TicketNote.objects.filter(ticket=people.ticket, body__contains="transcript")
    assert notes.count() == 1
    assert len(list(maildir.iterdir())) == 1
