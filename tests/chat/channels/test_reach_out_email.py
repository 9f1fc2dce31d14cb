"""Message customer by email, after the first message: what the agents write
before the client joins reaches it by email too, batched a minute after the
oldest unsent message, each message once; nothing once the client is in the
chat or the chat is over (the transcript carries it). A chat without a
ticket is reached too (the email links to the portal's home, which lists the
chat with Join chat), and so is the client of a closed ticket (its page
offers Join chat for that chat; the ticket stays closed)."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.core import mail
from django.db import connection
from django.db.models import Q
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from chat import reach_email, services, tasks
from chat.errors import ChatForbidden, ChatNotFound, InvalidState
from chat.models import ChatKind, ChatSession, Participant, ReachOut, SessionStatus
from chat.reach_out.emails import sweep_reach_out_emails
from chat.reach_out.services import reach_options, reach_out
from presence.services import connection_open
from tests.realtime.conftest import receive_type, send
from tickets.models import TicketStatus

pytestmark = pytest.mark.django_db(transaction=True)

SITE = "https://help.example.com"
LATER = timedelta(seconds=61)  # past REACH_OUT_EMAIL_BATCH_SECONDS (60)


def email_alice(agent, **source) -> ChatSession:  # type: ignore[no-untyped-def]
    return reach_out(
        agent=agent,
        channel="email",
        body="Hi Alice, is the printer fixed?",
        client_id=uuid.uuid4(),
        site_url=SITE,
        **source,
    )


def write(session: ChatSession, author, body: str) -> None:  # type: ignore[no-untyped-def]
    services.message_send(session_id=session.pk, author=author, client_id=uuid.uuid4(), body=body)


def sweep_in(delta: timedelta) -> int:
    return sweep_reach_out_emails(now=timezone.now() + delta)


def email_option(agent, **source) -> dict:  # type: ignore[no-untyped-def]
    (option,) = [
        o for o in reach_options(agent=agent, **source)["options"] if o["channel"] == "email"
    ]
    return option


# --- What the agents write before the client joins ---------------------------------------------


def test_later_messages_go_out_in_one_email_a_minute_after_the_first_of_them(
    alice, alice_ticket, agent1
) -> None:
    session = email_alice(agent1, ticket_id=alice_ticket.pk)
    assert len(mail.outbox) == 1  # the first message, at once
    write(session, agent1, "One more thing: which tray?")
    write(session, agent1, "And is it **still** jammed?")

    assert sweep_in(timedelta(seconds=30)) == 0  # not yet: more may follow
    assert len(mail.outbox) == 1
    assert sweep_in(LATER) == 1

    first, follow_up = mail.outbox
    assert follow_up.to == [alice.email]
    assert follow_up.subject == (
        f"Priya Shah wrote again about ticket #{alice_ticket.pk}: Printer on fire"
    )
    assert "One more thing: which tray?" in follow_up.body
    assert "And is it **still** jammed?" in follow_up.body
    assert "<strong>still</strong>" in follow_up.alternatives[0][0]
    assert "is the printer fixed?" not in follow_up.body  # sent already
    assert f"{SITE}/portal/tickets/{alice_ticket.pk}/" in follow_up.body
    assert "which tray" not in first.body
    reach = ReachOut.objects.get(session=session)
    assert reach.emailed_seq == session.messages.order_by("-seq").first().seq  # type: ignore[union-attr]


def test_each_message_is_emailed_once_however_often_the_task_and_the_sweep_run(
    alice, alice_ticket, agent1
) -> None:
    session = email_alice(agent1, ticket_id=alice_ticket.pk)
    write(session, agent1, "Which tray?")
    assert tasks.email_reach_out.apply(args=[session.pk]).get() is True
    assert tasks.email_reach_out.apply(args=[session.pk]).get() is False
    assert sweep_in(LATER) == 0
    assert sweep_in(LATER * 5) == 0

    assert [("Which tray?" in m.body) for m in mail.outbox] == [False, True]
    write(session, agent1, "Anything else?")
    assert sweep_in(LATER) == 1
    assert tasks.email_reach_out.apply(args=[session.pk]).get() is False
    (last,) = mail.outbox[2:]
    assert "Anything else?" in last.body and "Which tray?" not in last.body


def test_nothing_is_emailed_once_the_client_has_joined(alice, alice_ticket, agent1) -> None:
    session = email_alice(agent1, ticket_id=alice_ticket.pk)
    write(session, agent1, "Written before she joined")
    services.session_request(client=alice, kind=ChatKind.POST_TICKET, ticket_id=alice_ticket.pk)
    write(session, agent1, "Written after she joined")

    assert sweep_in(LATER) == 0
    assert tasks.email_reach_out.apply(args=[session.pk]).get() is False
    # She reads both in the chat; she left it, and still no email.
    services.session_leave(session_id=session.pk, user=alice)
    write(session, agent1, "Written after she left")
    assert sweep_in(LATER) == 0
    assert len(mail.outbox) == 1


def test_a_chat_ended_before_the_client_joined_is_emailed_only_as_its_transcript(
    alice, alice_ticket, agent1
) -> None:
    session = email_alice(agent1, ticket_id=alice_ticket.pk)
    write(session, agent1, "Not emailed on its own")
    services.session_end(session_id=session.pk, agent=agent1)

    assert sweep_in(LATER) == 0
    assert tasks.email_reach_out.apply(args=[session.pk]).get() is False
    first, transcript = mail.outbox
    assert transcript.subject.startswith("Transcript of your chat")
    assert "Not emailed on its own" in transcript.body
    assert "Not emailed on its own" not in first.body


def test_a_sweep_queues_a_chat_again_only_after_a_minute(
    alice, alice_ticket, agent1, monkeypatch
) -> None:
    session = email_alice(agent1, ticket_id=alice_ticket.pk)
    write(session, agent1, "Which tray?")
    queued: list[int] = []
    monkeypatch.setattr(tasks.email_reach_out, "delay", queued.append)  # a worker that is down

    assert sweep_in(LATER) == 1
    assert sweep_in(LATER + timedelta(seconds=2)) == 0  # queued already
    assert sweep_in(LATER * 3) == 1  # that task may be lost: queued again
    assert queued == [session.pk, session.pk]
    assert len(mail.outbox) == 1


def test_a_task_that_finds_nothing_to_send_leaves_the_chat_queued_until_the_wait_is_over(
    alice, alice_ticket, agent1, monkeypatch
) -> None:
    """Should the task ever find nothing where the sweep found a message due,
    the sweep does not queue that chat again on every beat."""
    session = email_alice(agent1, ticket_id=alice_ticket.pk)
    write(session, agent1, "Which tray?")
    queued: list[int] = []
    monkeypatch.setattr(tasks.email_reach_out, "delay", queued.append)
    monkeypatch.setattr(reach_email, "awaits_client", lambda: Q(pk__in=[]))  # it disagrees

    assert sweep_in(LATER) == 1
    assert tasks.email_reach_out.apply(args=[session.pk]).get() is False
    assert sweep_in(LATER + timedelta(seconds=2)) == 0
    assert sweep_in(LATER * 3) == 1
    assert queued == [session.pk, session.pk]
    assert len(mail.outbox) == 1


# --- A chat without a ticket: the portal's home ----------------------------------------------


@pytest.fixture
def closed_portal_chat(alice, agent1, default_queue) -> ChatSession:  # type: ignore[no-untyped-def]
    """Alice asked in the portal; agent1 answered and closed it without a ticket."""
    chat = services.session_request(client=alice, kind=ChatKind.PRE_TICKET, subject="VPN drops")
    services.session_join(session_id=chat.pk, agent=agent1)
    services.session_end(session_id=chat.pk, agent=agent1, outcome="close", reason="fixed")
    mail.outbox.clear()  # its transcript
    return chat


def test_a_chat_without_a_ticket_is_reached_by_email_and_joined_from_the_portal_home(
    client, alice, agent1, closed_portal_chat
) -> None:
    assert email_option(agent1, session_id=closed_portal_chat.pk)["available"]
    session = email_alice(agent1, session_id=closed_portal_chat.pk)

    assert (session.ticket_id, session.kind, session.status) == (
        None,
        ChatKind.PRE_TICKET,
        SessionStatus.ACTIVE,
    )
    assert session.messages.filter(
        body=f"Priya Shah messaged Alice Turner by email ({alice.email}) with a link to the portal."
    ).exists()
    (email,) = mail.outbox
    assert email.subject == "Priya Shah wrote to you: VPN drops"
    assert f"{SITE}/portal/\n" in email.body
    assert "Hi Alice, is the printer fixed?" in email.body

    # The link: the portal's home lists the chat with Join chat.
    client.force_login(alice)
    home = client.get("/portal/").content.decode()
    assert f'data-chat-join-session="{session.pk}"' in home
    assert "Priya Shah</strong> wants to chat about “VPN drops”" in home

    write(session, agent1, "Before you answer: which laptop?")
    joined = services.session_enter(session_id=session.pk, client=alice)
    assert joined.pk == session.pk
    write(session, alice, "The old one")
    assert Participant.objects.filter(session=session, user=alice, left_at=None).exists()
    assert sweep_in(LATER) == 0  # she is in: she read it there
    assert len(mail.outbox) == 1
    assert f'data-chat-join-session="{session.pk}"' not in client.get("/portal/").content.decode()
    assert list(session.messages.filter(kind="text").values_list("body", flat=True)) == [
        "Hi Alice, is the printer fixed?",
        "Before you answer: which laptop?",
        "The old one",
    ]


def test_a_second_portal_chat_without_a_ticket_is_not_started(
    alice, agent1, closed_portal_chat
) -> None:
    email_alice(agent1, session_id=closed_portal_chat.pk)
    option = email_option(agent1, session_id=closed_portal_chat.pk)
    assert not option["available"]
    assert option["reason"] == "There is already an open portal chat with this client: write in it."


def test_only_the_client_enters_its_own_live_chat(alice, carol, agent1, closed_portal_chat) -> None:
    session = email_alice(agent1, session_id=closed_portal_chat.pk)
    with pytest.raises(ChatNotFound):
        services.session_enter(session_id=session.pk, client=carol)
    with pytest.raises(ChatForbidden):
        services.session_enter(session_id=session.pk, client=agent1)
    services.session_end(session_id=session.pk, agent=agent1, outcome="close", reason="no answer")
    with pytest.raises(InvalidState) as refused:
        services.session_enter(session_id=session.pk, client=alice)
    assert str(refused.value) == "This chat has ended."
    assert not Participant.objects.filter(session=session, user=alice).exists()


def test_a_chat_not_started_yet_is_not_entered_and_says_so(
    alice, alice_ticket, agent1, default_queue
) -> None:
    waiting = services.session_request(
        client=alice, kind=ChatKind.POST_TICKET, ticket_id=alice_ticket.pk
    )
    with pytest.raises(InvalidState) as refused:
        services.session_enter(session_id=waiting.pk, client=alice)
    assert str(refused.value) == "This chat has not started yet."

    services.session_leave(session_id=waiting.pk, user=alice)  # abandoned: over
    connection_open(user=alice, channel_name="specific.x!1")  # online in the portal
    pushed = services.session_push(ticket_id=alice_ticket.pk, agent=agent1)
    assert pushed.status == SessionStatus.INVITED
    with pytest.raises(InvalidState) as refused:
        services.session_enter(session_id=pushed.pk, client=alice)
    assert str(refused.value) == "This chat has not started yet."
    assert not Participant.objects.filter(session=pushed, user=alice).exists()


def test_another_clients_chat_is_looked_up_by_its_owner_and_not_locked(
    alice, carol, agent1, closed_portal_chat
) -> None:
    session = email_alice(agent1, session_id=closed_portal_chat.pk)
    with CaptureQueriesContext(connection) as queries, pytest.raises(ChatNotFound):
        services.session_enter(session_id=session.pk, client=carol)
    reads = [q["sql"] for q in queries if 'FROM "chat_chatsession"' in q["sql"]]
    assert reads
    assert all(f'"chat_chatsession"."client_id" = {carol.pk}' in sql for sql in reads)


async def test_over_the_socket_a_client_enters_and_staff_may_not(
    connect, alice, agent1, closed_portal_chat
) -> None:
    from channels.db import database_sync_to_async

    session = await database_sync_to_async(email_alice)(agent1, session_id=closed_portal_chat.pk)
    staff = await connect(agent1)
    await send(staff, {"type": "chat.enter", "session_id": session.pk, "ref": "e"})
    assert (await receive_type(staff, "error"))["code"] == "forbidden"

    portal = await connect(alice)
    await send(portal, {"type": "chat.enter", "session_id": session.pk, "ref": "e"})
    state = await receive_type(portal, "chat.state")
    assert state["session"]["id"] == session.pk
    bodies = [m["body"] for m in state["messages"] if m["kind"] == "text"]
    assert bodies == ["Hi Alice, is the printer fixed?"]
    await send(portal, {"type": "chat.enter", "session_id": closed_portal_chat.pk, "ref": "x"})
    assert (await receive_type(portal, "error"))["code"] == "invalid_state"


# --- A closed ticket: its page offers Join chat for that chat ---------------------------------


def test_the_client_of_a_closed_ticket_is_reached_and_joins_on_its_page(
    client, alice, alice_ticket, agent1, default_queue
) -> None:
    alice_ticket.status = TicketStatus.CLOSED
    alice_ticket.save()
    client.force_login(alice)
    page = f"/portal/tickets/{alice_ticket.pk}/"
    assert "data-chat-join-ticket" not in client.get(page).content.decode()
    assert email_option(agent1, ticket_id=alice_ticket.pk)["available"]

    session = email_alice(agent1, ticket_id=alice_ticket.pk)
    (email,) = mail.outbox
    assert f"{SITE}{page}" in email.body
    assert "The helpdesk wrote to you about this ticket." in client.get(page).content.decode()
    assert f'data-chat-join-ticket="{alice_ticket.pk}"' in client.get(page).content.decode()

    joined = services.session_request(
        client=alice, kind=ChatKind.POST_TICKET, ticket_id=alice_ticket.pk
    )
    assert joined.pk == session.pk
    write(session, alice, "All good now")
    alice_ticket.refresh_from_db()
    assert alice_ticket.status == TicketStatus.CLOSED  # reaching out reopens nothing

    # Once that chat is over, the closed ticket starts no chat of its own.
    services.session_end(session_id=session.pk, agent=agent1)
    assert "data-chat-join-ticket" not in client.get(page).content.decode()
    with pytest.raises(InvalidState) as refused:
        services.session_request(client=alice, kind=ChatKind.POST_TICKET, ticket_id=alice_ticket.pk)
    assert "closed" in str(refused.value)
    assert alice_ticket.attachments.filter(
        original_name=f"chat-{session.pk}-transcript.txt"
    ).exists()
