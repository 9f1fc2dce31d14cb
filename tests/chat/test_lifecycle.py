"""The lifecycle kernel: the transition table is the one list of status moves,
every move goes through it, and the message writer owns seq and the
inactivity clock."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
import time_machine
from django.utils import timezone

from chat import follow_up, lifecycle, messages, services, timers
from chat.agent_tools import invites, transfers
from chat.models import ChatKind, ChatSession, Message, MessageKind, SessionEvent, SessionStatus
from chat.reach_out.services import reach_out
from presence.services import connection_open
from tests.factories import AgentFactory

pytestmark = pytest.mark.django_db

S = SessionStatus
ARCHITECTURE = Path(__file__).resolve().parents[2] / "docs" / "architecture.md"


def request(client, subject: str = "Help"):  # type: ignore[no-untyped-def]
    return services.session_request(client=client, kind=ChatKind.PRE_TICKET, subject=subject)


class TestTransitionTable:
    def test_the_documented_table_is_the_code(self):
        """docs/architecture.md lists the moves of TRANSITIONS, in its order."""
        text = ARCHITECTURE.read_text()
        table = text.split("<!-- transitions -->")[1].split("<!-- /transitions -->")[0]
        rows = [
            [cell.strip() for cell in line.strip().strip("|").split("|")]
            for line in table.strip().splitlines()[2:]
        ]
        documented = [("" if old == "(new)" else old, new, why) for old, new, why in rows]
        assert documented == [(old, new, why) for (old, new), why in lifecycle.TRANSITIONS.items()]

    @pytest.mark.parametrize(
        ("old", "new"),
        [(S.ENDED, S.ACTIVE), (S.CLOSED, S.WAITING), (S.ACTIVE, S.WAITING), ("", S.ENDED)],
    )
    def test_a_move_not_in_the_table_is_refused(self, old, new):
        with pytest.raises(lifecycle.IllegalMove):
            lifecycle.check_move(old, new)

    def test_move_refuses_an_illegal_move_and_writes_nothing(self, alice, agent1):
        session = services.session_join(session_id=request(alice).pk, agent=agent1)
        events = SessionEvent.objects.count()
        with pytest.raises(lifecycle.IllegalMove):
            lifecycle.move(session, S.WAITING, actor=agent1, reason="back to the queue")
        assert ChatSession.objects.get(pk=session.pk).status == S.ACTIVE
        assert SessionEvent.objects.count() == events

    def test_move_loses_to_a_writer_that_moved_first(self, alice, agent1):
        """The conditional UPDATE: a session object whose status is stale moves
        nothing and says so."""
        session = request(alice)
        stale = ChatSession.objects.get(pk=session.pk)
        services.session_join(session_id=session.pk, agent=agent1)
        before = (SessionEvent.objects.count(), Message.objects.count())
        with pytest.raises(lifecycle.MovedMeanwhile):
            lifecycle.move(stale, S.ABANDONED, actor=None, reason="late", line="Too late.")
        assert ChatSession.objects.get(pk=session.pk).status == S.ACTIVE
        assert (SessionEvent.objects.count(), Message.objects.count()) == before

    def test_start_only_makes_a_first_status(self, alice):
        with pytest.raises(lifecycle.IllegalMove):
            lifecycle.start(status=S.ENDED, actor=alice, reason="skip the chat", line="")

    def test_every_recorded_move_of_the_services_is_in_the_table(
        self, alice, alice_ticket, agent1, agent2, default_queue, settings
    ):
        """Drive every kind of status change the product makes, then read the
        audit trail: each event is a move of the table, or no move at all."""
        supervisor = AgentFactory(role="supervisor")
        # waiting -> active -> ended, with an invitation and a transfer on the way
        live = services.session_join(session_id=request(alice, "one").pk, agent=agent1)
        invites.invitation_create(session_id=live.pk, inviter=agent1, invitee_id=agent2.pk)
        services.session_join(session_id=live.pk, agent=agent2)
        services.session_leave(session_id=live.pk, user=agent2)
        transfers.session_transfer(
            session_id=live.pk, by=agent1, reason="shift ends", to_agent_id=agent2.pk
        )
        services.session_end(session_id=live.pk, agent=agent2, outcome="close", reason="done")
        # waiting -> active by a supervisor's assign
        waiting = request(alice, "two")
        transfers.session_transfer(
            session_id=waiting.pk, by=supervisor, reason="take it", to_agent_id=agent1.pk
        )
        # waiting -> abandoned (the client leaves) -> closed
        left = request(alice, "three")
        services.session_leave(session_id=left.pk, user=alice)
        follow_up.followup_close(session_id=left.pk, agent=agent1, outcome="no_response")
        # waiting -> callback -> closed, after the no-answer sweep
        called = request(alice, "four")
        later = timezone.now() + timedelta(seconds=settings.NO_ANSWER_SECONDS + 1)
        assert timers.sweep_no_answer(now=later) >= 1
        follow_up.request_callback(session_id=called.pk, client=alice, phone="+44 20 7946 0011")
        follow_up.followup_close(session_id=called.pk, agent=agent1, outcome="resolved_phone")
        # waiting -> abandoned by the sweep (the client has no socket open)
        swept = request(alice, "five")
        with time_machine.travel(later, tick=False):
            timers.sweep_no_answer(now=later)
        gone = later + timedelta(seconds=settings.PRESENCE_GRACE_SECONDS + 1)
        assert timers.sweep_abandoned(now=gone) >= 1
        # invited -> declined, invited -> active
        connection_open(user=alice, channel_name="specific.x!1")  # online in the portal
        pushed = services.session_push(ticket_id=alice_ticket.pk, agent=agent2)
        services.push_answer(session_id=pushed.pk, client=alice, accept=False)
        pushed = services.session_push(ticket_id=alice_ticket.pk, agent=agent2)
        services.push_answer(session_id=pushed.pk, client=alice, accept=True)
        # (new) -> active: Message customer, once the chat on the ticket is over
        services.session_end(session_id=pushed.pk, agent=agent2)
        reach_out(
            agent=agent1,
            ticket_id=alice_ticket.pk,
            channel="email",
            body="Is the printer fixed?",
            client_id=uuid.uuid4(),
            site_url="https://help.example.com",
        )

        moves = set(SessionEvent.objects.values_list("old_status", "new_status"))
        assert {(old, new) for old, new in moves if old != new} == set(lifecycle.TRANSITIONS)
        assert ChatSession.objects.get(pk=swept.pk).status == S.ABANDONED


class TestMessageWriter:
    def test_seq_is_gap_free_across_every_writer(self, alice, agent1, settings):
        """Lines of services, a socket's text messages and a sweep's line share
        one seq per chat, with no gap and no repeat."""
        live = services.session_join(session_id=request(alice).pk, agent=agent1)
        services.message_send(
            session_id=live.pk, author=alice, client_id=uuid.uuid4(), body="hello"
        )
        later = timezone.now() + timedelta(seconds=settings.INACTIVITY_SECONDS + 1)
        assert timers.sweep_inactivity(now=later) == 1
        services.message_send(
            session_id=live.pk, author=agent1, client_id=uuid.uuid4(), body="still here"
        )
        seqs = list(
            Message.objects.filter(session=live).order_by("seq").values_list("seq", flat=True)
        )
        assert seqs == list(range(1, len(seqs) + 1))
        assert ChatSession.objects.get(pk=live.pk).last_seq == len(seqs)
        kinds = list(
            Message.objects.filter(session=live).order_by("seq").values_list("kind", flat=True)
        )
        assert kinds.count(MessageKind.TEXT) == 2 and len(kinds) >= 5

    def test_a_line_in_an_active_chat_restarts_the_inactivity_clock(self, alice, agent1):
        live = services.session_join(session_id=request(alice).pk, agent=agent1)
        start = timezone.now() + timedelta(minutes=10)
        with time_machine.travel(start, tick=False):
            messages.system_line(lifecycle.lock(live.pk), "A line.")
        session = ChatSession.objects.get(pk=live.pk)
        assert session.last_activity_at == start
        assert session.inactivity_due_at == messages.inactivity_deadline(start)

    def test_a_line_before_the_answer_sets_no_inactivity_clock(self, alice):
        waiting = request(alice)
        messages.system_line(lifecycle.lock(waiting.pk), "Still waiting.")
        assert ChatSession.objects.get(pk=waiting.pk).inactivity_due_at is None

    def test_a_sweep_line_is_not_activity(self, alice, agent1, settings):
        live = services.session_join(session_id=request(alice).pk, agent=agent1)
        before = ChatSession.objects.get(pk=live.pk)
        later = timezone.now() + timedelta(seconds=settings.INACTIVITY_SECONDS + 1)
        assert timers.sweep_inactivity(now=later) == 1
        after = ChatSession.objects.get(pk=live.pk)
        assert after.last_seq == before.last_seq + 1
        assert (after.last_activity_at, after.inactivity_due_at) == (
            before.last_activity_at,
            before.inactivity_due_at,
        )


def test_only_the_kernel_writes_status() -> None:
    """No chat module outside the kernel writes a session's status itself
    (an UPDATE or a save with status): they call chat.lifecycle."""
    chat = Path(__file__).resolve().parents[2] / "chat"
    writes = re.compile(
        r"\.update\([^)]*\bstatus="  # a conditional UPDATE of the status
        r"|(?<!\w)status\s*=\s*SessionStatus\.\w+[ \t]*$"  # session.status = (not session__status=)
        r"|update_fields=\[[^\]]*\"status\"",  # then save(update_fields=["status", ...])
        re.MULTILINE,
    )
    offenders = []
    for path in chat.rglob("*.py"):
        if "migrations" in path.parts or path.name == "lifecycle.py":
            continue
        text = path.read_text()
        for found in writes.finditer(text):
            number = text.count("\n", 0, found.start()) + 1
            offenders.append(f"{path.relative_to(chat.parent)}:{number}: {found.group(0)}")
    assert offenders == []
