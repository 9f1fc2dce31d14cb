"""The rules of the chat lifecycle, one test (or a few) per rule."""

from __future__ import annotations

import uuid

import pytest

from chat import receipts, services, transcripts
from chat.errors import (
    AlreadyAnswered,
    ChatForbidden,
    ChatNotAllowed,
    ChatNotFound,
    InvalidState,
    MessageInvalid,
)
from chat.models import (
    ChatKind,
    ChatQueue,
    ChatSession,
    ChatSettings,
    CompanyChatPermission,
    ContactChatPermission,
    Message,
    MessageKind,
    Participant,
    PermissionValue,
    SessionEvent,
    SessionStatus,
)
from chat.permissions import chat_allowed_for_user
from presence.models import AgentPresence, PresenceStatus
from tests.factories import AgentFactory
from tests.personas import BOB, CAROL
from tickets.models import Ticket, TicketAttachment, TicketNote, TicketStatus

pytestmark = pytest.mark.django_db


def request_post_ticket(client, ticket):  # type: ignore[no-untyped-def]
    return services.session_request(client=client, kind=ChatKind.POST_TICKET, ticket_id=ticket.pk)


def active_chat(alice, alice_ticket, agent):  # type: ignore[no-untyped-def]
    session = request_post_ticket(alice, alice_ticket)
    return services.session_join(session_id=session.pk, agent=agent)


# --- Permission layers ---------------------------------------------------------


class TestPermissionLayers:
    def test_global_on_by_default(self, alice):
        assert chat_allowed_for_user(alice)

    def test_global_off_denies(self, alice):
        ChatSettings.objects.update_or_create(pk=1, defaults={"chat_enabled": False})
        assert not chat_allowed_for_user(alice)

    def test_company_override_beats_global(self, alice):
        ChatSettings.objects.update_or_create(pk=1, defaults={"chat_enabled": False})
        CompanyChatPermission.objects.create(
            company=alice.contact.company, value=PermissionValue.ALLOW
        )
        assert chat_allowed_for_user(alice)

    def test_contact_override_beats_company(self, alice):
        CompanyChatPermission.objects.create(
            company=alice.contact.company, value=PermissionValue.ALLOW
        )
        ContactChatPermission.objects.create(contact=alice.contact, value=PermissionValue.DENY)
        assert not chat_allowed_for_user(alice)

    def test_inherit_falls_through(self, alice):
        ChatSettings.objects.update_or_create(pk=1, defaults={"chat_enabled": False})
        CompanyChatPermission.objects.create(
            company=alice.contact.company, value=PermissionValue.INHERIT
        )
        ContactChatPermission.objects.create(contact=alice.contact, value=PermissionValue.INHERIT)
        assert not chat_allowed_for_user(alice)

    def test_staff_never_count_as_chat_clients(self, agent1):
        assert not chat_allowed_for_user(agent1)

    def test_request_refused_without_permission(self, alice, alice_ticket, sent):
        ContactChatPermission.objects.create(contact=alice.contact, value=PermissionValue.DENY)
        with pytest.raises(ChatNotAllowed) as excinfo:
            request_post_ticket(alice, alice_ticket)
        assert excinfo.value.code == "chat_not_allowed"
        assert ChatSession.objects.count() == 0
        assert sent == []


# --- Requests --------------------------------------------------------------------


class TestRequest:
    def test_post_ticket_request_waits_in_queue(
        self, alice, alice_ticket, default_queue, django_capture_on_commit_callbacks, sent
    ):
        with django_capture_on_commit_callbacks(execute=True):
            session = request_post_ticket(alice, alice_ticket)
        assert session.status == SessionStatus.WAITING
        assert session.queue == default_queue
        assert session.ticket == alice_ticket
        event = SessionEvent.objects.get(session=session)
        assert (event.old_status, event.new_status, event.actor) == ("", "waiting", alice)
        assert Participant.objects.filter(session=session, user=alice).exists()
        # The session managers of its queue: the members' and the supervisors'.
        assert sent.groups_of("queue.added") == [f"queue.{default_queue.pk}", "queue.all"]

    def test_only_available_queue_members_are_paged(
        self, alice, alice_ticket, agent1, agent2, django_capture_on_commit_callbacks, sent
    ):
        outsider = AgentFactory()
        AgentPresence.objects.create(user=outsider, status=PresenceStatus.AVAILABLE)
        away = AgentFactory()
        AgentPresence.objects.create(user=away, status=PresenceStatus.AWAY)
        queue = ChatQueue.objects.create(name="Acme desk")
        queue.members.add(agent1, away)
        queue.companies.add(alice.contact.company)
        with django_capture_on_commit_callbacks(execute=True):
            request_post_ticket(alice, alice_ticket)
        assert sent.groups_of("chat.incoming") == [f"user.{agent1.pk}"]

    def test_company_queue_routing_beats_default(self, alice, alice_ticket, default_queue):
        routed = ChatQueue.objects.create(name="Acme desk")
        routed.companies.add(alice.contact.company)
        assert request_post_ticket(alice, alice_ticket).queue == routed

    def test_requesting_again_returns_the_open_chat(self, alice, alice_ticket):
        first = request_post_ticket(alice, alice_ticket)
        assert request_post_ticket(alice, alice_ticket).pk == first.pk
        assert ChatSession.objects.count() == 1

    def test_other_clients_ticket_is_not_found(self, alice, alice_ticket):
        carol = CAROL.create()
        with pytest.raises(ChatNotFound):
            request_post_ticket(carol, alice_ticket)
        assert ChatSession.objects.count() == 0

    def test_closed_ticket_refused(self, alice, alice_ticket):
        Ticket.objects.filter(pk=alice_ticket.pk).update(status=TicketStatus.CLOSED)
        with pytest.raises(InvalidState):
            request_post_ticket(alice, alice_ticket)

    def test_pre_ticket_needs_subject(self, alice):
        with pytest.raises(MessageInvalid) as excinfo:
            services.session_request(client=alice, kind=ChatKind.PRE_TICKET, subject="  ")
        assert excinfo.value.code == "subject_required"
        session = services.session_request(
            client=alice, kind=ChatKind.PRE_TICKET, subject="VPN down"
        )
        assert session.ticket is None and session.subject == "VPN down"

    def test_agents_cannot_request(self, agent1, alice_ticket):
        with pytest.raises(ChatForbidden):
            request_post_ticket(agent1, alice_ticket)


# --- Join ------------------------------------------------------------------------


class TestJoin:
    def test_first_agent_wins(
        self, alice, alice_ticket, agent1, agent2, sent, django_capture_on_commit_callbacks
    ):
        session = request_post_ticket(alice, alice_ticket)
        with django_capture_on_commit_callbacks(execute=True):
            joined = services.session_join(session_id=session.pk, agent=agent1)
        assert joined.status == SessionStatus.ACTIVE
        assert joined.answered_at is not None
        with pytest.raises(AlreadyAnswered) as excinfo:
            services.session_join(session_id=session.pk, agent=agent2)
        assert excinfo.value.code == "already_answered"
        assert Participant.objects.filter(session=session, role="agent").count() == 1
        assert SessionEvent.objects.filter(session=session, new_status="active").count() == 1
        assert sent.groups_of("queue.taken") == ["staff"]
        assert f"user.{agent1.pk}" in sent.groups_of("chat.subscribe")

    def test_joining_twice_is_harmless(self, alice, alice_ticket, agent1):
        session = active_chat(alice, alice_ticket, agent1)
        again = services.session_join(session_id=session.pk, agent=agent1)
        assert again.status == SessionStatus.ACTIVE
        assert SessionEvent.objects.filter(session=session).count() == 2

    def test_client_cannot_join(self, alice, alice_ticket):
        session = request_post_ticket(alice, alice_ticket)
        with pytest.raises(ChatForbidden):
            services.session_join(session_id=session.pk, agent=alice)

    def test_abandoned_request_cannot_be_joined(self, alice, alice_ticket, agent1):
        session = request_post_ticket(alice, alice_ticket)
        services.session_leave(session_id=session.pk, user=alice)
        with pytest.raises(InvalidState):
            services.session_join(session_id=session.pk, agent=agent1)


# --- Messages --------------------------------------------------------------------


class TestMessages:
    def test_message_gets_next_seq_and_is_broadcast_after_commit(
        self, alice, alice_ticket, agent1, sent, django_capture_on_commit_callbacks
    ):
        session = active_chat(alice, alice_ticket, agent1)
        base = ChatSession.objects.get(pk=session.pk).last_seq
        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            result = services.message_send(
                session_id=session.pk, author=alice, client_id=uuid.uuid4(), body="Hello"
            )
            assert sent.of_type("chat.message") == []  # nothing before commit
        assert callbacks
        assert result.created and result.message.seq == base + 1
        ((group, frame),) = sent.of_type("chat.message")
        assert group == f"chat.{session.pk}"
        assert frame["message"]["seq"] == base + 1 and frame["message"]["body"] == "Hello"

    def test_resend_with_same_client_id_returns_stored_message(self, alice, alice_ticket, agent1):
        session = active_chat(alice, alice_ticket, agent1)
        client_id = uuid.uuid4()
        first = services.message_send(
            session_id=session.pk, author=alice, client_id=client_id, body="Hello"
        )
        again = services.message_send(
            session_id=session.pk, author=alice, client_id=client_id, body="Hello"
        )
        assert not again.created and again.message.pk == first.message.pk
        assert Message.objects.filter(session=session, kind=MessageKind.TEXT).count() == 1

    def test_seqs_are_gap_free_and_increasing(self, alice, alice_ticket, agent1):
        session = active_chat(alice, alice_ticket, agent1)
        for i in range(5):
            author = alice if i % 2 else agent1
            services.message_send(
                session_id=session.pk, author=author, client_id=uuid.uuid4(), body=f"m{i}"
            )
        seqs = list(Message.objects.filter(session=session).values_list("seq", flat=True))
        assert seqs == list(range(1, len(seqs) + 1))

    def test_client_cannot_send_before_an_agent_joins(self, alice, alice_ticket):
        session = request_post_ticket(alice, alice_ticket)
        with pytest.raises(InvalidState):
            services.message_send(
                session_id=session.pk, author=alice, client_id=uuid.uuid4(), body="Anyone?"
            )

    @pytest.mark.parametrize(
        ("body", "code"),
        [("", "message_empty"), ("   ", "message_empty"), ("x" * 10_001, "message_too_long")],
    )
    def test_bad_bodies_refused(self, alice, alice_ticket, agent1, body, code):
        session = active_chat(alice, alice_ticket, agent1)
        before = Message.objects.count()
        with pytest.raises(MessageInvalid) as excinfo:
            services.message_send(
                session_id=session.pk, author=alice, client_id=uuid.uuid4(), body=body
            )
        assert excinfo.value.code == code
        assert Message.objects.count() == before

    def test_bad_client_id_refused(self, alice, alice_ticket, agent1):
        session = active_chat(alice, alice_ticket, agent1)
        with pytest.raises(MessageInvalid) as excinfo:
            services.message_send(session_id=session.pk, author=alice, client_id="nope", body="x")
        assert excinfo.value.code == "invalid_client_id"

    def test_outsider_cannot_send(self, alice, alice_ticket, agent1, agent2):
        session = active_chat(alice, alice_ticket, agent1)
        carol = CAROL.create()
        before = Message.objects.count()
        for outsider in (carol, agent2):
            with pytest.raises(ChatNotFound):
                services.message_send(
                    session_id=session.pk, author=outsider, client_id=uuid.uuid4(), body="hi"
                )
        assert Message.objects.count() == before

    def test_sending_into_ended_chat_refused(self, alice, alice_ticket, agent1):
        session = active_chat(alice, alice_ticket, agent1)
        services.session_end(session_id=session.pk, agent=agent1)
        with pytest.raises(InvalidState):
            services.message_send(
                session_id=session.pk, author=alice, client_id=uuid.uuid4(), body="x"
            )

    def test_read_marker_only_moves_forward(self, alice, alice_ticket, agent1):
        session = active_chat(alice, alice_ticket, agent1)
        last = ChatSession.objects.get(pk=session.pk).last_seq
        assert receipts.participant_mark_read(session_id=session.pk, user=alice, seq=last) == last
        assert receipts.participant_mark_read(session_id=session.pk, user=alice, seq=1) == last
        # A seq beyond the last message is clamped.
        receipts.participant_mark_read(session_id=session.pk, user=alice, seq=10_000)
        assert Participant.objects.get(session=session, user=alice).last_read_seq == last


# --- End, leave, transcript -----------------------------------------------------------


class TestEnd:
    def test_post_ticket_end_attaches_one_transcript(
        self, alice, alice_ticket, agent1, django_capture_on_commit_callbacks
    ):
        session = active_chat(alice, alice_ticket, agent1)
        services.message_send(
            session_id=session.pk, author=alice, client_id=uuid.uuid4(), body="It smokes"
        )
        services.message_send(
            session_id=session.pk, author=agent1, client_id=uuid.uuid4(), body="Unplug it"
        )
        with django_capture_on_commit_callbacks(execute=True):
            ended = services.session_end(session_id=session.pk, agent=agent1)
        assert ended.status == SessionStatus.ENDED and ended.ended_by == agent1
        attachment = TicketAttachment.objects.get(ticket=alice_ticket)
        text = attachment.file.read().decode()
        assert f"{alice.full_name}: It smokes" in text and f"{agent1.full_name}: Unplug it" in text
        assert f"{agent1.full_name} ended the chat." in text
        assert (
            TicketNote.objects.filter(ticket=alice_ticket, body__contains="transcript").count() == 1
        )
        # A retried or repeated task leaves one file and one note.
        assert transcripts.transcript_attach(session_id=session.pk) is False
        assert TicketAttachment.objects.filter(ticket=alice_ticket).count() == 1
        assert TicketNote.objects.filter(ticket=alice_ticket).count() == 1

    def test_only_an_active_chat_ends(self, alice, alice_ticket, agent1):
        session = request_post_ticket(alice, alice_ticket)
        with pytest.raises(InvalidState):
            services.session_end(session_id=session.pk, agent=agent1)

    def test_client_cannot_end(self, alice, alice_ticket, agent1):
        session = active_chat(alice, alice_ticket, agent1)
        with pytest.raises(ChatForbidden):
            services.session_end(session_id=session.pk, agent=alice)
        assert ChatSession.objects.get(pk=session.pk).status == SessionStatus.ACTIVE

    def test_pre_ticket_create_ticket(self, alice, agent1, django_capture_on_commit_callbacks):
        session = services.session_request(
            client=alice, kind=ChatKind.PRE_TICKET, subject="VPN down"
        )
        services.session_join(session_id=session.pk, agent=agent1)
        with django_capture_on_commit_callbacks(execute=True):
            ended = services.session_end(
                session_id=session.pk, agent=agent1, outcome="create_ticket", subject="VPN is down"
            )
        ticket = ended.ticket
        assert ticket.subject == "VPN is down" and ticket.contact == alice.contact
        assert TicketAttachment.objects.filter(ticket=ticket).count() == 1

    def test_pre_ticket_close_needs_reason(self, alice, agent1):
        session = services.session_request(client=alice, kind=ChatKind.PRE_TICKET, subject="Q")
        services.session_join(session_id=session.pk, agent=agent1)
        with pytest.raises(MessageInvalid) as excinfo:
            services.session_end(session_id=session.pk, agent=agent1, outcome="close", reason=" ")
        assert excinfo.value.code == "reason_required"
        assert ChatSession.objects.get(pk=session.pk).status == SessionStatus.ACTIVE
        ended = services.session_end(
            session_id=session.pk, agent=agent1, outcome="close", reason="Answered the question"
        )
        assert ended.ticket is None and ended.end_reason == "Answered the question"
        assert Ticket.objects.count() == 0

    def test_pre_ticket_needs_an_outcome(self, alice, agent1):
        session = services.session_request(client=alice, kind=ChatKind.PRE_TICKET, subject="Q")
        services.session_join(session_id=session.pk, agent=agent1)
        with pytest.raises(MessageInvalid):
            services.session_end(session_id=session.pk, agent=agent1, outcome="attach")


class TestLeave:
    def test_client_leaving_unanswered_request_abandons_it(self, alice, alice_ticket):
        session = request_post_ticket(alice, alice_ticket)
        left = services.session_leave(session_id=session.pk, user=alice)
        assert left.status == SessionStatus.ABANDONED
        assert SessionEvent.objects.filter(session=session, new_status="abandoned").count() == 1

    def test_last_agent_must_end_before_leaving(self, alice, alice_ticket, agent1):
        session = active_chat(alice, alice_ticket, agent1)
        with pytest.raises(InvalidState) as excinfo:
            services.session_leave(session_id=session.pk, user=agent1)
        assert excinfo.value.code == "end_first"

    def test_both_leave_after_end(self, alice, alice_ticket, agent1):
        session = active_chat(alice, alice_ticket, agent1)
        services.session_end(session_id=session.pk, agent=agent1)
        services.session_leave(session_id=session.pk, user=agent1)
        services.session_leave(session_id=session.pk, user=alice)
        assert not Participant.objects.filter(session=session, left_at__isnull=True).exists()


# --- Push --------------------------------------------------------------------------


class TestPush:
    def _online(self, user):  # type: ignore[no-untyped-def]
        from django.utils import timezone

        from presence.models import AgentConnection

        AgentConnection.objects.create(
            user=user, channel_name=f"c{user.pk}", last_seen=timezone.now()
        )

    def test_push_needs_client_online(self, alice, alice_ticket, agent1):
        from chat.errors import ClientOffline

        with pytest.raises(ClientOffline):
            services.session_push(ticket_id=alice_ticket.pk, agent=agent1)
        assert ChatSession.objects.count() == 0

    def test_push_accept(
        self, alice, alice_ticket, agent1, sent, django_capture_on_commit_callbacks
    ):
        self._online(alice)
        with django_capture_on_commit_callbacks(execute=True):
            session = services.session_push(ticket_id=alice_ticket.pk, agent=agent1)
        assert session.status == SessionStatus.INVITED
        assert sent.groups_of("chat.invited") == [f"user.{alice.pk}"]
        accepted = services.push_answer(session_id=session.pk, client=alice, accept=True)
        assert accepted.status == SessionStatus.ACTIVE
        assert set(Participant.objects.filter(session=session).values_list("user", flat=True)) == {
            alice.pk,
            agent1.pk,
        }

    def test_push_decline_tells_agent(
        self, alice, alice_ticket, agent1, sent, django_capture_on_commit_callbacks
    ):
        self._online(alice)
        session = services.session_push(ticket_id=alice_ticket.pk, agent=agent1)
        with django_capture_on_commit_callbacks(execute=True):
            declined = services.push_answer(session_id=session.pk, client=alice, accept=False)
        assert declined.status == SessionStatus.DECLINED
        assert f"chat.{session.pk}" in sent.groups_of("chat.session")
        with pytest.raises(InvalidState):
            services.push_answer(session_id=session.pk, client=alice, accept=True)

    def test_only_the_invited_client_answers(self, alice, alice_ticket, agent1):
        self._online(alice)
        session = services.session_push(ticket_id=alice_ticket.pk, agent=agent1)
        bob = BOB.create()  # Alice's colleague
        with pytest.raises(ChatNotFound):
            services.push_answer(session_id=session.pk, client=bob, accept=True)

    def test_push_refused_when_chat_already_open(self, alice, alice_ticket, agent1):
        self._online(alice)
        request_post_ticket(alice, alice_ticket)
        with pytest.raises(InvalidState):
            services.session_push(ticket_id=alice_ticket.pk, agent=agent1)

    def test_push_of_unknown_ticket(self, agent1):
        with pytest.raises(ChatNotFound):
            services.session_push(ticket_id=999_999, agent=agent1)
