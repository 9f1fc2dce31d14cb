"""Each chat timer at its boundary (just before / at / after the deadline),
and run twice -> one transition, one system line. time-machine moves the clock."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, time, timedelta

import pytest
import time_machine

from chat import services, timers
from chat.models import ChatKind, ChatSession, Message, MessageKind, SessionEvent, SessionStatus
from officehours.models import Schedule, WeeklyInterval
from presence.models import AgentConnection
from tests.personas import ALICE, CAROL, SUPERVISOR

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)  # a Monday


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


@pytest.fixture
def waiting(alice, alice_ticket, sent):  # type: ignore[no-untyped-def]
    with time_machine.travel(T0, tick=False):
        return services.session_request(
            client=alice, kind=ChatKind.POST_TICKET, ticket_id=alice_ticket.pk
        )


def system_lines(session: ChatSession, text: str) -> int:
    return Message.objects.filter(session=session, kind=MessageKind.SYSTEM, body=text).count()


class TestQueueWarning:
    @pytest.mark.parametrize(("offset", "warned"), [(29.999, False), (30, True), (31, True)])
    def test_boundary(self, waiting, offset, warned):
        assert timers.sweep_queue_warning(now=at(offset)) == int(warned)
        assert (ChatSession.objects.get(pk=waiting.pk).warned_at is not None) is warned

    def test_twice_changes_nothing_twice(self, waiting, sent, django_capture_on_commit_callbacks):
        with django_capture_on_commit_callbacks(execute=True):
            assert timers.sweep_queue_warning(now=at(30)) == 1
            assert timers.sweep_queue_warning(now=at(31)) == 0
        assert len(sent.of_type("queue.updated")) == 1

    def test_available_supervisors_get_a_toast(
        self, waiting, sent, django_capture_on_commit_callbacks
    ):
        from presence.models import AgentPresence, PresenceStatus
        from tests.factories import SupervisorFactory

        supervisor = SUPERVISOR.create(presence=PresenceStatus.AVAILABLE)
        away = SupervisorFactory()  # a second supervisor, beyond the demo's one
        AgentPresence.objects.create(user=away, status=PresenceStatus.AWAY)
        with django_capture_on_commit_callbacks(execute=True):
            timers.sweep_queue_warning(now=at(30))
        assert sent.groups_of("chat.warning") == [f"user.{supervisor.pk}"]

    def test_answered_request_is_not_warned(self, waiting, agent1):
        with time_machine.travel(at(10), tick=False):
            services.session_join(session_id=waiting.pk, agent=agent1)
        assert timers.sweep_queue_warning(now=at(60)) == 0


class TestNoAnswer:
    @pytest.mark.parametrize(("offset", "due"), [(59.999, False), (60, True), (61, True)])
    def test_boundary(self, waiting, offset, due):
        assert timers.sweep_no_answer(now=at(offset)) == int(due)
        session = ChatSession.objects.get(pk=waiting.pk)
        assert (session.no_answer_at is not None) is due
        assert session.status == SessionStatus.WAITING  # the client decides what next

    def test_twice_one_system_line(self, waiting, sent, django_capture_on_commit_callbacks):
        with django_capture_on_commit_callbacks(execute=True):
            timers.sweep_no_answer(now=at(60))
            timers.sweep_no_answer(now=at(62))
        assert system_lines(waiting, timers.NO_ANSWER_LINE) == 1
        # One chat.swept (line and session) to the chat, relayed by the
        # consumer as chat.message + chat.session.
        assert [(g, f["message"]["body"]) for g, f in sent.of_type("chat.swept")] == [
            (f"chat.{waiting.pk}", timers.NO_ANSWER_LINE)
        ]
        # The line took the next seq: gap-free.
        seqs = list(Message.objects.filter(session=waiting).values_list("seq", flat=True))
        assert seqs == list(range(1, len(seqs) + 1))
        assert ChatSession.objects.get(pk=waiting.pk).last_seq == len(seqs)


class TestAbandoned:
    def test_client_gone_after_no_answer_is_abandoned_once(self, waiting, settings):
        grace = settings.PRESENCE_GRACE_SECONDS
        timers.sweep_no_answer(now=at(60))
        assert timers.sweep_abandoned(now=at(60 + grace - 1)) == 0
        assert timers.sweep_abandoned(now=at(60 + grace)) == 1
        assert timers.sweep_abandoned(now=at(60 + grace + 5)) == 0
        session = ChatSession.objects.get(pk=waiting.pk)
        assert session.status == SessionStatus.ABANDONED
        assert SessionEvent.objects.filter(session=session, new_status="abandoned").count() == 1

    def test_client_still_on_the_page_keeps_waiting(self, waiting, alice, settings):
        AgentConnection.objects.create(user=alice, channel_name="c1", last_seen=at(0))
        timers.sweep_no_answer(now=at(60))
        assert timers.sweep_abandoned(now=at(600)) == 0
        assert ChatSession.objects.get(pk=waiting.pk).status == SessionStatus.WAITING

    def test_not_before_the_no_answer_notice(self, waiting):
        assert timers.sweep_abandoned(now=at(3600)) == 0


class TestInactivity:
    @pytest.fixture
    def active(self, waiting, agent1):  # type: ignore[no-untyped-def]
        with time_machine.travel(at(5), tick=False):
            return services.session_join(session_id=waiting.pk, agent=agent1)

    @pytest.mark.parametrize(("offset", "due"), [(3604.999, False), (3605, True), (3606, True)])
    def test_boundary(self, active, offset, due):
        assert timers.sweep_inactivity(now=at(offset)) == int(due)

    def test_a_message_restarts_the_clock(self, active, alice):
        with time_machine.travel(at(3000), tick=False):
            services.message_send(
                session_id=active.pk, author=alice, client_id=uuid.uuid4(), body="still here"
            )
        assert timers.sweep_inactivity(now=at(3605)) == 0
        assert timers.sweep_inactivity(now=at(6600)) == 1

    def test_a_message_after_the_flag_clears_it(self, active, alice):
        timers.sweep_inactivity(now=at(3605))
        assert ChatSession.objects.get(pk=active.pk).inactive_at is not None
        services.message_send(
            session_id=active.pk, author=alice, client_id=uuid.uuid4(), body="back"
        )
        assert ChatSession.objects.get(pk=active.pk).inactive_at is None

    def test_twice_one_line(self, active):
        timers.sweep_inactivity(now=at(3605))
        timers.sweep_inactivity(now=at(3700))
        assert system_lines(active, timers.INACTIVE_LINE) == 1

    def test_client_may_end_only_after_the_quiet_hour(self, active, alice):
        from chat.errors import ChatForbidden

        with time_machine.travel(at(3604), tick=False), pytest.raises(ChatForbidden) as excinfo:
            services.session_end(session_id=active.pk, agent=alice)
        assert excinfo.value.code == "end_not_allowed"
        assert "after an hour" in excinfo.value.message
        with time_machine.travel(at(3606), tick=False):
            ended = services.session_end(session_id=active.pk, agent=alice)
        assert ended.status == SessionStatus.ENDED and ended.ended_by == alice

    def test_other_client_cannot_end(self, active):
        from chat.errors import ChatNotFound

        carol = CAROL.create()
        with time_machine.travel(at(9999), tick=False), pytest.raises(ChatNotFound):
            services.session_end(session_id=active.pk, agent=carol)


class TestOutsideOfficeHours:
    @pytest.fixture
    def weekday_nine_to_five(self):  # type: ignore[no-untyped-def]
        schedule = Schedule.objects.create(name="Office", timezone="Europe/London")
        for day in range(5):
            WeeklyInterval.objects.create(
                schedule=schedule, weekday=day, start=time(9), end=time(17)
            )
        return schedule

    def test_request_while_closed_is_recorded_and_nobody_paged(
        self,
        weekday_nine_to_five,
        alice,
        alice_ticket,
        agent1,
        sent,
        django_capture_on_commit_callbacks,
    ):
        saturday = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
        with (
            time_machine.travel(saturday, tick=False),
            django_capture_on_commit_callbacks(execute=True),
        ):
            session = services.session_request(
                client=alice, kind=ChatKind.POST_TICKET, ticket_id=alice_ticket.pk
            )
        assert session.status == SessionStatus.ABANDONED and session.outside_hours
        assert sent.of_type("chat.incoming") == []
        assert sent.groups_of("queue.abandoned") == ["staff"]
        line = Message.objects.filter(session=session, body__startswith="Support is closed").get()
        assert "Monday 09:00 (Europe/London)" in line.body
        # Not a timer candidate.
        assert timers.sweep_all(now=saturday + timedelta(hours=2)) == 0

    def test_request_while_open_waits(self, weekday_nine_to_five, alice, alice_ticket):
        monday = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
        with time_machine.travel(monday, tick=False):
            session = services.session_request(
                client=alice, kind=ChatKind.POST_TICKET, ticket_id=alice_ticket.pk
            )
        assert session.status == SessionStatus.WAITING and not session.outside_hours


class TestSweepFrames:
    """What one sweep sends: one ``chat.swept`` per chat (its line and session),
    and the staff the changed sessions in a few ``sessions`` lists rather than
    a frame per chat."""

    @pytest.fixture
    def five_waiting(self, alice, sent, monkeypatch):  # type: ignore[no-untyped-def]
        from chat import broadcasts

        # Batches of 2, so five chats take three staff frames.
        monkeypatch.setattr(broadcasts, "SWEEP_FRAME_SESSIONS", 2)
        with time_machine.travel(T0, tick=False):
            return [
                services.session_request(
                    client=alice, kind=ChatKind.PRE_TICKET, subject=f"Help {i}"
                ).pk
                for i in range(5)
            ]

    def test_no_answer(self, five_waiting, sent, django_capture_on_commit_callbacks):
        sent.clear()
        with django_capture_on_commit_callbacks(execute=True):
            assert timers.sweep_no_answer(now=at(60)) == 5
        swept = sent.of_type("chat.swept")
        assert sorted(g for g, _ in swept) == sorted(f"chat.{pk}" for pk in five_waiting)
        for group, frame in swept:
            assert group == f"chat.{frame['session']['id']}"
            assert frame["message"]["session_id"] == frame["session"]["id"]
            assert frame["message"]["seq"] == frame["session"]["last_seq"]
            assert frame["message"]["body"] == timers.NO_ANSWER_LINE
            assert frame["session"]["no_answer_at"] is not None
        staff = sent.of_type("queue.updated")
        assert {g for g, _ in staff} == {"staff"}
        assert [len(f["sessions"]) for _, f in staff] == [2, 2, 1]
        assert sorted(s["id"] for _, f in staff for s in f["sessions"]) == sorted(five_waiting)
        # Nothing per chat besides chat.swept.
        assert {f["type"] for _, f in sent} == {"chat.swept", "queue.updated"}

    def test_abandoned(self, five_waiting, sent, settings, django_capture_on_commit_callbacks):
        timers.sweep_no_answer(now=at(60))
        sent.clear()
        with django_capture_on_commit_callbacks(execute=True):
            assert timers.sweep_abandoned(now=at(60 + settings.PRESENCE_GRACE_SECONDS)) == 5
        abandoned = sent.of_type("queue.abandoned")
        assert [len(f["sessions"]) for _, f in abandoned] == [2, 2, 1]
        cards = [s for _, f in abandoned for s in f["sessions"]]
        assert sorted(s["id"] for s in cards) == sorted(five_waiting)
        assert {s["status"] for s in cards} == {SessionStatus.ABANDONED}
        # The cards say whether the client is online (Push chat).
        assert {s["client_online"] for s in cards} == {False}
        line = timers.ABANDONED_LINE.format(name=ALICE.full_name)
        assert [f["message"]["body"] for _, f in sent.of_type("chat.swept")] == [line] * 5
        assert sent.of_type("queue.updated") == []

    def test_queue_warning(self, five_waiting, sent, django_capture_on_commit_callbacks):
        from presence.models import PresenceStatus

        supervisor = SUPERVISOR.create(presence=PresenceStatus.AVAILABLE)
        sent.clear()
        with django_capture_on_commit_callbacks(execute=True):
            assert timers.sweep_queue_warning(now=at(30)) == 5
        staff = sent.of_type("queue.updated")
        assert [len(f["sessions"]) for _, f in staff] == [2, 2, 1]
        assert all(s["warned_at"] for _, f in staff for s in f["sessions"])
        toasts = sent.of_type("chat.warning")
        assert {g for g, _ in toasts} == {f"user.{supervisor.pk}"}
        assert sorted(s["id"] for _, f in toasts for s in f["sessions"]) == sorted(five_waiting)
        # No system line for the warning.
        assert sent.of_type("chat.swept") == []
