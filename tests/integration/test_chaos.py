"""Chaos: 20 chats talk steadily while the processes under them fail.

Two daphne processes, a Celery worker with beat, the test database and a
Redis server the test controls. Forty peers (a client and an agent per chat,
on different daphnes) send steadily the way the browser does (outbox, resend
with the same client_id, replay by seq), while the test:

1. restarts Redis (empty: no persistence);
2. kills one daphne with -9 and starts it again on the same port;
3. pauses Redis for 5 s (SIGSTOP / SIGCONT);
4. ends five chats and kills the worker (-9, the whole process group) while
   it runs their transcript task, then starts it again.

Then every message is stored once, every socket saw every message of its chat
exactly once and in order, and every ended chat has exactly one transcript.
Long (about a minute) and meaningful on PostgreSQL: it runs in CI's PostgreSQL
pass (``slow`` and ``postgres``).
"""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from chat.models import ChatSession, Message, MessageKind
from tests.integration import gate
from tests.integration.conftest import (
    ChatPeer,
    Stack,
    session_cookie,
    until,
    wait_until,
)

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

CHATS = 20
AGENTS = 4  # five chats each: SWITCHBOARD_MAX_CHATS_PER_AGENT's default
ENDED = 5  # chats ended mid-run, their transcripts in flight when the worker dies
SEND_EVERY = (0.4, 1.2)  # seconds between one peer's messages
SCENARIO_TIMEOUT = 180


@dataclass
class Chat:
    session_id: int
    ticket_id: int
    agent_id: int
    client_cookie: str
    agent_cookie: str
    client: ChatPeer | None = None
    agent: ChatPeer | None = None
    typing: bool = True
    senders: list[asyncio.Task[None]] = field(default_factory=list)

    @property
    def peers(self) -> tuple[ChatPeer, ChatPeer]:
        assert self.client is not None and self.agent is not None
        return self.client, self.agent


def make_chats() -> list[Chat]:
    """20 active post-ticket chats, five per agent, through the services."""
    from chat import services
    from chat.models import ChatKind
    from presence.models import AgentPresence, PresenceStatus
    from tests.factories import AgentFactory, TicketFactory, client_user

    agents = [AgentFactory() for _ in range(AGENTS)]
    for agent in agents:
        AgentPresence.objects.create(user=agent, status=PresenceStatus.AVAILABLE)
    chats = []
    for number in range(CHATS):
        client = client_user()
        agent = agents[number % AGENTS]
        ticket = TicketFactory(contact=client.contact, subject=f"Chaos {number}")
        requested = services.session_request(
            client=client, kind=ChatKind.POST_TICKET, ticket_id=ticket.pk
        )
        session = services.session_join(session_id=requested.pk, agent=agent)
        chats.append(
            Chat(
                session_id=session.pk,
                ticket_id=ticket.pk,
                agent_id=agent.pk,
                client_cookie=session_cookie(client),
                agent_cookie=session_cookie(agent),
            )
        )
    return chats


async def keep_typing(chat: Chat, peer: ChatPeer) -> None:
    number = 0
    while chat.typing:
        peer.send(f"{peer.name} #{number}")
        number += 1
        await asyncio.sleep(random.uniform(*SEND_EVERY))


async def end_chat(agent: ChatPeer, session_id: int) -> None:
    """The agent ends the chat (transcript on the ticket), retrying a dropped socket."""
    while True:
        try:
            state = await agent.request(
                {"type": "chat.end", "session_id": session_id, "outcome": "attach"}
            )
        except Exception as error:  # noqa: BLE001 - transient or already ended
            code = getattr(error, "code", "")
            if code in ("disconnected", "timeout"):
                await asyncio.sleep(0.3)
                continue
            if code == "not_allowed":  # an earlier attempt ended it before its socket died
                return
            raise
        assert state["session"]["status"] == "ended", state
        return


async def chaos(stack: Stack, chats: list[Chat], gate_dir: Path) -> None:
    for index, chat in enumerate(chats):
        # Client and agent of a chat on different daphnes: every message crosses Redis.
        client_daphne, agent_daphne = ("daphne", "daphne-b")[:: 1 if index % 2 else -1]
        chat.client = ChatPeer.on(stack, client_daphne, f"client{index}", chat.client_cookie)
        chat.agent = ChatPeer.on(stack, agent_daphne, f"agent{index}", chat.agent_cookie)
        for peer in chat.peers:
            peer.session_id = chat.session_id  # the tab has the chat open: chat.open on connect
    peers = [peer for chat in chats for peer in chat.peers]
    try:
        await asyncio.gather(*(peer.start(timeout=30) for peer in peers))
        await until(
            lambda: all(peer.settled for peer in peers), timeout=30, what="every tab to open"
        )
        for chat in chats:
            chat.senders = [asyncio.create_task(keep_typing(chat, p)) for p in chat.peers]
        await asyncio.sleep(3)

        # 1. Redis restarted: every socket drops and comes back; the layer starts empty.
        stack.kill("redis")
        await asyncio.sleep(1)
        await asyncio.to_thread(stack.start_redis)
        await asyncio.sleep(4)

        # 2. One daphne killed with -9 and started again on its port.
        stack.kill("daphne-b")
        await asyncio.sleep(1)
        await asyncio.to_thread(stack.restart_daphne, "daphne-b")
        await asyncio.sleep(4)

        # 3. Redis paused for 5 s: nothing answers, nothing fails fast.
        stack.pause("redis")
        await asyncio.sleep(5)
        stack.resume("redis")
        await asyncio.sleep(4)

        # 4. Five chats end; the worker dies while it runs their transcript task.
        ending = chats[:ENDED]
        for chat in ending:
            chat.typing = False
            await asyncio.gather(*chat.senders)
            await until(
                lambda chat=chat: all(p.settled for p in chat.peers),
                timeout=60,
                what=f"chat {chat.session_id}'s outboxes to empty before it ends",
            )
        await asyncio.gather(*(end_chat(chat.peers[1], chat.session_id) for chat in ending))
        await until(lambda: gate.runs(gate_dir), timeout=30, what="a transcript task to start")
        stack.kill_group("celery")
        gate.open_gate(gate_dir)
        await asyncio.to_thread(stack.start_worker)
        await asyncio.sleep(3)

        for chat in chats:
            chat.typing = False
        await asyncio.gather(*(task for chat in chats for task in chat.senders))

        def everyone_has_everything() -> bool:
            for chat in chats:
                sent = chat.peers[0].sent + chat.peers[1].sent
                if not all(p.settled and p.has_all(sent) for p in chat.peers):
                    return False
            return True

        await until(everyone_has_everything, timeout=60, what="every tab to hold its whole chat")
        await asyncio.sleep(1)  # a late duplicate would show up here
    finally:
        await asyncio.gather(*(peer.stop() for peer in peers))


def test_chats_survive_redis_restart_daphne_kill_redis_pause_and_worker_kill(
    stack_factory, tmp_path: Path
) -> None:
    gate_dir = tmp_path / "gate"
    gate_dir.mkdir()
    stack = stack_factory(
        daphnes=2,
        SWITCHBOARD_CELERY_EAGER="0",
        SWITCHBOARD_SWEEP_SECONDS="1",
        # The first transcript task waits until the worker was killed.
        SWITCHBOARD_IT_GATE_DIR=str(gate_dir),
        SWITCHBOARD_IT_GATE_TASK="chat.tasks.attach_transcript",
    )
    chats = make_chats()
    asyncio.run(asyncio.wait_for(chaos(stack, chats, gate_dir), SCENARIO_TIMEOUT))
    stack.check_alive()

    # The faults happened: every tab lost its socket at least once (the Redis
    # restart) and came back; the tabs on the killed daphne twice at least.
    for chat in chats:
        for peer in chat.peers:
            assert peer.hellos >= 2, (peer.name, peer.hellos)
            if peer.url == stack.ws_url_of("daphne-b"):
                assert peer.hellos >= 3, (peer.name, peer.hellos)
    for chat in chats:
        client, agent = chat.peers
        assert not client.refused and not agent.refused, (client.refused, agent.refused)
        session = ChatSession.objects.get(pk=chat.session_id)
        rows = list(Message.objects.filter(session=session).order_by("seq"))
        # Stored once each, seqs without a gap.
        assert [m.seq for m in rows] == list(range(1, session.last_seq + 1))
        texts = Counter(str(m.client_id) for m in rows if m.kind == MessageKind.TEXT)
        assert set(texts) == set(client.sent + agent.sent), chat.session_id
        assert all(count == 1 for count in texts.values()), texts.most_common(3)
        for peer in chat.peers:
            # Every message of the chat, each once (a seq is held once), in seq order.
            assert [m["client_id"] for m in peer.ordered()] == [str(m.client_id) for m in rows]
            # (A send whose ack died with its socket came back by replay: it is
            # in the list above, and left the outbox.)
            own = [peer.seq_of(client_id) for client_id in peer.sent]
            assert own == sorted(own), (peer.name, own)

    ended = chats[:ENDED]

    def transcripts_attached() -> bool:
        return all(transcript_count(chat) == 1 for chat in ended)

    wait_until(transcripts_attached, timeout=60, what="one transcript on every ended chat")
    for chat in ended:
        assert transcript_count(chat) == 1
        assert transcript_notes(chat) == 1
    # The transcript task the worker died in ran again (and did its work once).
    started = Counter(gate.runs(gate_dir))
    assert max(started.values()) >= 2, started


def transcript_count(chat: Chat) -> int:
    from tickets.models import TicketAttachment

    return TicketAttachment.objects.filter(
        ticket_id=chat.ticket_id, source_key=f"chat-transcript-{chat.session_id}"
    ).count()


def transcript_notes(chat: Chat) -> int:
    from tickets.models import TicketNote

    return TicketNote.objects.filter(
        ticket_id=chat.ticket_id, body__contains="its transcript is attached"
    ).count()
