"""The chat window's agent tools, one test (or a few) per rule and refusal:
inviting another agent (and its join), greeting/farewell templates, the chat
log, and the time entry on the chat's ticket."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.utils import timezone

from chat import services
from chat.agent_tools import invites, time_entries
from chat.agent_tools import templates as message_templates
from chat.errors import (
    AlreadyAnswered,
    ChatError,
    ChatForbidden,
    ChatNotFound,
    InvalidState,
    MessageInvalid,
)
from chat.models import (
    ChatInvitation,
    ChatKind,
    ChatSession,
    ChatTemplate,
    Message,
    MessageKind,
    Participant,
    SessionEvent,
    SessionStatus,
    TemplateKind,
)
from presence.models import AgentPresence, PresenceStatus
from tests.factories import AgentFactory, TicketFactory
from tests.personas import AGENT1, AGENT2, ALICE, SUPERVISOR
from tickets import services as ticket_services
from tickets.errors import TicketError
from tickets.models import TimeEntry

pytestmark = pytest.mark.django_db

INVITED = f"{AGENT1.full_name} invited {AGENT2.full_name} to the chat."


def active_chat(alice, ticket, agent) -> ChatSession:  # type: ignore[no-untyped-def]
    session = services.session_request(client=alice, kind=ChatKind.POST_TICKET, ticket_id=ticket.pk)
    return services.session_join(session_id=session.pk, agent=agent)


def system_lines(session: ChatSession) -> list[str]:
    return list(
        Message.objects.filter(session=session, kind=MessageKind.SYSTEM)
        .order_by("seq")
        .values_list("body", flat=True)
    )


@pytest.fixture
def supervisor():  # type: ignore[no-untyped-def]
    return SUPERVISOR.create(presence=PresenceStatus.AVAILABLE)


@pytest.fixture
def agent3():  # type: ignore[no-untyped-def]
    agent = AgentFactory(full_name="Cy Agent")
    AgentPresence.objects.create(user=agent, status=PresenceStatus.AWAY)
    return agent


# --- Invite ----------------------------------------------------------------------------------


class TestInvite:
    def test_candidates_are_available_agents_not_in_the_room(
        self, alice, alice_ticket, agent1, agent2, agent3, supervisor
    ):
        session = active_chat(alice, alice_ticket, agent1)
        names = [a["name"] for a in invites.invite_candidates(session_id=session.pk, user=agent1)]
        # agent3 is away; agent1 is in the room (and asking). By name.
        assert names == sorted([AGENT2.full_name, SUPERVISOR.full_name])
        invites.invitation_create(session_id=session.pk, inviter=agent1, invitee_id=agent2.pk)
        marked = invites.invite_candidates(session_id=session.pk, user=agent1)
        assert {a["name"]: a["invited"] for a in marked} == {
            AGENT2.full_name: True,
            SUPERVISOR.full_name: False,
        }
        services.session_join(session_id=session.pk, agent=agent2)
        names = [a["name"] for a in invites.invite_candidates(session_id=session.pk, user=agent1)]
        assert names == [SUPERVISOR.full_name]

    def test_agents_at_their_chat_limit_are_not_offered(
        self, alice, alice_ticket, agent1, agent2, settings
    ):
        settings.MAX_CHATS_PER_AGENT = 1
        other = TicketFactory(contact=alice.contact, subject="Other")
        active_chat(alice, other, agent2)
        session = active_chat(alice, alice_ticket, agent1)
        names = [a["name"] for a in invites.invite_candidates(session_id=session.pk, user=agent1)]
        assert AGENT2.full_name not in names

    def test_invite_records_notifies_and_lets_the_invitee_join(
        self, alice, alice_ticket, agent1, agent2, sent, django_capture_on_commit_callbacks
    ):
        session = active_chat(alice, alice_ticket, agent1)
        with django_capture_on_commit_callbacks(execute=True):
            invitation = invites.invitation_create(
                session_id=session.pk, inviter=agent1, invitee_id=agent2.pk
            )
            assert sent.of_type("chat.invitation") == []  # nothing before commit
        assert invitation.invitee == agent2 and invitation.accepted_at is None
        ((group, frame),) = sent.of_type("chat.invitation")
        assert group == f"user.{agent2.pk}"
        assert frame["session"]["id"] == session.pk
        assert frame["invited_by"]["name"] == AGENT1.full_name
        assert system_lines(session)[-1] == INVITED
        event = SessionEvent.objects.filter(session=session).last()
        assert (event.old_status, event.new_status, event.actor) == ("active", "active", agent1)
        assert event.reason == f"invited {AGENT2.full_name}"

        with django_capture_on_commit_callbacks(execute=True):
            joined = services.session_join(session_id=session.pk, agent=agent2)
        assert joined.status == SessionStatus.ACTIVE
        participant = Participant.objects.get(session=session, user=agent2)
        assert participant.role == "agent" and participant.in_room
        invitation.refresh_from_db()
        assert invitation.accepted_at is not None
        assert system_lines(session)[-1] == f"{AGENT2.full_name} joined the chat."
        event = SessionEvent.objects.filter(session=session).last()
        assert (
            event.actor == agent2
            and event.reason == f"joined on invitation from {AGENT1.full_name}"
        )
        # The room sees the new participant; agent2's sockets subscribe; managers update.
        session_frames = [f for g, f in sent.of_type("chat.session") if g == f"chat.{session.pk}"]
        assert any(
            p["user"]["id"] == agent2.pk and p["in_room"]
            for p in session_frames[-1]["session"]["participants"]
        )
        assert f"user.{agent2.pk}" in sent.groups_of("chat.subscribe")
        assert "staff" in sent.groups_of("queue.updated")
        # The invitee may now send, and a second Join changes nothing.
        services.message_send(
            session_id=session.pk,
            author=agent2,
            client_id=uuid.uuid4(),
            body=f"Hi, {AGENT2.first_name} here",
        )
        events_before = SessionEvent.objects.filter(session=session).count()
        services.session_join(session_id=session.pk, agent=agent2)
        assert SessionEvent.objects.filter(session=session).count() == events_before

    def test_uninvited_agent_still_cannot_join_an_answered_chat(
        self, alice, alice_ticket, agent1, agent2, agent3
    ):
        session = active_chat(alice, alice_ticket, agent1)
        invites.invitation_create(session_id=session.pk, inviter=agent1, invitee_id=agent2.pk)
        with pytest.raises(AlreadyAnswered):
            services.session_join(session_id=session.pk, agent=agent3)
        assert not Participant.objects.filter(session=session, user=agent3).exists()

    def test_an_invitation_is_used_once(self, alice, alice_ticket, agent1, agent2):
        session = active_chat(alice, alice_ticket, agent1)
        invites.invitation_create(session_id=session.pk, inviter=agent1, invitee_id=agent2.pk)
        services.session_join(session_id=session.pk, agent=agent2)
        # agent1 stays; agent2 leaves, and cannot come back in on the used invitation...
        services.session_leave(session_id=session.pk, user=agent2)
        assert not ChatInvitation.objects.filter(accepted_at__isnull=True).exists()
        # ...except as a former participant, which rejoins the room (the existing rule).
        services.session_join(session_id=session.pk, agent=agent2)
        assert Participant.objects.get(session=session, user=agent2).in_room
        # Invited again later: a new invitation row.
        services.session_leave(session_id=session.pk, user=agent2)
        invites.invitation_create(session_id=session.pk, inviter=agent1, invitee_id=agent2.pk)
        assert ChatInvitation.objects.filter(session=session, invitee=agent2).count() == 2

    def test_inviting_again_resends_without_a_second_row(
        self, alice, alice_ticket, agent1, agent2, sent, django_capture_on_commit_callbacks
    ):
        session = active_chat(alice, alice_ticket, agent1)
        with django_capture_on_commit_callbacks(execute=True):
            invites.invitation_create(session_id=session.pk, inviter=agent1, invitee_id=agent2.pk)
            invites.invitation_create(session_id=session.pk, inviter=agent1, invitee_id=agent2.pk)
        assert ChatInvitation.objects.filter(session=session).count() == 1
        assert len(sent.of_type("chat.invitation")) == 2
        assert system_lines(session).count(INVITED) == 1

    def test_invitee_must_be_available(self, alice, alice_ticket, agent1, agent3):
        session = active_chat(alice, alice_ticket, agent1)
        with pytest.raises(invites.AgentUnavailable) as excinfo:
            invites.invitation_create(session_id=session.pk, inviter=agent1, invitee_id=agent3.pk)
        assert excinfo.value.code == "agent_unavailable"
        # Unknown ids and clients are "not available" too (no probing).
        with pytest.raises(invites.AgentUnavailable):
            invites.invitation_create(session_id=session.pk, inviter=agent1, invitee_id=alice.pk)
        with pytest.raises(invites.AgentUnavailable):
            invites.invitation_create(session_id=session.pk, inviter=agent1, invitee_id=999_999)
        assert not ChatInvitation.objects.exists()

    def test_refusals(self, alice, alice_ticket, agent1, agent2):
        session = active_chat(alice, alice_ticket, agent1)
        lines = len(system_lines(session))
        with pytest.raises(MessageInvalid) as excinfo:
            invites.invitation_create(session_id=session.pk, inviter=agent1, invitee_id=agent1.pk)
        assert excinfo.value.code == "invite_self"
        # Only staff; only an agent in the room (others: "not found").
        with pytest.raises(ChatForbidden):
            invites.invitation_create(session_id=session.pk, inviter=alice, invitee_id=agent2.pk)
        with pytest.raises(ChatNotFound):
            invites.invitation_create(session_id=session.pk, inviter=agent2, invitee_id=agent2.pk)
        with pytest.raises(ChatNotFound):
            invites.invite_candidates(session_id=session.pk, user=agent2)
        with pytest.raises(ChatNotFound):
            invites.invitation_create(session_id=999_999, inviter=agent1, invitee_id=agent2.pk)
        assert not ChatInvitation.objects.exists()
        assert len(system_lines(session)) == lines

    def test_invitee_already_in_the_room(self, alice, alice_ticket, agent1, agent2):
        session = active_chat(alice, alice_ticket, agent1)
        invites.invitation_create(session_id=session.pk, inviter=agent1, invitee_id=agent2.pk)
        services.session_join(session_id=session.pk, agent=agent2)
        with pytest.raises(InvalidState) as excinfo:
            invites.invitation_create(session_id=session.pk, inviter=agent2, invitee_id=agent1.pk)
        assert excinfo.value.code == "already_in_chat"

    def test_only_a_live_chat(self, alice, alice_ticket, agent1, agent2):
        waiting = services.session_request(
            client=alice, kind=ChatKind.POST_TICKET, ticket_id=alice_ticket.pk
        )
        with pytest.raises(ChatNotFound):  # agent1 is not in a waiting request
            invites.invitation_create(session_id=waiting.pk, inviter=agent1, invitee_id=agent2.pk)
        session = services.session_join(session_id=waiting.pk, agent=agent1)
        services.session_end(session_id=session.pk, agent=agent1)
        with pytest.raises(InvalidState):
            invites.invitation_create(session_id=session.pk, inviter=agent1, invitee_id=agent2.pk)

    def test_inviter_who_left_cannot_invite(self, alice, alice_ticket, agent1, agent2, supervisor):
        session = active_chat(alice, alice_ticket, agent1)
        invites.invitation_create(session_id=session.pk, inviter=agent1, invitee_id=agent2.pk)
        services.session_join(session_id=session.pk, agent=agent2)
        services.session_leave(session_id=session.pk, user=agent1)
        with pytest.raises(InvalidState) as excinfo:
            invites.invitation_create(
                session_id=session.pk, inviter=agent1, invitee_id=supervisor.pk
            )
        assert excinfo.value.code == "not_in_room"

    def test_supervisor_may_invite_without_being_in_the_room(
        self, alice, alice_ticket, agent1, agent2, supervisor
    ):
        session = active_chat(alice, alice_ticket, agent1)
        invites.invitation_create(session_id=session.pk, inviter=supervisor, invitee_id=agent2.pk)
        assert services.session_join(session_id=session.pk, agent=agent2).status == "active"

    def test_invitation_lapses_when_the_chat_ends(self, alice, alice_ticket, agent1, agent2):
        session = active_chat(alice, alice_ticket, agent1)
        invites.invitation_create(session_id=session.pk, inviter=agent1, invitee_id=agent2.pk)
        assert [i.session_id for i in invites.open_invitations(agent=agent2)] == [session.pk]
        services.session_end(session_id=session.pk, agent=agent1)
        assert invites.open_invitations(agent=agent2) == []
        with pytest.raises(InvalidState):
            services.session_join(session_id=session.pk, agent=agent2)
        assert not Participant.objects.filter(session=session, user=agent2).exists()

    def test_capacity_applies_to_an_invited_join(
        self, alice, alice_ticket, agent1, agent2, settings
    ):
        session = active_chat(alice, alice_ticket, agent1)
        invites.invitation_create(session_id=session.pk, inviter=agent1, invitee_id=agent2.pk)
        # agent2 is already in as many live chats as allowed.
        settings.MAX_CHATS_PER_AGENT = 1
        pre = services.session_request(client=alice, kind=ChatKind.PRE_TICKET, subject="VPN")
        services.session_join(session_id=pre.pk, agent=agent2)
        with pytest.raises(ChatError) as excinfo:
            services.session_join(session_id=session.pk, agent=agent2)
        assert excinfo.value.code == "at_capacity"
        assert not Participant.objects.filter(session=session, user=agent2).exists()
        # Nothing half-written: the invitation is still open for later.
        assert ChatInvitation.objects.get(invitee=agent2).accepted_at is None
        services.session_end(
            session_id=pre.pk, agent=agent2, outcome="close", reason="answered by phone"
        )
        services.session_join(session_id=session.pk, agent=agent2)
        assert Participant.objects.get(session=session, user=agent2).in_room


# --- Templates ------------------------------------------------------------------------------


class TestTemplates:
    def test_render_fills_known_placeholders_only(self):
        values = {"client_first_name": ALICE.first_name, "agent_name": AGENT1.full_name}
        text = message_templates.render(
            "Hi {client_first_name}, {agent_name} here. {unknown} {0.__class__} {{x}}", values
        )
        assert text == (
            f"Hi {ALICE.first_name}, {AGENT1.full_name} here. {{unknown}} {{0.__class__}} {{{{x}}}}"
        )

    def test_values_must_not_be_reinterpreted(self):
        # A client named "{agent_name}" stays literally so.
        values = {"client_first_name": "{agent_name}", "agent_name": AGENT1.first_name}
        assert message_templates.render("{client_first_name}/{agent_name}", values) == (
            f"{{agent_name}}/{AGENT1.first_name}"
        )

    def test_unknown_placeholders_are_a_validation_error(self):
        template = ChatTemplate(kind=TemplateKind.GREETING, title="Hi", body="Hi {first_name}!")
        with pytest.raises(ValidationError) as excinfo:
            template.full_clean()
        assert "{first_name}" in str(excinfo.value.message_dict["body"])
        ChatTemplate(
            kind=TemplateKind.GREETING, title="Hi", body="Hi {client_first_name}, {agent_name}"
        ).full_clean()

    def test_agent_sees_global_and_own_filled_for_the_chat(
        self, alice, alice_ticket, agent1, agent2
    ):
        ChatTemplate.objects.create(
            kind=TemplateKind.FAREWELL, title="Bye", body="Bye {client_first_name}"
        )
        ChatTemplate.objects.create(
            kind=TemplateKind.GREETING, title="Hello", body="Hi {client_first_name}, {agent_name}"
        )
        ChatTemplate.objects.create(
            kind=TemplateKind.GREETING, title="Mine", body="Yo", owner=agent1, ordering=5
        )
        ChatTemplate.objects.create(
            kind=TemplateKind.GREETING, title="Agent2's", body="<b>x</b>", owner=agent2
        )
        session = active_chat(alice, alice_ticket, agent1)
        rows = message_templates.templates_for_session(session_id=session.pk, agent=agent1)
        assert [(r["kind"], r["title"], r["scope"]) for r in rows] == [
            ("greeting", "Hello", "global"),
            ("greeting", "Mine", "mine"),
            ("farewell", "Bye", "global"),
        ]
        assert rows[0]["text"] == f"Hi {ALICE.first_name}, {AGENT1.full_name}"
        assert rows[2]["text"] == f"Bye {ALICE.first_name}"

    def test_templates_need_access_to_the_chat(self, alice, alice_ticket, agent1, agent2):
        session = active_chat(alice, alice_ticket, agent1)
        with pytest.raises(ChatNotFound):
            message_templates.templates_for_session(session_id=session.pk, agent=agent2)
        with pytest.raises(ChatForbidden):
            message_templates.templates_for_session(session_id=session.pk, agent=alice)

    def test_seed_demo_adds_a_greeting_and_a_farewell_once(self):
        for _ in range(2):
            call_command("seed_demo", stdout=StringIO())
        rows = ChatTemplate.objects.filter(owner__isnull=True)
        assert sorted(rows.values_list("kind", flat=True)) == ["farewell", "greeting"]
        for template in rows:
            template.full_clean()
            assert "{client_first_name}" in template.body


# --- Chat log and time entry --------------------------------------------------------------------


class TestChatLogAndTimeEntry:
    def test_chat_log_is_the_transcript(self, alice, alice_ticket, agent1):
        session = active_chat(alice, alice_ticket, agent1)
        services.message_send(
            session_id=session.pk, author=alice, client_id=uuid.uuid4(), body="<b>blank</b>"
        )
        text = time_entries.chat_log(session_id=session.pk, user=agent1)
        assert text.startswith(f"Chat {session.pk}: #{alice_ticket.pk} Printer on fire\n")
        assert f"{ALICE.full_name}: <b>blank</b>" in text
        assert f"* {AGENT1.full_name} joined the chat." in text

    def test_chat_log_access(self, alice, alice_ticket, agent1, agent2, supervisor):
        session = active_chat(alice, alice_ticket, agent1)
        assert time_entries.chat_log(session_id=session.pk, user=supervisor)
        with pytest.raises(ChatNotFound):
            time_entries.chat_log(session_id=session.pk, user=agent2)
        with pytest.raises(ChatForbidden):
            time_entries.chat_log(session_id=session.pk, user=alice)
        with pytest.raises(ChatNotFound):
            time_entries.chat_log(session_id=999_999, user=agent1)

    def test_minutes_round_up_from_the_answer(self, alice, alice_ticket, agent1):
        start = timezone.now()
        with time_machine.travel(start, tick=False):
            session = active_chat(alice, alice_ticket, agent1)
        session.refresh_from_db()
        assert time_entries.chat_minutes(session, now=start) == 1  # at least one
        assert time_entries.chat_minutes(session, now=start + timedelta(seconds=61)) == 2
        assert time_entries.chat_minutes(session, now=start + timedelta(minutes=7)) == 7
        assert time_entries.chat_minutes(session, now=start + timedelta(days=3)) == 24 * 60
        with time_machine.travel(start + timedelta(minutes=4, seconds=1), tick=False):
            services.session_end(session_id=session.pk, agent=agent1)
        session.refresh_from_db()
        # Ended: the end counts, not now.
        assert time_entries.chat_minutes(session, now=start + timedelta(hours=2)) == 5
        session.answered_at = None
        assert time_entries.chat_minutes(session) == 1

    def test_draft_has_the_duration_and_a_readable_summary(self, alice, alice_ticket, agent1):
        """Who, when, how long and what about, in the agent's zone: not the
        raw log (its markdown asterisks and all), which the transcript keeps."""
        agent1.time_zone = "Europe/Berlin"
        agent1.save(update_fields=["time_zone"])
        start = datetime(2025, 12, 7, 14, 2, 30, tzinfo=UTC)
        with time_machine.travel(start, tick=False):
            session = active_chat(alice, alice_ticket, agent1)
            services.message_send(
                session_id=session.pk, author=agent1, client_id=uuid.uuid4(), body="**Hello**"
            )
        with time_machine.travel(start + timedelta(minutes=2, seconds=30), tick=False):
            draft = time_entries.time_entry_draft(session_id=session.pk, agent=agent1)
        assert draft.ticket_id == alice_ticket.pk
        assert draft.minutes == 3
        assert draft.note == (
            f"Chat with {alice.full_name} (Acme) on 7 Dec 2025, 15:02–15:05 (3 min), "
            f"answered by {agent1.full_name}. Subject: Printer on fire"
        )

    def test_summary_of_an_ended_chat_with_two_agents(self, alice, alice_ticket, agent1, agent2):
        start = datetime(2025, 12, 7, 23, 50, tzinfo=UTC)
        with time_machine.travel(start, tick=False):
            session = active_chat(alice, alice_ticket, agent1)
            invites.invitation_create(session_id=session.pk, inviter=agent1, invitee_id=agent2.pk)
            services.session_join(session_id=session.pk, agent=agent2)
        with time_machine.travel(start + timedelta(minutes=20), tick=False):
            services.session_end(session_id=session.pk, agent=agent1)
        with time_machine.travel(start + timedelta(hours=3), tick=False):
            draft = time_entries.time_entry_draft(session_id=session.pk, agent=agent2)
        # Over midnight (UTC, the helpdesk's zone here): the end says its day.
        assert draft.note == (
            f"Chat with {alice.full_name} (Acme) on 7 Dec 2025, 23:50–8 Dec 2025, 00:10 "
            f"(20 min), answered by {agent1.full_name} and {agent2.full_name}. "
            "Subject: Printer on fire"
        )

    def test_time_entry_goes_on_the_ticket(self, alice, alice_ticket, agent1, supervisor):
        session = active_chat(alice, alice_ticket, agent1)
        entry = time_entries.chat_time_entry_add(
            session_id=session.pk, agent=agent1, minutes=12, note="  Chat log here  "
        )
        assert (entry.ticket, entry.agent, entry.minutes, entry.note) == (
            alice_ticket,
            agent1,
            12,
            "Chat log here",
        )
        # After the end too, and by a supervisor who was never in the room.
        services.session_end(session_id=session.pk, agent=agent1)
        time_entries.chat_time_entry_add(
            session_id=session.pk, agent=supervisor, minutes=1, note=""
        )
        assert TimeEntry.objects.filter(ticket=alice_ticket).count() == 2

    def test_a_resent_time_entry_is_logged_once(self, alice, alice_ticket, agent1):
        session = active_chat(alice, alice_ticket, agent1)
        key = str(uuid.uuid4())
        first = time_entries.chat_time_entry_add(
            session_id=session.pk, agent=agent1, minutes=12, note="log", client_id=key
        )
        # The answer was lost; the browser sends the same try again.
        again = time_entries.chat_time_entry_add(
            session_id=session.pk, agent=agent1, minutes=12, note="log", client_id=key
        )
        assert again.pk == first.pk
        assert TimeEntry.objects.filter(ticket=alice_ticket).count() == 1
        # A new try (new id) is a new entry; no id at all, as the ticket page sends, too.
        time_entries.chat_time_entry_add(
            session_id=session.pk, agent=agent1, minutes=5, note="", client_id=str(uuid.uuid4())
        )
        time_entries.chat_time_entry_add(session_id=session.pk, agent=agent1, minutes=5, note="")
        time_entries.chat_time_entry_add(session_id=session.pk, agent=agent1, minutes=5, note="")
        assert TimeEntry.objects.filter(ticket=alice_ticket).count() == 4

    def test_a_time_entry_id_reused_on_another_ticket_is_refused(self, alice, alice_ticket, agent1):
        key = uuid.uuid4()
        ticket_services.time_entry_add(ticket=alice_ticket, agent=agent1, minutes=5, client_id=key)
        other = TicketFactory(contact=alice.contact)
        with pytest.raises(TicketError) as excinfo:
            ticket_services.time_entry_add(ticket=other, agent=agent1, minutes=5, client_id=key)
        assert excinfo.value.code == "client_id_reused"
        assert TimeEntry.objects.count() == 1

    def test_a_time_entry_id_is_per_agent(self, alice, alice_ticket, agent1, supervisor):
        """Another agent sending the same id gets an entry of its own, never
        the first agent's."""
        session = active_chat(alice, alice_ticket, agent1)
        key = uuid.uuid4()
        mine = time_entries.chat_time_entry_add(
            session_id=session.pk, agent=agent1, minutes=12, note="", client_id=key
        )
        theirs = time_entries.chat_time_entry_add(
            session_id=session.pk, agent=supervisor, minutes=3, note="", client_id=key
        )
        assert theirs.pk != mine.pk and theirs.agent == supervisor and theirs.minutes == 3

    @pytest.mark.parametrize("minutes", [0, -5, 24 * 60 + 1, "7", 2.5, True, None])
    def test_bad_minutes_write_nothing(self, alice, alice_ticket, agent1, minutes):
        session = active_chat(alice, alice_ticket, agent1)
        with pytest.raises(TicketError) as excinfo:
            time_entries.chat_time_entry_add(
                session_id=session.pk, agent=agent1, minutes=minutes, note="x"
            )
        assert excinfo.value.code == "minutes_invalid"
        assert not TimeEntry.objects.exists()

    def test_time_entry_refusals(self, alice, alice_ticket, agent1, agent2):
        session = active_chat(alice, alice_ticket, agent1)
        with pytest.raises(ChatNotFound):
            time_entries.chat_time_entry_add(
                session_id=session.pk, agent=agent2, minutes=5, note=""
            )
        with pytest.raises(ChatNotFound):
            time_entries.time_entry_draft(session_id=session.pk, agent=agent2)
        with pytest.raises(ChatForbidden):
            time_entries.chat_time_entry_add(session_id=session.pk, agent=alice, minutes=5, note="")
        # A pre-ticket chat has no ticket (until it ends with Create ticket).
        pre = services.session_request(client=alice, kind=ChatKind.PRE_TICKET, subject="VPN")
        services.session_join(session_id=pre.pk, agent=agent1)
        with pytest.raises(InvalidState) as excinfo:
            time_entries.time_entry_draft(session_id=pre.pk, agent=agent1)
        assert excinfo.value.code == "no_ticket"
        with pytest.raises(InvalidState):
            time_entries.chat_time_entry_add(session_id=pre.pk, agent=agent1, minutes=5, note="")
        assert not TimeEntry.objects.exists()
