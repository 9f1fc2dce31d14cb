"""Rules of the supervisor console (chat.supervision): watching, comments and
@mentions, and the reads behind the Chats, Closed and Tickets tabs."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from chat import receipts, services
from chat.broadcasts import chat_group, chat_staff_group
from chat.errors import ChatForbidden, ChatNotFound, InvalidState, MessageInvalid
from chat.models import (
    ChatComment,
    ChatKind,
    ChatSession,
    Message,
    Participant,
    SessionStatus,
)
from chat.supervision import comments as supervision_comments
from chat.supervision import selectors as supervision_selectors
from chat.supervision import watch as supervision_watch
from presence.models import AgentPresence, PresenceStatus
from realtime.groups import user_group
from tests.factories import AgentFactory, TicketFactory
from tests.personas import ADMIN, AGENT2, ALICE, BOB, SUPERVISOR
from tickets.models import TicketStatus

pytestmark = pytest.mark.django_db


@pytest.fixture
def live(alice, alice_ticket, agent1):  # type: ignore[no-untyped-def]
    session = services.session_request(
        client=alice, kind=ChatKind.POST_TICKET, ticket_id=alice_ticket.pk
    )
    return services.session_join(session_id=session.pk, agent=agent1)


def say(session, author, body):  # type: ignore[no-untyped-def]
    return services.message_send(
        session_id=session.pk, author=author, client_id=uuid.uuid4(), body=body
    ).message


# --- Mentions --------------------------------------------------------------------------------


class TestMentions:
    def test_tokens(self):
        body = "@Priya check the toner, @agent1. mail bob@acme.example or @Priya again @x-y_"
        assert supervision_comments.mention_tokens(body) == ["priya", "agent1", "x-y_"]

    def test_by_first_name_or_email_local_part(self, agent1, agent2, supervisor):
        body = f"@{agent2.first_name.lower()} and @AGENT1 please"
        found = supervision_comments.resolve_mentions(body, author=supervisor)
        assert {u.pk for u in found} == {agent2.pk, agent1.pk}

    def test_email_local_part_wins_over_a_first_name(self, agent1, agent2, supervisor):
        # A staff member whose first name is another's login name.
        AgentFactory(email="someone@example.com", full_name="Agent1 Person")
        assert supervision_comments.resolve_mentions("@agent1", author=supervisor) == [agent1]

    def test_shared_first_name_mentions_both(self, agent2, supervisor):
        other = AgentFactory(email="namesake@example.com", full_name=f"{agent2.first_name} Two")
        found = supervision_comments.resolve_mentions(f"@{agent2.first_name}", author=supervisor)
        assert {u.pk for u in found} == {agent2.pk, other.pk}

    def test_never_clients_inactive_or_the_author(self, alice, agent2, supervisor):
        gone = AgentFactory(email="gone@example.com", full_name="Gone Agent", is_active=False)
        assert gone.pk
        body = (
            f"@{ALICE.key} @{alice.first_name} @gone @Gone"
            f" @{supervisor.first_name} @{SUPERVISOR.key} @{agent2.first_name}"
        )
        assert supervision_comments.resolve_mentions(body, author=supervisor) == [agent2]

    def test_email_addresses_in_text_are_not_mentions(self, agent1, supervisor):
        assert (
            supervision_comments.resolve_mentions("write to x@agent1.example", author=supervisor)
            == []
        )


# --- Comments --------------------------------------------------------------------------------


class TestCommentAdd:
    def test_supervisor_comments_and_mentions_are_stored(self, live, supervisor, agent1, sent):
        comment = supervision_comments.comment_add(
            session_id=live.pk, author=supervisor, body=f"  @{agent1.first_name} check the toner  "
        )
        assert comment.body == f"@{agent1.first_name} check the toner"
        assert list(comment.mentions.all()) == [agent1]
        # Not a message: nothing in the conversation, the seq did not move.
        assert not Message.objects.filter(body__contains="toner").exists()
        assert ChatSession.objects.get(pk=live.pk).last_seq == live.last_seq

    def test_delivered_to_staff_groups_only(
        self, live, supervisor, agent1, agent2, alice, sent, django_capture_on_commit_callbacks
    ):
        with django_capture_on_commit_callbacks(execute=True):
            supervision_comments.comment_add(
                session_id=live.pk, author=supervisor, body=f"@{agent2.first_name} look"
            )
        groups = sent.groups_of("chat.comment")
        assert set(groups) == {
            chat_staff_group(live.pk),  # supervisors watching
            user_group(agent1.pk),  # the agent in the room
            user_group(agent2.pk),  # mentioned, not in the chat
        }
        assert chat_group(live.pk) not in groups
        assert user_group(alice.pk) not in groups
        # Nothing else was sent anywhere (no chat.message, no chat.session).
        assert {frame["type"] for _, frame in sent} == {"chat.comment"}
        _, frame = sent.of_type("chat.comment")[0]
        assert frame["comment"]["mentions"] == [
            {"id": agent2.pk, "name": AGENT2.full_name, "role": "agent"}
        ]
        assert frame["title"] == live.title

    def test_agent_who_left_is_not_told(
        self, live, supervisor, agent1, agent2, sent, django_capture_on_commit_callbacks
    ):
        Participant.objects.create(
            session=live,
            user=agent2,
            role="agent",
            joined_at=timezone.now(),
            left_at=timezone.now(),
        )
        with django_capture_on_commit_callbacks(execute=True):
            supervision_comments.comment_add(session_id=live.pk, author=supervisor, body="hi")
        assert user_group(agent2.pk) not in sent.groups_of("chat.comment")

    def test_a_resent_comment_is_posted_once(
        self, live, supervisor, agent1, sent, django_capture_on_commit_callbacks
    ):
        key = str(uuid.uuid4())
        with django_capture_on_commit_callbacks(execute=True):
            first = supervision_comments.comment_add(
                session_id=live.pk,
                author=supervisor,
                body=f"@{agent1.first_name} look",
                client_id=key,
            )
        told = len(sent.of_type("chat.comment"))
        # The answer was lost; the browser sends the same comment again, after
        # the chat ended even: the stored one comes back, nobody is told twice.
        services.session_end(session_id=live.pk, agent=agent1)
        with django_capture_on_commit_callbacks(execute=True):
            again = supervision_comments.comment_add(
                session_id=live.pk,
                author=supervisor,
                body=f"@{agent1.first_name} look",
                client_id=key,
            )
        assert again.pk == first.pk
        assert ChatComment.objects.count() == 1
        assert len(sent.of_type("chat.comment")) == told
        # Another author's comment with the same id is its own, and a new
        # comment on an ended chat is still refused.
        with pytest.raises(InvalidState):
            supervision_comments.comment_add(
                session_id=live.pk, author=agent1, body="mine", client_id=key
            )

    def test_comments_without_an_id_are_each_posted(self, live, supervisor):
        for _ in range(2):
            supervision_comments.comment_add(
                session_id=live.pk, author=supervisor, body="same words"
            )
        assert ChatComment.objects.count() == 2

    def test_agent_in_the_room_may_comment(self, live, agent1, supervisor):
        comment = supervision_comments.comment_add(
            session_id=live.pk, author=agent1, body="@supervisor need a hand"
        )
        assert list(comment.mentions.all()) == [supervisor]

    def test_agent_outside_the_room_is_refused(self, live, agent2):
        with pytest.raises(ChatNotFound):  # cannot even see an active chat it is not in
            supervision_comments.comment_add(session_id=live.pk, author=agent2, body="x")
        assert not ChatComment.objects.exists()

    def test_agent_who_can_see_a_waiting_request_still_may_not_comment(
        self, alice, alice_ticket, agent2
    ):
        waiting = services.session_request(
            client=alice, kind=ChatKind.POST_TICKET, ticket_id=alice_ticket.pk
        )
        with pytest.raises(ChatForbidden):
            supervision_comments.comment_add(session_id=waiting.pk, author=agent2, body="x")

    def test_client_is_refused(self, live, alice):
        with pytest.raises(ChatForbidden):
            supervision_comments.comment_add(session_id=live.pk, author=alice, body="x")
        assert not ChatComment.objects.exists()

    def test_unknown_chat(self, supervisor):
        with pytest.raises(ChatNotFound):
            supervision_comments.comment_add(session_id=999_999, author=supervisor, body="x")

    def test_empty_and_too_long(self, live, supervisor, settings):
        with pytest.raises(MessageInvalid) as empty:
            supervision_comments.comment_add(session_id=live.pk, author=supervisor, body="   ")
        assert empty.value.code == "comment_empty"
        settings.CHAT_MESSAGE_MAX_CHARS = 10
        with pytest.raises(MessageInvalid) as long:
            supervision_comments.comment_add(session_id=live.pk, author=supervisor, body="x" * 11)
        assert long.value.code == "comment_too_long"
        assert not ChatComment.objects.exists()

    def test_only_on_live_chats(self, live, supervisor, agent1):
        services.session_end(session_id=live.pk, agent=agent1)
        with pytest.raises(InvalidState) as ended:
            supervision_comments.comment_add(session_id=live.pk, author=supervisor, body="x")
        assert ended.value.code == "chat_not_live"

    def test_waiting_request_may_get_a_supervisor_comment(self, alice, alice_ticket, supervisor):
        waiting = services.session_request(
            client=alice, kind=ChatKind.POST_TICKET, ticket_id=alice_ticket.pk
        )
        assert supervision_comments.comment_add(
            session_id=waiting.pk, author=supervisor, body="take it"
        )


class TestCommentsFor:
    def test_readers(self, live, supervisor, agent1, agent2, alice):
        supervision_comments.comment_add(session_id=live.pk, author=supervisor, body="one")
        assert [
            c.body for c in supervision_comments.comments_for(session_id=live.pk, user=supervisor)
        ] == ["one"]
        assert len(supervision_comments.comments_for(session_id=live.pk, user=agent1)) == 1
        for outsider in (agent2, alice):
            with pytest.raises(ChatNotFound):
                supervision_comments.comments_for(session_id=live.pk, user=outsider)

    def test_agent_who_left_stops_reading(self, live, agent1):
        Participant.objects.filter(session=live, user=agent1).update(left_at=timezone.now())
        with pytest.raises(ChatNotFound):
            supervision_comments.comments_for(session_id=live.pk, user=agent1)


# --- Watching --------------------------------------------------------------------------------


class TestWatch:
    def test_state_has_history_and_comments(self, live, supervisor, alice):
        say(live, alice, "hello")
        supervision_comments.comment_add(session_id=live.pk, author=supervisor, body="note")
        state = supervision_watch.watch_state(session_id=live.pk, supervisor=supervisor)
        assert state["type"] == "chat.watching"
        assert [m["body"] for m in state["messages"]][-1] == "hello"
        assert [c["body"] for c in state["comments"]] == ["note"]
        assert state["has_more"] is False
        replay = supervision_watch.watch_state(
            session_id=live.pk, supervisor=supervisor, after_seq=state["messages"][-1]["seq"]
        )
        assert replay["messages"] == []

    def test_watching_writes_nothing(self, live, supervisor, alice):
        say(live, alice, "hello")
        before = list(Participant.objects.values_list("user_id", "last_read_seq"))
        supervision_watch.watch_state(session_id=live.pk, supervisor=supervisor)
        # A watcher's read marker is accepted and ignored (chat.receipts).
        assert receipts.participant_mark_read(session_id=live.pk, user=supervisor, seq=99) == 0
        assert list(Participant.objects.values_list("user_id", "last_read_seq")) == before
        assert not Participant.objects.filter(user=supervisor).exists()

    def test_watcher_cannot_send(self, live, supervisor):
        with pytest.raises(ChatNotFound):
            say(live, supervisor, "I am not in the room")

    @pytest.mark.parametrize("who", ["agent1", "agent2", "alice"])
    def test_only_supervisors_watch(self, live, who, request):
        with pytest.raises(ChatForbidden):
            supervision_watch.watch_state(
                session_id=live.pk, supervisor=request.getfixturevalue(who)
            )

    def test_administrator_may_watch(self, live):
        admin = ADMIN.create()
        assert supervision_watch.watch_state(session_id=live.pk, supervisor=admin)["session"]

    def test_only_live_chats(self, live, supervisor, agent1):
        services.session_end(session_id=live.pk, agent=agent1)
        with pytest.raises(InvalidState):
            supervision_watch.watch_state(session_id=live.pk, supervisor=supervisor)
        with pytest.raises(ChatNotFound):
            supervision_watch.watch_state(session_id=999_999, supervisor=supervisor)

    def test_keeps_chat_group_only_for_someone_in_the_room(self, live, supervisor, agent1):
        assert supervision_watch.watch_keeps_chat_group(session_id=live.pk, user=agent1)
        assert not supervision_watch.watch_keeps_chat_group(session_id=live.pk, user=supervisor)


# --- Console reads ---------------------------------------------------------------------------


class TestSnapshot:
    def test_groups_chats_by_agent_and_counts(self, live, alice, agent1, agent2, supervisor):
        bob = BOB.create()  # Alice's colleague
        waiting = services.session_request(
            client=bob, kind=ChatKind.PRE_TICKET, subject="VPN is down"
        )
        AgentPresence.objects.filter(user=agent2).update(status=PresenceStatus.AWAY)
        snap = supervision_selectors.console_snapshot()
        assert [s["id"] for s in snap["waiting"]] == [waiting.pk]
        assert [s["id"] for s in snap["chats"]] == [live.pk]
        agents = {a["id"]: a for a in snap["agents"]}
        assert agents[agent1.pk]["chat_ids"] == [live.pk]
        assert agents[agent1.pk]["open_chats"] == 1
        assert agents[agent1.pk]["available"] is True
        assert agents[agent2.pk]["available"] is False
        assert agents[agent2.pk]["status"] == "away"
        assert agents[supervisor.pk]["status"] == "offline"
        assert snap["unattended"] == []

    def test_expired_grace_period_is_not_available(self, agent1):
        AgentPresence.objects.filter(user=agent1).update(
            offline_deadline=timezone.now() - timedelta(seconds=1)
        )
        agents = {a["id"]: a for a in supervision_selectors.console_snapshot()["agents"]}
        assert agents[agent1.pk]["available"] is False

    def test_agent_who_left_no_longer_counts(self, live, agent1):
        Participant.objects.filter(session=live, user=agent1).update(left_at=timezone.now())
        snap = supervision_selectors.console_snapshot()
        agents = {a["id"]: a for a in snap["agents"]}
        assert agents[agent1.pk]["open_chats"] == 0
        assert snap["unattended"] == [live.pk]


class TestTabs:
    def test_closed_lists_answered_chats_that_are_over(self, live, agent1, alice, alice_ticket):
        assert list(supervision_selectors.closed_chats()) == []
        services.session_end(session_id=live.pk, agent=agent1)
        closed = list(supervision_selectors.closed_chats())
        assert [s.pk for s in closed] == [live.pk]
        assert [p.user for p in closed[0].agent_participants] == [agent1]

    def _abandoned(self, client, **fields):  # type: ignore[no-untyped-def]
        now = timezone.now()
        defaults = {
            "kind": ChatKind.PRE_TICKET,
            "status": SessionStatus.ABANDONED,
            "contact": client.contact,
            "client": client,
            "requested_at": now,
            "last_activity_at": now,
            "ended_at": now,
        }
        return ChatSession.objects.create(**{**defaults, **fields})

    def test_requests_by_state(self, alice, agent1):
        no_ticket = self._abandoned(alice, outside_hours=True)
        open_ticket = TicketFactory(contact=alice.contact)
        with_ticket = self._abandoned(alice, ticket=open_ticket, kind=ChatKind.POST_TICKET)
        assigned_ticket = TicketFactory(
            contact=alice.contact, assignee=agent1, status=TicketStatus.ASSIGNED
        )
        callback = self._abandoned(
            alice, ticket=assigned_ticket, kind=ChatKind.POST_TICKET, status="callback"
        )
        card_closed = self._abandoned(alice, status=SessionStatus.CLOSED)
        closed_ticket = TicketFactory(contact=alice.contact, status=TicketStatus.CLOSED)
        ticket_closed = self._abandoned(alice, ticket=closed_ticket, kind=ChatKind.POST_TICKET)
        # Not requests nobody answered: an answered chat and a declined push.
        self._abandoned(alice, status=SessionStatus.ENDED, answered_at=timezone.now())
        self._abandoned(alice, status=SessionStatus.CLOSED, answered_at=timezone.now())
        self._abandoned(alice, status=SessionStatus.DECLINED, kind=ChatKind.PUSH)

        def ids(state: str) -> set[int]:
            return {s.pk for s in supervision_selectors.follow_up_requests(state=state)}

        assert ids("unassigned") == {no_ticket.pk, with_ticket.pk}
        assert ids("assigned") == {callback.pk}
        assert ids("closed") == {card_closed.pk, ticket_closed.pk}
        assert supervision_selectors.follow_up_counts() == {
            "unassigned": 2,
            "assigned": 1,
            "closed": 2,
        }
