"""A request belongs to its queue: only the queue's members (and supervisors)
may answer it, see it in their Chats panel and the API, or hear of it. A
request with no queue (none configured) is every agent's."""

from __future__ import annotations

import pytest
from django.test import Client

from chat import follow_up, selectors, services
from chat.agent_tools import transfers
from chat.errors import ChatError, ChatNotFound
from chat.models import ChatKind, ChatQueue, Outcome, Participant, SessionEvent, SessionStatus
from chat.timers import sweep_queue_warning

pytestmark = pytest.mark.django_db


def request(client, ticket):  # type: ignore[no-untyped-def]
    return services.session_request(client=client, kind=ChatKind.POST_TICKET, ticket_id=ticket.pk)


@pytest.fixture
def waiting(alice, alice_ticket, default_queue):  # type: ignore[no-untyped-def]
    """Alice's request, in the default queue (agent1 and agent2 are members)."""
    return request(alice, alice_ticket)


# --- Join -----------------------------------------------------------------------


def test_a_non_member_may_not_join_and_nothing_changes(waiting, agent3, sent):
    with pytest.raises(ChatError) as excinfo:
        services.session_join(session_id=waiting.pk, agent=agent3)
    assert excinfo.value.code == "not_in_queue"
    assert "Support" in str(excinfo.value)
    waiting.refresh_from_db()
    assert waiting.status == SessionStatus.WAITING and waiting.answered_at is None
    assert not Participant.objects.filter(session=waiting, user=agent3).exists()
    assert SessionEvent.objects.filter(session=waiting).count() == 1  # the request's
    assert sent == []


def test_a_member_joins(waiting, agent1):
    joined = services.session_join(session_id=waiting.pk, agent=agent1)
    assert joined.status == SessionStatus.ACTIVE
    assert selectors.is_in_room_agent(waiting.pk, agent1)


def test_a_supervisor_joins_any_queues_request(waiting, supervisor):
    assert not supervisor.chat_queues.exists()
    joined = services.session_join(session_id=waiting.pk, agent=supervisor)
    assert joined.status == SessionStatus.ACTIVE


def test_a_request_without_a_queue_is_every_agents(alice, alice_ticket, agent3):
    session = request(alice, alice_ticket)
    assert session.queue is None
    assert services.session_join(session_id=session.pk, agent=agent3).status == "active"


def test_membership_is_read_when_joining(waiting, agent3, default_queue):
    default_queue.members.add(agent3)
    assert services.session_join(session_id=waiting.pk, agent=agent3).status == "active"


def test_an_explicit_invitation_lets_a_non_member_in(waiting, agent1, agent3):
    from chat.agent_tools import invites

    services.session_join(session_id=waiting.pk, agent=agent1)
    invites.invitation_create(session_id=waiting.pk, inviter=agent1, invitee_id=agent3.pk)
    services.session_join(session_id=waiting.pk, agent=agent3)
    assert selectors.is_in_room_agent(waiting.pk, agent3)


# --- Reading it: the Chats panel, the API, chat.open ---------------------------------


def test_the_chats_panel_lists_only_own_queue_requests(
    alice, alice_ticket, carol, default_queue, agent1, agent3, supervisor
):
    globex = ChatQueue.objects.create(name="Globex desk")
    globex.companies.add(carol.contact.company)
    globex.members.add(agent3)
    from tests.factories import TicketFactory

    mine = request(alice, alice_ticket)
    theirs = request(carol, TicketFactory(contact=carol.contact))

    def queue_of(user):  # type: ignore[no-untyped-def]
        return [s.pk for s in selectors.session_manager(user)["queue"]]

    assert queue_of(agent1) == [mine.pk]
    assert queue_of(agent3) == [theirs.pk]
    assert queue_of(supervisor) == [mine.pk, theirs.pk]


def test_other_queues_live_chats_and_follow_up_cards_are_not_listed(waiting, alice, agent1, agent3):
    services.session_join(session_id=waiting.pk, agent=agent1)
    assert [s.pk for s in selectors.session_manager(agent3)["others"]] == []
    services.session_end(session_id=waiting.pk, agent=agent1)
    from tests.factories import TicketFactory

    card = request(alice, TicketFactory(contact=alice.contact))
    services.session_leave(session_id=card.pk, user=alice)
    lists = selectors.session_manager(agent3)
    assert lists["abandoned"] == [] and lists["callbacks"] == []
    assert [s.pk for s in selectors.session_manager(agent1)["abandoned"]] == [card.pk]


def test_a_non_member_cannot_open_a_waiting_request(waiting, agent1, agent3):
    with pytest.raises(ChatNotFound):
        selectors.session_for(agent3, waiting.pk)
    assert selectors.session_for(agent1, waiting.pk) == waiting


def test_the_api_lists_waiting_requests_of_own_queues_only(waiting, agent1, agent3, supervisor):
    def waiting_ids(user):  # type: ignore[no-untyped-def]
        client = Client()
        client.force_login(user)
        response = client.get("/api/chat/sessions/?status=waiting")
        assert response.status_code == 200
        return [s["id"] for s in response.json()["results"]]

    assert waiting_ids(agent1) == [waiting.pk]
    assert waiting_ids(supervisor) == [waiting.pk]
    assert waiting_ids(agent3) == []


# --- Follow-up cards --------------------------------------------------------------


def test_only_members_close_a_follow_up_card(waiting, alice, agent1, agent3):
    services.session_leave(session_id=waiting.pk, user=alice)
    with pytest.raises(ChatError, match="Support") as excinfo:
        follow_up.followup_close(session_id=waiting.pk, agent=agent3, outcome=Outcome.NO_RESPONSE)
    assert excinfo.value.code == "not_in_queue"
    waiting.refresh_from_db()
    assert waiting.status == SessionStatus.ABANDONED
    closed = follow_up.followup_close(
        session_id=waiting.pk, agent=agent1, outcome=Outcome.NO_RESPONSE
    )
    assert closed.status == SessionStatus.CLOSED


# --- Who hears of it ----------------------------------------------------------------


def test_a_request_is_announced_to_its_queue_and_the_supervisors(
    alice, alice_ticket, default_queue, sent, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        request(alice, alice_ticket)
    assert sent.groups_of("queue.added") == [f"queue.{default_queue.pk}", "queue.all"]


def test_a_request_without_a_queue_is_announced_to_every_staff_socket(
    alice, alice_ticket, sent, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        request(alice, alice_ticket)
    assert sent.groups_of("queue.added") == ["staff"]


def test_every_change_of_a_request_goes_to_its_queue(
    waiting, agent1, sent, default_queue, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        services.session_join(session_id=waiting.pk, agent=agent1)
        services.session_end(session_id=waiting.pk, agent=agent1)
    audience = [f"queue.{default_queue.pk}", "queue.all"]
    assert sent.groups_of("queue.taken") == audience
    assert sent.groups_of("queue.ended") == audience
    # Nothing of the chat goes to every staff socket; the ticket it made agent1
    # the assignee of does (ticket.changed: every agent may read every ticket).
    assert "staff" not in {group for group, frame in sent if frame["type"] != "ticket.changed"}
    assert sent.groups_of("ticket.changed") == ["staff"]


def test_a_sweep_tells_each_queue_of_its_own_requests(
    alice, alice_ticket, carol, default_queue, sent, django_capture_on_commit_callbacks
):
    from datetime import timedelta

    from django.utils import timezone

    from tests.factories import TicketFactory

    globex = ChatQueue.objects.create(name="Globex desk")
    globex.companies.add(carol.contact.company)
    acme_request = request(alice, alice_ticket)
    globex_request = request(carol, TicketFactory(contact=carol.contact))
    later = timezone.now() + timedelta(minutes=5)
    with django_capture_on_commit_callbacks(execute=True):
        assert sweep_queue_warning(now=later) == 2
    by_group = {
        group: {s["id"] for s in frame["sessions"]}
        for group, frame in sent.of_type("queue.updated")
    }
    assert by_group == {
        f"queue.{default_queue.pk}": {acme_request.pk},
        f"queue.{globex.pk}": {globex_request.pk},
        "queue.all": {acme_request.pk, globex_request.pk},
    }


def test_a_transfer_to_another_queue_tells_both_queues(
    waiting, agent1, agent3, default_queue, sent, django_capture_on_commit_callbacks
):
    network = ChatQueue.objects.create(name="Network")
    network.members.add(agent3)
    services.session_join(session_id=waiting.pk, agent=agent1)
    with django_capture_on_commit_callbacks(execute=True):
        transfers.session_transfer(
            session_id=waiting.pk, by=agent1, reason="network issue", to_queue_id=network.pk
        )
    assert sorted(sent.groups_of("queue.updated")) == sorted(
        [f"queue.{default_queue.pk}", f"queue.{network.pk}", "queue.all"]
    )


# --- A change of membership -----------------------------------------------------------


def test_the_people_whose_queues_changed_are_told(
    default_queue, agent1, agent2, agent3, sent, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        default_queue.members.add(agent3)
        agent1.chat_queues.remove(default_queue)
        default_queue.members.clear()
    assert sent.groups_of("chat.queues_changed") == [
        f"user.{agent3.pk}",
        f"user.{agent1.pk}",
        *sorted(f"user.{u.pk}" for u in (agent2, agent3)),
    ]


def test_a_deleted_queues_requests_are_every_agents_and_every_console_is_told(
    waiting, default_queue, agent3, sent, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        default_queue.delete()
    assert sent.groups_of("chat.queues_changed") == ["staff"]
    assert services.session_join(session_id=waiting.pk, agent=agent3).status == "active"


def test_the_queue_groups_of_many_sockets_are_one_query(
    default_queue, agent1, agent2, agent3, supervisor, alice, django_assert_num_queries
):
    from chat.queues import socket_groups

    network = ChatQueue.objects.create(name="Network")
    network.members.add(agent2)
    users = {"a1": agent1, "a2": agent2, "a3": agent3, "sup": supervisor, "client": alice}
    with django_assert_num_queries(1):
        groups = socket_groups(users)
    assert groups == {
        "a1": {f"queue.{default_queue.pk}"},
        "a2": {f"queue.{default_queue.pk}", f"queue.{network.pk}"},
        "a3": set(),
        "sup": {"queue.all"},
    }
