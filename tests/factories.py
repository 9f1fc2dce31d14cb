"""factory_boy factories shared by every test package."""

from __future__ import annotations

from typing import TYPE_CHECKING

import factory

from accounts.models import Company, Contact, Role, User
from tickets.models import Ticket, TicketNote

if TYPE_CHECKING:
    from chat.models import ChatSession

PASSWORD = "switchboard"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.com")
    full_name = factory.Faker("name")
    role = Role.CLIENT
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def _save(obj: User, create: bool, extracted: object, **kwargs: object) -> None:  # noqa: N805
        if create:
            obj.save()


# Not "agent{n}": agent1@ and agent2@ are demo people (tests/personas.py), and an
# email's local part is a mention ("@agent1").
class AgentFactory(UserFactory):
    role = Role.AGENT
    email = factory.Sequence(lambda n: f"agent-{n}@example.com")


class SupervisorFactory(UserFactory):
    role = Role.SUPERVISOR
    email = factory.Sequence(lambda n: f"supervisor-{n}@example.com")


class CompanyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Company
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Company {n}")


class ContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contact

    name = factory.Faker("name")
    email = factory.Sequence(lambda n: f"contact{n}@client.example")
    company = factory.SubFactory(CompanyFactory)
    user = None


def client_user(company: Company | None = None, *, phone: str = "", **kwargs: object) -> User:
    """A portal user with its contact, the way clients exist in the product."""
    user = UserFactory(**kwargs)
    ContactFactory(
        name=user.full_name,
        email=user.email,
        phone=phone,
        company=company or CompanyFactory(),
        user=user,
    )
    return user


class TicketFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Ticket

    subject = factory.Sequence(lambda n: f"Ticket subject {n}")
    description = "Something is broken."
    contact = factory.SubFactory(ContactFactory)
    company = factory.LazyAttribute(lambda o: o.contact.company)


class NoteFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TicketNote

    ticket = factory.SubFactory(TicketFactory)
    author = factory.SubFactory(AgentFactory)
    body = "A note."
    is_internal = False


def active_post_ticket_chat() -> tuple[ChatSession, User, User]:
    """Alice's chat on one of her tickets, answered by agent1 (available):
    (session, client, agent), through the services as in the product."""
    from chat import services
    from chat.models import ChatKind
    from presence.models import PresenceStatus
    from tests.personas import AGENT1, ALICE

    client = ALICE.create()
    ticket = TicketFactory(contact=client.contact)
    agent = AGENT1.create(presence=PresenceStatus.AVAILABLE)
    requested = services.session_request(
        client=client, kind=ChatKind.POST_TICKET, ticket_id=ticket.pk
    )
    return services.session_join(session_id=requested.pk, agent=agent), client, agent
