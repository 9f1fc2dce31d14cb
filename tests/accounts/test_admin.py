"""Django admin: every page opens for an administrator, nobody else gets in,
the forms keep the same rules as the services, and lists cost a fixed number
of queries."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, time

import pytest
from django.contrib import admin
from django.contrib.auth import authenticate
from django.core.files.base import ContentFile
from django.db import connection
from django.db.models import Model
from django.test import Client, RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import Company, Contact, Role, User
from config.management.commands.seed_demo import seed
from officehours.models import Holiday, Schedule, WeeklyInterval
from presence.models import AgentConnection, AgentPresence
from tests.factories import (
    AgentFactory,
    CompanyFactory,
    ContactFactory,
    NoteFactory,
    TicketFactory,
    client_user,
)
from tickets import services as ticket_services
from tickets.models import Ticket, TicketNote, TicketStatus, TimeEntry

pytestmark = pytest.mark.django_db

PROJECT_APPS = {"accounts", "tickets", "officehours", "presence"}


@pytest.fixture
def superuser() -> User:
    return User.objects.create_superuser("root@example.com", "switchboard", full_name="Root")


@pytest.fixture
def admin_client(client: Client, superuser: User) -> Client:
    client.force_login(superuser)
    return client


@pytest.fixture
def populated(superuser: User) -> None:
    """The demo data plus the rows the demo does not make (files, sockets)."""
    seed()
    ticket = Ticket.objects.filter(status=TicketStatus.ASSIGNED).first()
    assert ticket is not None
    agent = User.objects.get(email="agent1@example.com")
    ticket_services.note_add(
        ticket=ticket,
        author=agent,
        body="Screenshot attached.",
        files=[ContentFile(b"\x89PNG fake", name="screen.png")],
    )
    AgentConnection.objects.create(
        user=agent, channel_name="specific.abc!def", last_seen=timezone.now()
    )
    schedule = Schedule.objects.get(is_active=True)
    Holiday.objects.create(schedule=schedule, date=date(2025, 12, 25), name="Christmas Day")


def admin_url(model: type[Model], view: str, *args: object) -> str:
    meta = model._meta
    return reverse(f"admin:{meta.app_label}_{meta.model_name}_{view}", args=args)


def registered_models() -> list[type[Model]]:
    return sorted(admin.site._registry, key=lambda m: m._meta.label)


# --- every page ---------------------------------------------------------------------------


def test_every_project_model_is_registered() -> None:
    from django.apps import apps

    missing = [
        model._meta.label
        for app in PROJECT_APPS
        for model in apps.get_app_config(app).get_models()
        if model not in admin.site._registry
    ]
    assert missing == []


@pytest.mark.usefixtures("populated")
def test_superuser_opens_every_changelist_and_change_page(admin_client: Client) -> None:
    opened = []
    for model in registered_models():
        response = admin_client.get(admin_url(model, "changelist"))
        assert response.status_code == 200, model._meta.label
        instance = model._default_manager.order_by("pk").first()
        if instance is None:
            continue
        response = admin_client.get(admin_url(model, "change", instance.pk))
        assert response.status_code == 200, model._meta.label
        opened.append(model._meta.label)
    # Every model of the project has rows after seeding, so each change page was seen.
    from django.apps import apps

    for app in PROJECT_APPS:
        for model in apps.get_app_config(app).get_models():
            assert model._meta.label in opened


@pytest.mark.usefixtures("populated")
def test_add_pages_open_where_adding_is_allowed(admin_client: Client) -> None:
    for model in registered_models():
        response = admin_client.get(admin_url(model, "add"))
        model_admin = admin.site._registry[model]
        request = response.wsgi_request
        expected = 200 if model_admin.has_add_permission(request) else 403
        assert response.status_code == expected, model._meta.label


@pytest.mark.usefixtures("populated")
def test_search_and_filters_work_on_every_changelist(admin_client: Client) -> None:
    searched, filtered = [], []
    for model in registered_models():
        model_admin = admin.site._registry[model]
        if model_admin.search_fields:
            response = admin_client.get(admin_url(model, "changelist"), {"q": "acme 1"})
            assert response.status_code == 200, model._meta.label
            searched.append(model)
        for spec in model_admin.list_filter:
            name = spec[0] if isinstance(spec, tuple) else spec
            if isinstance(name, str):
                response = admin_client.get(
                    admin_url(model, "changelist"), {f"{name}__isnull": "False"}
                )
                assert response.status_code == 200, (model._meta.label, name)
                filtered.append((model, name))
    # The loops check what they find: they must have found something to check.
    assert searched and filtered


@pytest.mark.usefixtures("populated")
@pytest.mark.parametrize("who", ["client", "agent", "anonymous"])
def test_nobody_but_admin_staff_gets_in(client: Client, who: str) -> None:
    if who == "client":
        client.force_login(User.objects.get(email="alice@acme.example"))
    elif who == "agent":
        client.force_login(User.objects.get(email="agent1@example.com"))
    for model in registered_models():
        instance = model._default_manager.order_by("pk").first()
        urls = [admin_url(model, "changelist")]
        if instance is not None:
            urls.append(admin_url(model, "change", instance.pk))
        for url in urls:
            response = client.get(url)
            assert response.status_code == 302, (who, url)
            assert response["Location"].startswith(reverse("admin:login"))


# --- users ----------------------------------------------------------------------------------


def test_add_user_with_email_login(admin_client: Client, rf: RequestFactory) -> None:
    response = admin_client.post(
        admin_url(User, "add"),
        {
            "email": "New.Agent@Example.com",
            "full_name": "Nadia Agent",
            "role": Role.AGENT,
            "usable_password": "true",
            "password1": "a-long-password",
            "password2": "a-long-password",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    user = User.objects.get(email="new.agent@example.com")
    assert user.role == Role.AGENT
    login = rf.post("/accounts/login/")  # the login throttle needs the request
    assert authenticate(login, username="new.agent@example.com", password="a-long-password") == user


def test_add_user_refuses_an_email_differing_only_by_case(admin_client: Client) -> None:
    AgentFactory(email="taken@example.com")
    response = admin_client.post(
        admin_url(User, "add"),
        {
            "email": "TAKEN@example.com",
            "role": Role.AGENT,
            "usable_password": "true",
            "password1": "a-long-password",
            "password2": "a-long-password",
        },
    )
    assert response.status_code == 200
    assert "already exists" in response.content.decode()
    assert User.objects.filter(email__iexact="taken@example.com").count() == 1


def test_change_user_role_and_flags(admin_client: Client) -> None:
    agent = AgentFactory(email="promote@example.com", full_name="Pat Promote")
    response = admin_client.post(
        admin_url(User, "change", agent.pk),
        {
            "email": "promote@example.com",
            "full_name": "Pat Promote",
            "role": Role.SUPERVISOR,
            "is_active": "on",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    agent.refresh_from_db()
    assert agent.role == Role.SUPERVISOR


def test_a_client_cannot_be_given_admin_access(admin_client: Client) -> None:
    user = client_user(email="client@acme.example")
    data = {
        "email": user.email,
        "full_name": user.full_name,
        "role": Role.CLIENT,
        "is_active": "on",
        "is_staff": "on",
        # The client's contact inline.
        "contact-TOTAL_FORMS": "1",
        "contact-INITIAL_FORMS": "1",
        "contact-MIN_NUM_FORMS": "0",
        "contact-MAX_NUM_FORMS": "1",
        "contact-0-id": str(user.contact.pk),
        "contact-0-user": str(user.pk),
        "contact-0-name": user.contact.name,
        "contact-0-company": str(user.contact.company_id),
        "contact-0-email": user.email,
        "contact-0-phone": "",
    }
    response = admin_client.post(admin_url(User, "change", user.pk), data)
    assert response.status_code == 200
    assert "Clients cannot have admin access" in response.content.decode()
    user.refresh_from_db()
    assert not user.is_staff


def test_admin_changes_a_password(admin_client: Client, rf: RequestFactory) -> None:
    agent = AgentFactory(email="forgot@example.com")
    url = reverse("admin:auth_user_password_change", args=[agent.pk])
    assert admin_client.get(url).status_code == 200
    response = admin_client.post(
        url,
        {"usable_password": "true", "password1": "brand-new-pass", "password2": "brand-new-pass"},
    )
    assert response.status_code == 302
    login = rf.post("/accounts/login/")  # the login throttle needs the request
    assert authenticate(login, username="forgot@example.com", password="brand-new-pass") == agent


def test_user_search_by_email_and_name(admin_client: Client) -> None:
    AgentFactory(email="zelda@example.com", full_name="Zelda Quist")
    AgentFactory(email="other@example.com", full_name="Someone Else")
    for term in ("zelda@", "Quist"):
        response = admin_client.get(admin_url(User, "changelist"), {"q": term})
        content = response.content.decode()
        assert "zelda@example.com" in content
        assert "other@example.com" not in content


def test_user_list_filters_by_role(admin_client: Client) -> None:
    AgentFactory(email="an-agent@example.com")
    client_user(email="a-client@acme.example")
    response = admin_client.get(admin_url(User, "changelist"), {"role__exact": Role.AGENT})
    content = response.content.decode()
    assert "an-agent@example.com" in content
    assert "a-client@acme.example" not in content


def test_assignee_autocomplete_offers_active_staff_only(admin_client: Client) -> None:
    AgentFactory(email="helper@example.com", full_name="Helper Person")
    AgentFactory(email="gone@example.com", full_name="Helper Gone", is_active=False)
    client_user(email="helpme@acme.example", full_name="Helper Client")
    response = admin_client.get(
        reverse("admin:autocomplete"),
        {
            "app_label": "tickets",
            "model_name": "ticket",
            "field_name": "assignee",
            "term": "helper",
        },
    )
    assert response.status_code == 200
    ids = {int(row["id"]) for row in response.json()["results"]}
    assert ids == {User.objects.get(email="helper@example.com").pk}


# --- companies and contacts -------------------------------------------------------------------


def test_company_with_contacts_inline(admin_client: Client) -> None:
    company = CompanyFactory(name="Initech")
    ContactFactory(company=company, name="Peter Gibbons")
    response = admin_client.get(admin_url(Company, "change", company.pk))
    assert response.status_code == 200
    assert "Peter Gibbons" in response.content.decode()
    response = admin_client.get(admin_url(Company, "changelist"))
    assert "Initech" in response.content.decode()


def test_contact_with_login_takes_its_email(admin_client: Client) -> None:
    company = CompanyFactory(name="Hooli")
    user = User.objects.create_user("gavin@hooli.example", "switchboard", role=Role.CLIENT)
    response = admin_client.post(
        admin_url(Contact, "add"),
        {"name": "Gavin Belson", "company": company.pk, "user": user.pk, "email": "", "phone": ""},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert Contact.objects.get(user=user).email == "gavin@hooli.example"


# --- tickets ------------------------------------------------------------------------------------


def ticket_form(ticket: Ticket, **changes: object) -> dict[str, object]:
    data: dict[str, object] = {
        "subject": ticket.subject,
        "description": ticket.description,
        "company": ticket.company_id,
        "contact": ticket.contact_id or "",
        "assignee": ticket.assignee_id or "",
        "status": ticket.status,
    }
    for prefix in ("notes", "attachments", "time_entries"):
        data.update(
            {
                f"{prefix}-TOTAL_FORMS": "0",
                f"{prefix}-INITIAL_FORMS": "0",
                f"{prefix}-MIN_NUM_FORMS": "0",
                f"{prefix}-MAX_NUM_FORMS": "1000",
            }
        )
    data.update(changes)
    return data


def test_ticket_form_refuses_assigned_without_assignee(admin_client: Client) -> None:
    ticket = TicketFactory()
    response = admin_client.post(
        admin_url(Ticket, "change", ticket.pk), ticket_form(ticket, status=TicketStatus.ASSIGNED)
    )
    assert response.status_code == 200
    assert "An assigned ticket needs an assignee" in response.content.decode()
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.UNASSIGNED


def test_ticket_form_refuses_a_client_as_assignee(admin_client: Client) -> None:
    ticket = TicketFactory()
    outsider = client_user()
    response = admin_client.post(
        admin_url(Ticket, "change", ticket.pk),
        ticket_form(ticket, status=TicketStatus.ASSIGNED, assignee=outsider.pk),
    )
    assert response.status_code == 200
    assert "only be assigned to active staff" in response.content.decode()


def test_ticket_form_refuses_a_contact_of_another_company(admin_client: Client) -> None:
    ticket = TicketFactory()
    stranger = ContactFactory()
    response = admin_client.post(
        admin_url(Ticket, "change", ticket.pk), ticket_form(ticket, contact=stranger.pk)
    )
    assert response.status_code == 200
    assert "belongs to another company" in response.content.decode()


def test_ticket_form_assigns_and_closes_consistently(admin_client: Client) -> None:
    ticket = TicketFactory()
    agent = AgentFactory()
    response = admin_client.post(
        admin_url(Ticket, "change", ticket.pk),
        ticket_form(ticket, status=TicketStatus.ASSIGNED, assignee=agent.pk),
    )
    assert response.status_code == 302
    ticket.refresh_from_db()
    assert (ticket.status, ticket.assignee, ticket.closed_at) == (
        TicketStatus.ASSIGNED,
        agent,
        None,
    )
    admin_client.post(
        admin_url(Ticket, "change", ticket.pk), ticket_form(ticket, status=TicketStatus.CLOSED)
    )
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.CLOSED and ticket.closed_at is not None


def test_note_added_in_admin_is_written_by_the_administrator(
    admin_client: Client, superuser: User
) -> None:
    ticket = TicketFactory()
    data = ticket_form(ticket)
    data.update(
        {
            "notes-TOTAL_FORMS": "1",
            "notes-0-body": "Called the user back.",
            "notes-0-is_internal": "on",
            "time_entries-TOTAL_FORMS": "1",
            "time_entries-0-minutes": "10",
            "time_entries-0-note": "Phone call",
        }
    )
    response = admin_client.post(admin_url(Ticket, "change", ticket.pk), data)
    assert response.status_code == 302, response.content.decode()[:3000]
    note = TicketNote.objects.get(ticket=ticket)
    assert (note.author, note.is_internal) == (superuser, True)
    assert TimeEntry.objects.get(ticket=ticket).agent == superuser


def test_time_entry_over_a_day_is_refused(admin_client: Client) -> None:
    ticket = TicketFactory()
    data = ticket_form(ticket)
    data.update({"time_entries-TOTAL_FORMS": "1", "time_entries-0-minutes": "2000"})
    response = admin_client.post(admin_url(Ticket, "change", ticket.pk), data)
    assert response.status_code == 200
    assert not TimeEntry.objects.exists()


def test_close_and_reopen_actions_use_the_services(admin_client: Client) -> None:
    tickets = [TicketFactory(), TicketFactory()]
    ids = [t.pk for t in tickets]
    url = admin_url(Ticket, "changelist")
    admin_client.post(url, {"action": "close_tickets", "_selected_action": ids})
    assert set(Ticket.objects.values_list("status", flat=True)) == {TicketStatus.CLOSED}
    assert not Ticket.objects.filter(closed_at__isnull=True).exists()
    # Closing again is refused per ticket, with a message, and changes nothing.
    response = admin_client.post(
        url, {"action": "close_tickets", "_selected_action": ids}, follow=True
    )
    assert "already closed" in response.content.decode()
    admin_client.post(url, {"action": "reopen_tickets", "_selected_action": ids})
    assert set(Ticket.objects.values_list("status", flat=True)) == {TicketStatus.UNASSIGNED}


def test_ticket_search_by_number(admin_client: Client) -> None:
    wanted = TicketFactory(subject="Wanted ticket")
    TicketFactory(subject="Other ticket")
    response = admin_client.get(admin_url(Ticket, "changelist"), {"q": f"#{wanted.pk}"})
    content = response.content.decode()
    assert "Wanted ticket" in content
    assert "Other ticket" not in content


# --- office hours -------------------------------------------------------------------------------


def schedule_form(name: str, *, active: bool, intervals: int = 0) -> dict[str, str]:
    data = {
        "name": name,
        "timezone": "Europe/London",
        "intervals-TOTAL_FORMS": str(intervals),
        "intervals-INITIAL_FORMS": "0",
        "intervals-MIN_NUM_FORMS": "0",
        "intervals-MAX_NUM_FORMS": "1000",
        "holidays-TOTAL_FORMS": "1",
        "holidays-INITIAL_FORMS": "0",
        "holidays-MIN_NUM_FORMS": "0",
        "holidays-MAX_NUM_FORMS": "1000",
        "holidays-0-date": "2025-12-25",
        "holidays-0-name": "Christmas Day",
    }
    if active:
        data["is_active"] = "on"
    for index in range(intervals):
        data.update(
            {
                f"intervals-{index}-weekday": str(index),
                f"intervals-{index}-start": "09:00",
                f"intervals-{index}-end": "17:30",
            }
        )
    return data


def test_schedule_with_intervals_and_holidays(admin_client: Client) -> None:
    response = admin_client.post(
        admin_url(Schedule, "add"), schedule_form("London office", active=True, intervals=5)
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    schedule = Schedule.objects.get(name="London office")
    assert schedule.is_active and schedule.timezone == "Europe/London"
    assert schedule.intervals.count() == 5
    assert schedule.holidays.get().name == "Christmas Day"
    response = admin_client.get(admin_url(Schedule, "changelist"))
    assert "London office" in response.content.decode()


def test_second_active_schedule_is_refused_with_a_message(admin_client: Client) -> None:
    Schedule.objects.create(name="Current", timezone="UTC", is_active=True)
    response = admin_client.post(admin_url(Schedule, "add"), schedule_form("Another", active=True))
    assert response.status_code == 200
    assert "is the active schedule" in response.content.decode()
    assert not Schedule.objects.filter(name="Another").exists()


def test_make_active_action_switches_schedules(admin_client: Client) -> None:
    current = Schedule.objects.create(name="Current", timezone="UTC", is_active=True)
    other = Schedule.objects.create(name="Winter", timezone="UTC", is_active=False)
    WeeklyInterval.objects.create(schedule=other, weekday=0, start=time(9), end=time(17))
    admin_client.post(
        admin_url(Schedule, "changelist"),
        {"action": "make_active", "_selected_action": [other.pk]},
    )
    current.refresh_from_db()
    other.refresh_from_db()
    assert (current.is_active, other.is_active) == (False, True)


# --- presence ---------------------------------------------------------------------------


def test_presence_is_read_only(admin_client: Client) -> None:
    agent = AgentFactory()
    presence = AgentPresence.objects.create(user=agent)
    response = admin_client.post(
        admin_url(AgentPresence, "change", presence.pk), {"status": "available"}
    )
    assert response.status_code == 403
    presence.refresh_from_db()
    assert presence.status == "offline"
    assert admin_client.get(admin_url(AgentPresence, "add")).status_code == 403
    assert admin_client.get(admin_url(AgentConnection, "add")).status_code == 403


# --- fixed query counts ------------------------------------------------------------------------


def _make_tickets(n: int) -> None:
    agent = AgentFactory()
    company = CompanyFactory()
    for index in range(n):
        contact = ContactFactory(company=company)
        ticket = TicketFactory(contact=contact, company=company)
        if index % 2:
            Ticket.objects.filter(pk=ticket.pk).update(assignee=agent, status="assigned")


def _make_notes(n: int) -> None:
    for _ in range(n):
        NoteFactory()


def _make_users(n: int) -> None:
    company = CompanyFactory()
    for _ in range(n):
        client_user(company=company)


def _make_contacts(n: int) -> None:
    for _ in range(n):
        ContactFactory()


def _make_time_entries(n: int) -> None:
    agent = AgentFactory()
    for _ in range(n):
        TimeEntry.objects.create(ticket=TicketFactory(), agent=agent, minutes=5)


def _make_companies(n: int) -> None:
    for _ in range(n):
        ContactFactory(company=TicketFactory().company)


def _make_presence(n: int) -> None:
    for _ in range(n):
        agent = AgentFactory()
        AgentPresence.objects.create(user=agent)
        AgentConnection.objects.create(
            user=agent, channel_name=f"specific.{agent.pk}", last_seen=timezone.now()
        )


@pytest.mark.parametrize(
    ("model", "make"),
    [
        (Ticket, _make_tickets),
        (TicketNote, _make_notes),
        (User, _make_users),
        (Contact, _make_contacts),
        (Company, _make_companies),
        (TimeEntry, _make_time_entries),
        (AgentPresence, _make_presence),
        (AgentConnection, _make_presence),
    ],
    ids=lambda value: getattr(value, "__name__", str(value)),
)
def test_changelist_query_count_does_not_grow_with_rows(
    admin_client: Client, model: type[Model], make: Callable[[int], None]
) -> None:
    url = admin_url(model, "changelist")
    make(5)
    admin_client.get(url)  # warm caches (content types, sessions)
    with CaptureQueriesContext(connection) as few:
        assert admin_client.get(url).status_code == 200
    make(45)
    with CaptureQueriesContext(connection) as many:
        assert admin_client.get(url).status_code == 200
    assert model._default_manager.count() >= 50
    assert len(many) == len(few), [q["sql"] for q in many.captured_queries]
