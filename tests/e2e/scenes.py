"""A helpdesk with chats in every state, for the browser tests that look at pages rather
than walk a flow (tests/e2e/test_accessibility.py, tests/e2e/test_phone_layout.py).

The chat states are reached through the chat services, as an agent's and a client's
clicks reach them, before the page that shows them is opened. The people are the demo's
(tests/personas.py); use it from a test that has the `e2e_db` fixture:

    @pytest.fixture
    def helpdesk(new_context) -> Helpdesk:
        return Helpdesk.create(new_context)
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from playwright.sync_api import BrowserContext, Locator, Page

from accounts.models import User
from chat import services
from chat.models import ChatKind, ChatSession
from presence.models import PresenceStatus
from tests.e2e.helpers import login, make_ticket
from tests.personas import AGENT1, ALICE, BOB, SUPERVISOR, support_queue
from tickets.models import Ticket


@dataclass
class Helpdesk:
    new_context: Callable[..., BrowserContext]
    alice: User  # client of Acme
    bob: User  # Alice's colleague
    agent: User  # agent1, available
    supervisor: User
    ticket: Ticket  # Alice's

    @classmethod
    def create(cls, new_context: Callable[..., BrowserContext]) -> Helpdesk:
        alice = ALICE.create()
        agent = AGENT1.create(presence=PresenceStatus.AVAILABLE)
        support_queue(agent)  # the demo's queue, where Acme's requests go
        return cls(
            new_context=new_context,
            alice=alice,
            bob=BOB.create(),
            agent=agent,
            supervisor=SUPERVISOR.create(),
            ticket=make_ticket(alice, "Printer prints blank pages", "Since this morning."),
        )

    def open_as(self, email: str | None, path: str, **context: Any) -> Page:
        """A fresh browser logged in as `email` (None: nobody) on `path`; `context`:
        Playwright's context options (viewport=...)."""
        page = self.new_context(**context).new_page()
        page.set_default_timeout(10_000)
        if email is not None:
            login(page, email)
        page.goto(path)
        return page

    def alice_requests(self) -> ChatSession:
        return services.session_request(
            client=self.alice, kind=ChatKind.POST_TICKET, ticket_id=self.ticket.pk
        )

    def agent_joins(self, session: ChatSession) -> ChatSession:
        return services.session_join(session_id=session.pk, agent=self.agent)

    def alice_chats(self) -> ChatSession:
        """Alice's chat on her ticket, answered by agent1, a message each way."""
        session = self.agent_joins(self.alice_requests())
        for author, body in (
            (self.alice, "The printer prints **blank** pages"),
            (self.agent, "Have you tried a new toner cartridge? https://kb.example/toner"),
        ):
            services.message_send(
                session_id=session.pk, author=author, client_id=uuid.uuid4(), body=body
            )
        return session

    def bob_waits(self) -> ChatSession:
        return services.session_request(
            client=self.bob, kind=ChatKind.PRE_TICKET, subject="Cannot reach the VPN"
        )

    def alice_chatted(self) -> ChatSession:
        """Alice's chat, ended by agent1 (she has not left it yet)."""
        session = self.alice_chats()
        return services.session_end(session_id=session.pk, agent=self.agent)


def chat_window(page: Page) -> Locator:
    """The newest chat window of the page."""
    return page.locator(".chat-window").last
