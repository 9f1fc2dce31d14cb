"""Message customer: an agent reaches a client who has left, from a closed
chat or a ticket, on a channel the client can be reached on (WhatsApp, with
a template outside the 24-hour window; SMS; email with a link to the
portal, the rest of which is in test_reach_out_email.py). It starts a new
chat with the agent already in it; the first message goes out on that
channel; the client's answer lands in that chat. Staff only, and only ever
the client of the chat or ticket it starts from."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta
from typing import Any

import pytest
from django.core import mail
from django.utils import timezone
from pytest_httpserver import HTTPServer

from chat import selectors, services, tasks
from chat.errors import (
    AtCapacity,
    ChatForbidden,
    ChatNotFound,
    InvalidState,
    MessageInvalid,
    WindowClosed,
)
from chat.models import (
    ChatKind,
    ChatSession,
    ContactChatPermission,
    Message,
    Participant,
    ParticipantRole,
    PermissionValue,
    PhoneClient,
    ReachOut,
    SessionEvent,
    SessionStatus,
    WhatsAppTemplate,
)
from chat.reach_out.services import reach_options, reach_out
from tests.chat.channels.conftest import (
    TWILIO_MESSAGES_PATH,
    WA_MESSAGES_PATH,
)
from tests.chat.channels.signed import post_whatsapp, wa_text, whatsapp_value
from tests.factories import TicketFactory
from tests.realtime.conftest import receive_type, send

pytestmark = pytest.mark.django_db(transaction=True)

SITE = "https://help.example.com"
NUMBER = "+447700900123"  # Jane's WhatsApp (tests.chat.channels.signed)


@pytest.fixture
def providers(twilio_on: HTTPServer, whatsapp_on: HTTPServer) -> HTTPServer:
    """Both channels on against the fake; each send gets a fresh id."""
    ids = iter(range(1, 1000))
    twilio_on.expect_request(TWILIO_MESSAGES_PATH, method="POST").respond_with_handler(
        lambda request: _json({"sid": f"SMout{next(ids)}"})
    )
    twilio_on.expect_request(WA_MESSAGES_PATH, method="POST").respond_with_handler(
        lambda request: _json({"messages": [{"id": f"wamid.out{next(ids)}"}]})
    )
    return twilio_on


def _json(data: dict[str, Any]) -> Any:
    import json

    from werkzeug import Response

    return Response(json.dumps(data), content_type="application/json")


def calls(server: HTTPServer, path: str) -> list[Any]:
    return [request for request, _ in server.log if request.path == path]


@pytest.fixture
def follow_up() -> WhatsAppTemplate:
    return WhatsAppTemplate.objects.create(
        name="ticket_follow_up",
        body="Hello {{1}}, this is {{2}} from the helpdesk. Reply here to continue.",
        approved=True,
    )


@pytest.fixture
def closed_whatsapp_chat(client, providers, default_queue, agent1) -> ChatSession:  # type: ignore[no-untyped-def]
    """Jane wrote on WhatsApp, agent1 answered and ended it (no ticket); her
    last message is two days old: the 24-hour window has closed."""
    post_whatsapp(client, whatsapp_value([wa_text("wamid.in1", "My VPN is down")]))
    session = services.session_join(session_id=ChatSession.objects.get().pk, agent=agent1)
    services.session_end(session_id=session.pk, agent=agent1, outcome="close", reason="fixed")
    PhoneClient.objects.update(whatsapp_received_at=timezone.now() - timedelta(days=2))
    return ChatSession.objects.get(pk=session.pk)


def by_channel(options: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {option["channel"]: option for option in options["options"]}


# --- What is offered --------------------------------------------------------------------------


def test_a_closed_whatsapp_chat_offers_whatsapp_first_with_templates_only(
    closed_whatsapp_chat, agent1, follow_up
) -> None:
    offered = reach_options(agent=agent1, session_id=closed_whatsapp_chat.pk)

    assert [o["channel"] for o in offered["options"]][:2] == ["whatsapp", "sms"]
    whatsapp = by_channel(offered)["whatsapp"]
    assert whatsapp["available"] and whatsapp["template_only"]
    assert whatsapp["address"] == "+44 7700 900123"
    assert by_channel(offered)["sms"]["available"]  # the same number
    # An unknown number has no email address and no portal login.
    assert not by_channel(offered)["email"]["available"]
    assert [t["name"] for t in offered["templates"]] == ["ticket_follow_up"]
    assert offered["client"]["name"] == "Jane Doe"


def test_within_the_window_whatsapp_takes_free_text(closed_whatsapp_chat, agent1) -> None:
    PhoneClient.objects.update(whatsapp_received_at=timezone.now() - timedelta(hours=1))

    whatsapp = by_channel(reach_options(agent=agent1, session_id=closed_whatsapp_chat.pk))
    assert whatsapp["whatsapp"]["available"] and not whatsapp["whatsapp"]["template_only"]


def test_outside_the_window_without_an_approved_template_whatsapp_is_not_offered(
    closed_whatsapp_chat, agent1
) -> None:
    whatsapp = by_channel(reach_options(agent=agent1, session_id=closed_whatsapp_chat.pk))[
        "whatsapp"
    ]
    assert not whatsapp["available"]
    assert "no approved template" in whatsapp["reason"]


def test_a_ticket_offers_the_channels_of_its_contact_the_last_chats_first(
    providers, alice, alice_ticket, agent1, default_queue
) -> None:
    # Alice last chatted in the portal: email comes first; her phone gives SMS
    # and WhatsApp (she never wrote on WhatsApp: templates only, none here).
    services.session_request(client=alice, kind=ChatKind.POST_TICKET, ticket_id=alice_ticket.pk)
    offered = reach_options(agent=agent1, ticket_id=alice_ticket.pk)

    assert [o["channel"] for o in offered["options"]] == ["email", "whatsapp", "sms"]
    options = by_channel(offered)
    assert options["email"]["address"] == alice.email
    assert options["sms"]["address"] == "+44 20 7946 0011"
    assert not options["whatsapp"]["available"]
    # An open chat on the ticket: answer it there instead.
    assert not options["email"]["available"]
    assert "already an open chat" in options["email"]["reason"]


def test_a_channel_that_is_off_is_not_offered(alice, alice_ticket, agent1) -> None:
    # Neither SMS nor WhatsApp is switched on in the test settings.
    options = by_channel(reach_options(agent=agent1, ticket_id=alice_ticket.pk))
    assert options["email"]["available"]
    for channel in ("sms", "whatsapp"):
        assert not options[channel]["available"]
        assert "not switched on" in options[channel]["reason"]


def test_a_contact_without_a_phone_is_not_offered_sms_or_whatsapp(
    providers, alice, alice_ticket, agent1
) -> None:
    alice.contact.phone = ""
    alice.contact.save()
    options = by_channel(reach_options(agent=agent1, ticket_id=alice_ticket.pk))
    for channel in ("sms", "whatsapp"):
        assert not options[channel]["available"] and "no phone" in options[channel]["reason"]


# --- Reaching out ---------------------------------------------------------------------------------


def test_a_whatsapp_template_starts_a_chat_with_the_agent_in_it(
    closed_whatsapp_chat, agent1, follow_up, providers, sent
) -> None:
    session = reach_out(
        agent=agent1,
        session_id=closed_whatsapp_chat.pk,
        channel="whatsapp",
        template_id=follow_up.pk,
        values=["Jane", "Priya"],
        client_id=uuid.uuid4(),
    )

    assert session.pk != closed_whatsapp_chat.pk
    assert (session.status, session.channel, session.client_address) == (
        SessionStatus.ACTIVE,
        "whatsapp",
        NUMBER,
    )
    assert session.client_id == closed_whatsapp_chat.client_id  # the same number
    assert session.answered_at is not None
    agents = Participant.objects.filter(session=session, role=ParticipantRole.AGENT)
    assert [(p.user, p.in_room) for p in agents] == [(agent1, True)]
    (first,) = SessionEvent.objects.filter(session=session)
    assert (first.old_status, first.new_status, first.actor) == ("", "active", agent1)
    # The template went out, once; the chat shows the filled text.
    (call,) = calls(providers, WA_MESSAGES_PATH)
    assert call.json["type"] == "template"
    assert call.json["template"]["name"] == "ticket_follow_up"
    message = session.messages.get(kind="text")
    assert message.body == "Hello Jane, this is Priya from the helpdesk. Reply here to continue."
    assert message.author == agent1 and message.delivery_status == "sent"
    reach = ReachOut.objects.get(session=session)
    assert (reach.by, reach.channel, reach.from_session) == (
        agent1,
        "whatsapp",
        closed_whatsapp_chat,
    )
    # The agent's console follows the new chat.
    assert f"user.{agent1.pk}" in sent.groups_of("chat.session")
    assert sent.of_type("chat.subscribe")


def test_the_clients_whatsapp_answer_lands_in_the_new_chat(
    client, closed_whatsapp_chat, agent1, follow_up, providers
) -> None:
    session = reach_out(
        agent=agent1,
        session_id=closed_whatsapp_chat.pk,
        channel="whatsapp",
        template_id=follow_up.pk,
        values=["Jane", "Priya"],
        client_id=uuid.uuid4(),
    )
    post_whatsapp(client, whatsapp_value([wa_text("wamid.in2", "Yes, it works again")]))

    assert ChatSession.objects.count() == 2
    assert session.messages.filter(body="Yes, it works again").exists()
    # Her message opened the window: free text goes now.
    services.message_send(
        session_id=session.pk, author=agent1, client_id=uuid.uuid4(), body="Great!"
    )
    assert calls(providers, WA_MESSAGES_PATH)[-1].json["text"] == {"body": "Great!"}


def test_free_text_outside_the_window_is_refused_and_nothing_is_started(
    closed_whatsapp_chat, agent1, follow_up, providers
) -> None:
    with pytest.raises(WindowClosed) as refused:
        reach_out(
            agent=agent1,
            session_id=closed_whatsapp_chat.pk,
            channel="whatsapp",
            body="Hello again",
            client_id=uuid.uuid4(),
        )
    assert str(refused.value) == "The 24-hour window has closed: send an approved template"
    assert ChatSession.objects.count() == 1 and not ReachOut.objects.exists()
    assert calls(providers, WA_MESSAGES_PATH) == []


def test_sms_free_text_starts_a_chat_on_the_same_number(
    closed_whatsapp_chat, agent1, providers
) -> None:
    session = reach_out(
        agent=agent1,
        session_id=closed_whatsapp_chat.pk,
        channel="sms",
        body="Hello Jane, is the VPN still fine?",
        client_id=uuid.uuid4(),
    )

    assert session.channel == "sms" and session.client_address == NUMBER
    (call,) = calls(providers, TWILIO_MESSAGES_PATH)
    assert call.form["To"] == NUMBER and call.form["Body"] == "Hello Jane, is the VPN still fine?"


def test_a_resend_after_a_dropped_connection_starts_one_chat(
    closed_whatsapp_chat, agent1, follow_up, providers
) -> None:
    client_id = uuid.uuid4()
    frame = {
        "agent": agent1,
        "session_id": closed_whatsapp_chat.pk,
        "channel": "whatsapp",
        "template_id": follow_up.pk,
        "values": ["Jane", "Priya"],
        "client_id": client_id,
    }
    first = reach_out(**frame)
    again = reach_out(**frame)

    assert again.pk == first.pk
    assert len(calls(providers, WA_MESSAGES_PATH)) == 1


def test_a_second_open_chat_with_the_client_is_refused(
    closed_whatsapp_chat, agent1, follow_up, providers
) -> None:
    reach_out(
        agent=agent1,
        session_id=closed_whatsapp_chat.pk,
        channel="whatsapp",
        template_id=follow_up.pk,
        values=["Jane", "Priya"],
        client_id=uuid.uuid4(),
    )
    with pytest.raises(InvalidState) as refused:
        reach_out(
            agent=agent1,
            session_id=closed_whatsapp_chat.pk,
            channel="whatsapp",
            template_id=follow_up.pk,
            values=["Jane", "Priya"],
            client_id=uuid.uuid4(),  # another Message customer, not a resend
        )
    assert refused.value.code == "channel_unavailable"
    assert "already an open chat" in str(refused.value)


def test_capacity_applies(closed_whatsapp_chat, agent1, settings, follow_up, providers) -> None:
    settings.MAX_CHATS_PER_AGENT = 1
    other = ChatSession.objects.create(
        kind=ChatKind.PRE_TICKET,
        status=SessionStatus.ACTIVE,
        channel="sms",
        client=closed_whatsapp_chat.client,
        client_address="+447700900999",
        requested_at=timezone.now(),
        last_activity_at=timezone.now(),
    )
    Participant.objects.create(
        session=other, user=agent1, role=ParticipantRole.AGENT, joined_at=timezone.now()
    )

    with pytest.raises(AtCapacity):
        reach_out(
            agent=agent1,
            session_id=closed_whatsapp_chat.pk,
            channel="whatsapp",
            template_id=follow_up.pk,
            values=["Jane", "Priya"],
            client_id=uuid.uuid4(),
        )
    assert not ReachOut.objects.exists() and calls(providers, WA_MESSAGES_PATH) == []


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"channel": "sms", "body": "  "}, "message_empty"),
        ({"channel": "email", "template_id": 1, "values": []}, "template_not_here"),
        ({"channel": "fax", "body": "Hi"}, "channel_unavailable"),
    ],
)
def test_bad_input_gets_a_clear_error_and_starts_nothing(
    closed_whatsapp_chat, agent1, providers, fields, code
) -> None:
    with pytest.raises((MessageInvalid, InvalidState)) as refused:
        reach_out(
            agent=agent1, session_id=closed_whatsapp_chat.pk, client_id=uuid.uuid4(), **fields
        )
    assert refused.value.code == code
    assert ChatSession.objects.count() == 1


# --- Email, for a portal client ------------------------------------------------------------------


def test_email_sends_the_message_with_a_link_and_the_client_answers_in_the_portal(
    alice, alice_ticket, agent1, default_queue
) -> None:
    session = reach_out(
        agent=agent1,
        ticket_id=alice_ticket.pk,
        channel="email",
        body="Hi Alice, is the printer fixed?",
        client_id=uuid.uuid4(),
        site_url=SITE,
    )
    tasks.email_reach_out.apply(args=[session.pk])  # the task again: still one email

    assert (session.channel, session.status, session.ticket_id) == (
        "web",
        SessionStatus.ACTIVE,
        alice_ticket.pk,
    )
    (email,) = mail.outbox
    assert email.to == [alice.email]
    assert "Hi Alice, is the printer fixed?" in email.body
    link = f"{SITE}/portal/tickets/{alice_ticket.pk}/"
    assert link in email.body
    assert re.search(r"Priya Shah", email.subject)

    # Alice opens the link and presses Join chat: she is in that chat.
    joined = services.session_request(
        client=alice, kind=ChatKind.POST_TICKET, ticket_id=alice_ticket.pk
    )
    assert joined.pk == session.pk
    services.message_send(
        session_id=session.pk, author=alice, client_id=uuid.uuid4(), body="Yes, all good"
    )
    assert Message.objects.filter(session=session, author=alice, body="Yes, all good").exists()
    assert selectors.is_in_room(session.pk, alice)


def test_email_needs_a_portal_login_to_answer_in(agent1, bob) -> None:
    no_login = TicketFactory(contact=bob.contact)
    bob.is_active = False
    bob.save()
    email = by_channel(reach_options(agent=agent1, ticket_id=no_login.pk))["email"]
    assert not email["available"]
    assert email["reason"] == (
        "The client has no portal login, so it could not answer an email: "
        "use another channel, or give it a login first."
    )


# --- Who may, and whom --------------------------------------------------------------------------


def test_only_staff_reach_out(alice, alice_ticket) -> None:
    with pytest.raises(ChatForbidden):
        reach_options(agent=alice, ticket_id=alice_ticket.pk)
    with pytest.raises(ChatForbidden):
        reach_out(
            agent=alice,
            ticket_id=alice_ticket.pk,
            channel="email",
            body="Hi",
            client_id=uuid.uuid4(),
            site_url=SITE,
        )
    assert not ChatSession.objects.exists()


def test_an_agent_reaches_out_only_from_a_chat_it_may_read(
    closed_whatsapp_chat, agent2, follow_up
) -> None:
    # agent2 never took part in the chat and is no supervisor.
    with pytest.raises(ChatNotFound):
        reach_options(agent=agent2, session_id=closed_whatsapp_chat.pk)


def test_a_client_of_another_company_is_never_reached_through_alices_ticket(
    alice, alice_ticket, carol, agent1
) -> None:
    offered = reach_options(agent=agent1, ticket_id=alice_ticket.pk)
    addresses = {o["address"] for o in offered["options"]}
    assert carol.email not in addresses and carol.contact.phone not in addresses
    assert offered["client"]["name"] == alice.contact.name

    session = reach_out(
        agent=agent1,
        ticket_id=alice_ticket.pk,
        channel="email",
        body="Hello",
        client_id=uuid.uuid4(),
        site_url=SITE,
    )
    assert [m.to for m in mail.outbox] == [[alice.email]]
    # Carol can neither join that chat nor read it.
    with pytest.raises(ChatNotFound):
        services.session_request(client=carol, kind=ChatKind.POST_TICKET, ticket_id=alice_ticket.pk)
    with pytest.raises(ChatNotFound):
        selectors.session_for(carol, session.pk)


def test_a_contact_denied_chat_is_not_reached_by_chat(alice, alice_ticket, agent1) -> None:
    ContactChatPermission.objects.create(contact=alice.contact, value=PermissionValue.DENY)

    options = reach_options(agent=agent1, ticket_id=alice_ticket.pk)["options"]
    assert not any(o["available"] for o in options)
    with pytest.raises(InvalidState) as refused:
        reach_out(
            agent=agent1,
            ticket_id=alice_ticket.pk,
            channel="email",
            body="Hi",
            client_id=uuid.uuid4(),
            site_url=SITE,
        )
    assert refused.value.code == "channel_unavailable"


# --- Over the socket --------------------------------------------------------------------------


async def test_over_the_socket_staff_reach_out_and_clients_may_not(
    connect, alice, alice_ticket, agent1
) -> None:
    ws = await connect(agent1)
    await send(ws, {"type": "chat.reach_options", "ticket_id": alice_ticket.pk, "ref": "o"})
    offered = await receive_type(ws, "chat.reach_options")
    assert by_channel(offered)["email"]["available"]

    frame = {
        "type": "chat.reach_out",
        "ticket_id": alice_ticket.pk,
        "channel": "email",
        "body": "Hello Alice",
        "client_id": str(uuid.uuid4()),
        "ref": "r",
    }
    await send(ws, frame)
    state = await receive_type(ws, "chat.state")
    assert state["session"]["status"] == "active"
    assert [m["body"] for m in state["messages"] if m["kind"] == "text"] == ["Hello Alice"]

    portal = await connect(alice)
    await send(portal, {**frame, "client_id": str(uuid.uuid4())})
    assert (await receive_type(portal, "error"))["code"] == "forbidden"
    await send(portal, {"type": "chat.reach_options", "ticket_id": alice_ticket.pk, "ref": "o"})
    assert (await receive_type(portal, "error"))["code"] == "forbidden"


# --- Where Message customer is offered ----------------------------------------------------------


def test_message_customer_is_on_closed_chats_and_ticket_pages_for_staff_only(
    client, alice, alice_ticket, agent1, supervisor
) -> None:
    live = services.session_request(
        client=alice, kind=ChatKind.POST_TICKET, ticket_id=alice_ticket.pk
    )
    services.session_join(session_id=live.pk, agent=agent1)
    services.session_end(session_id=live.pk, agent=agent1)
    on_chat = f'data-reach-out-session="{live.pk}">Message customer</button>'
    on_ticket = f'data-reach-out-ticket="{alice_ticket.pk}">Message customer</button>'

    client.force_login(supervisor)
    closed_tab = client.get("/console/supervisor/?tab=closed").content.decode()
    assert on_chat in closed_tab
    client.force_login(agent1)
    page = client.get(f"/console/tickets/{alice_ticket.pk}/").content.decode()
    assert on_ticket in page
    history = client.get(f"/console/tickets/{alice_ticket.pk}/?tab=chats").content.decode()
    assert on_chat in history

    client.force_login(alice)
    portal = client.get(f"/portal/tickets/{alice_ticket.pk}/?tab=chats").content.decode()
    assert "Message customer" not in portal
