"""What a client reads about its chats says what it means to the client: no
internal words ("Post-ticket", "Pre-ticket", "Created from chat 2."), and every
date and time in the one format, in the client's own time zone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from chat import services, transcripts
from chat.models import ChatKind, ChatSession, Message
from tickets.models import Ticket, TicketNote

pytestmark = pytest.mark.django_db

# 14:02 UTC on 7 December 2025 is 09:02 in New York.
REQUESTED = datetime(2025, 12, 7, 14, 2, tzinfo=UTC)
INTERNAL_WORDS = ("Post-ticket", "Pre-ticket", "post_ticket", "pre_ticket", "Created from chat")


def _at_known_times(session: ChatSession) -> None:
    """The chat as if requested at REQUESTED and over 13 minutes later."""
    ChatSession.objects.filter(pk=session.pk).update(
        requested_at=REQUESTED,
        answered_at=REQUESTED + timedelta(minutes=1),
        ended_at=REQUESTED + timedelta(minutes=13),
    )
    for message in Message.objects.filter(session=session):
        Message.objects.filter(pk=message.pk).update(
            created_at=REQUESTED + timedelta(minutes=message.seq)
        )


def _ended_post_ticket_chat(alice, alice_ticket, agent1) -> ChatSession:
    session = services.session_request(
        client=alice, kind=ChatKind.POST_TICKET, ticket_id=alice_ticket.pk
    )
    services.session_join(session_id=session.pk, agent=agent1)
    services.session_end(session_id=session.pk, agent=agent1)
    _at_known_times(session)
    return ChatSession.objects.get(pk=session.pk)


def _assert_no_internal_words(text: str) -> None:
    for word in INTERNAL_WORDS:
        assert word not in text, f"{word!r} is shown to the client"


def test_the_chat_history_says_when_the_chat_was(
    client: Client, alice, alice_ticket, agent1
) -> None:
    alice.time_zone = "America/New_York"
    alice.save(update_fields=["time_zone"])
    session = _ended_post_ticket_chat(alice, alice_ticket, agent1)
    client.force_login(alice)
    url = reverse("portal:ticket_detail", args=[alice_ticket.pk])
    html = client.get(url, {"tab": "chats"}).content.decode()
    assert "Chat on 7 Dec 2025, 09:02–09:15" in html
    assert "You asked for it on this ticket" in html
    assert f"Chat {session.pk} ·" not in html
    _assert_no_internal_words(html)


def test_staff_read_the_same_words_in_their_own_zone(
    client: Client, alice, alice_ticket, agent1
) -> None:
    agent1.time_zone = "Europe/Berlin"
    agent1.save(update_fields=["time_zone"])
    _ended_post_ticket_chat(alice, alice_ticket, agent1)
    client.force_login(agent1)
    url = reverse("console:ticket_detail", args=[alice_ticket.pk])
    html = client.get(url, {"tab": "chats"}).content.decode()
    assert "Chat on 7 Dec 2025, 15:02–15:15" in html
    assert "The client asked for it on this ticket" in html


def test_a_ticket_made_from_a_chat_says_so_in_words(alice, agent1) -> None:
    alice.time_zone = "Asia/Tokyo"  # 23:02 on 7 Dec
    alice.save(update_fields=["time_zone"])
    session = services.session_request(
        client=alice, kind=ChatKind.PRE_TICKET, subject="VPN drops every hour"
    )
    ChatSession.objects.filter(pk=session.pk).update(requested_at=REQUESTED)
    services.session_join(session_id=session.pk, agent=agent1)
    services.session_end(session_id=session.pk, agent=agent1, outcome="create_ticket")
    ticket = Ticket.objects.get(subject="VPN drops every hour")
    assert ticket.description == "Started from a chat on 7 Dec 2025."


def test_the_transcripts_note_on_the_ticket_names_no_chat_number(
    alice, alice_ticket, agent1
) -> None:
    session = _ended_post_ticket_chat(alice, alice_ticket, agent1)
    assert transcripts.transcript_attach(session_id=session.pk)
    note = TicketNote.objects.get(ticket=alice_ticket)
    assert note.body == (
        f"The chat has ended; its transcript is attached as chat-{session.pk}-transcript.txt."
    )


def test_the_emailed_transcript_is_in_the_clients_zone(alice, alice_ticket, agent1) -> None:
    alice.time_zone = "America/New_York"
    alice.save(update_fields=["time_zone"])
    session = _ended_post_ticket_chat(alice, alice_ticket, agent1)
    assert transcripts.transcript_email(session_id=session.pk)
    (email,) = mail.outbox
    html, _ = email.alternatives[0]
    for part in (email.body, html):
        assert "7 Dec 2025, 09:02" in part
        _assert_no_internal_words(part)
    assert email.body.startswith("Your chat of 7 Dec 2025: #")
    assert f"Chat {session.pk}" not in email.body
    # Each line's time, in the same zone: the first line was written a minute in.
    assert "[09:03]" in email.body
    assert ">09:03</td>" in html
    assert "Times are in America/New_York." in email.body
