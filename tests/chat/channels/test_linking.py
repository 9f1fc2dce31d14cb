"""Link to contact: an agent in an unknown number's SMS/WhatsApp chat links
it to the contact it turns out to be; nobody else may, and a matched chat is
never moved to another company."""

from __future__ import annotations

import pytest

from accounts.models import Contact
from chat import services
from chat.agent_tools.contacts import contact_candidates, contact_link
from chat.errors import ChatNotFound, InvalidState
from chat.models import ChatSession, SessionStatus
from tests.chat.channels.signed import post_twilio, post_whatsapp, sms, wa_text, whatsapp_value
from tests.factories import ContactFactory
from tests.personas import ALICE

pytestmark = pytest.mark.django_db


@pytest.fixture
def unknown_chat(client, whatsapp_on, agent1, default_queue) -> ChatSession:  # type: ignore[no-untyped-def]
    post_whatsapp(client, whatsapp_value([wa_text("wamid.1", "Hi, it's Alice")]))
    return services.session_join(session_id=ChatSession.objects.get().pk, agent=agent1)


def test_an_agent_in_the_chat_finds_and_links_the_contact(
    unknown_chat, agent1, alice, sent, django_capture_on_commit_callbacks
) -> None:
    Contact.objects.filter(pk=alice.contact.pk).update(phone="")
    found = contact_candidates(session_id=unknown_chat.pk, agent=agent1, query="acme")
    assert ALICE.full_name in [c["name"] for c in found]

    with django_capture_on_commit_callbacks(execute=True):
        linked = contact_link(session_id=unknown_chat.pk, agent=agent1, contact_id=alice.contact.pk)

    linked.refresh_from_db()
    assert linked.contact == alice.contact
    assert linked.client.display_name == ALICE.full_name
    assert linked.messages.last().body.endswith(f"linked this chat to {ALICE.full_name} (Acme).")
    # The contact had no phone: it keeps the number, so the next message is matched.
    alice.contact.refresh_from_db()
    assert alice.contact.phone_e164 == "+447700900123"
    # Every session manager shows the chat with its company now.
    # (its queue's members and the supervisors: one frame to each group).
    updates = [(g, f) for g, f in sent.of_type("queue.updated") if f["session"]["id"] == linked.pk]
    assert sorted(group for group, _ in updates) == [f"queue.{linked.queue_id}", "queue.all"]
    for _, frame in updates:
        assert frame["session"]["company"] == "Acme"
        assert frame["session"]["contact"] == {"id": alice.contact.pk, "name": ALICE.full_name}


def test_a_linked_chat_ends_with_a_ticket_for_the_contact(unknown_chat, agent1, alice) -> None:
    contact_link(session_id=unknown_chat.pk, agent=agent1, contact_id=alice.contact.pk)
    ended = services.session_end(
        session_id=unknown_chat.pk, agent=agent1, outcome=services.EndOutcome.CREATE_TICKET
    )
    assert ended.status == SessionStatus.ENDED
    assert ended.ticket.contact == alice.contact and ended.ticket.company == alice.contact.company


def test_an_agent_outside_the_chat_cannot_link_it_or_search_through_it(
    unknown_chat, agent2, alice
) -> None:
    with pytest.raises(ChatNotFound):
        contact_link(session_id=unknown_chat.pk, agent=agent2, contact_id=alice.contact.pk)
    with pytest.raises(ChatNotFound):
        contact_candidates(session_id=unknown_chat.pk, agent=agent2, query="acme")
    assert ChatSession.objects.get().contact is None


def test_a_client_cannot_link(unknown_chat, alice) -> None:
    with pytest.raises(Exception, match="Only staff"):
        contact_link(session_id=unknown_chat.pk, agent=alice, contact_id=alice.contact.pk)


def test_a_supervisor_may_link_a_chat_it_is_not_in(unknown_chat, supervisor, alice) -> None:
    contact_link(session_id=unknown_chat.pk, agent=supervisor, contact_id=alice.contact.pk)
    assert ChatSession.objects.get().contact == alice.contact


def test_a_matched_chat_is_never_moved_to_another_company(
    client, twilio_on, alice, carol, agent1, default_queue
) -> None:
    post_twilio(client, sms("SM1", sender=alice.contact.phone_e164))
    session = services.session_join(session_id=ChatSession.objects.get().pk, agent=agent1)

    with pytest.raises(InvalidState, match="already linked") as refused:
        contact_link(session_id=session.pk, agent=agent1, contact_id=carol.contact.pk)
    assert refused.value.code == "already_linked"
    assert ChatSession.objects.get().contact == alice.contact
    # The same contact again is a resend: nothing changes.
    contact_link(session_id=session.pk, agent=agent1, contact_id=alice.contact.pk)


def test_a_portal_chat_is_not_linked(alice, alice_ticket, agent1, default_queue) -> None:
    from chat.models import ChatKind

    requested = services.session_request(
        client=alice, kind=ChatKind.POST_TICKET, ticket_id=alice_ticket.pk
    )
    services.session_join(session_id=requested.pk, agent=agent1)
    other = ContactFactory()
    with pytest.raises(InvalidState) as refused:
        contact_link(session_id=requested.pk, agent=agent1, contact_id=other.pk)
    assert refused.value.code == "not_phone_chat"
