"""seed_demo: the demo helpdesk, created once, whatever the number of runs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
from django.apps import apps
from django.contrib.auth import authenticate
from django.core.management import call_command
from django.test import RequestFactory

from accounts.models import STAFF_ROLES, Company, Contact, Role, User
from officehours import services as officehours
from officehours.models import Schedule
from presence.models import AgentPresence, PresenceStatus
from tickets.models import Ticket, TicketNote, TicketStatus

pytestmark = pytest.mark.django_db

LOGINS = {
    "admin@example.com": Role.ADMINISTRATOR,
    "supervisor@example.com": Role.SUPERVISOR,
    "agent1@example.com": Role.AGENT,
    "agent2@example.com": Role.AGENT,
    "alice@acme.example": Role.CLIENT,
    "bob@acme.example": Role.CLIENT,
    "carol@globex.example": Role.CLIENT,
    "dave@globex.example": Role.CLIENT,
}


def seed() -> str:
    out = StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


def row_counts() -> dict[str, int]:
    """Rows of every table of the project's apps."""
    return {
        model._meta.label: model.objects.count()
        for app in ("accounts", "tickets", "officehours", "presence")
        for model in apps.get_app_config(app).get_models()
    }


def test_second_run_changes_nothing() -> None:
    first = seed()
    counts = row_counts()
    snapshot = {
        label: sorted(
            map(repr, apps.get_model(label).objects.values_list(named=False).order_by("pk"))
        )
        for label in counts
    }
    second = seed()
    assert row_counts() == counts
    assert {
        label: sorted(
            map(repr, apps.get_model(label).objects.values_list(named=False).order_by("pk"))
        )
        for label in counts
    } == snapshot
    assert "Demo data created" in first
    assert "nothing changed" in second


def test_every_demo_login_works(rf: RequestFactory) -> None:
    seed()
    # As a login page asks: the login throttle needs the request.
    login = rf.post("/accounts/login/")
    for email, role in LOGINS.items():
        user = authenticate(login, username=email, password="switchboard")
        assert user is not None, email
        assert user.role == role
        assert user.full_name
    # Log-in is case-insensitive.
    assert authenticate(login, username="Alice@Acme.example", password="switchboard") is not None
    assert authenticate(login, username="alice@acme.example", password="wrong") is None


def test_only_the_administrator_gets_admin_access() -> None:
    seed()
    admin = User.objects.get(email="admin@example.com")
    assert admin.is_staff and admin.is_superuser
    assert not User.objects.exclude(pk=admin.pk).filter(is_staff=True).exists()
    assert not User.objects.filter(is_superuser=True).exclude(pk=admin.pk).exists()


def test_clients_have_contacts_at_their_company() -> None:
    seed()
    expected = {
        "alice@acme.example": "Acme",
        "bob@acme.example": "Acme",
        "carol@globex.example": "Globex",
        "dave@globex.example": "Globex",
    }
    for email, company in expected.items():
        contact = Contact.objects.select_related("company", "user").get(user__email=email)
        assert contact.company.name == company
        assert contact.email == email
        assert contact.name == contact.user.full_name
    assert set(Company.objects.values_list("name", flat=True)) == {"Acme", "Globex"}
    assert not Contact.objects.filter(user__role__in=[Role.AGENT, Role.SUPERVISOR]).exists()


def test_tickets_cover_the_console_tabs() -> None:
    seed()
    for email in ("alice@acme.example", "bob@acme.example", "carol@globex.example"):
        assert Ticket.objects.filter(contact__user__email=email).count() >= 2
    assert Ticket.objects.filter(contact__user__email="dave@globex.example").exists()
    assigned = Ticket.objects.filter(status=TicketStatus.ASSIGNED)
    assert assigned.filter(assignee__email="agent1@example.com").exists()
    closed = Ticket.objects.get(status=TicketStatus.CLOSED)
    assert closed.closed_at is not None
    assert Ticket.objects.filter(status=TicketStatus.UNASSIGNED).count() >= 3
    # Every ticket's contact belongs to the ticket's company.
    for ticket in Ticket.objects.select_related("contact"):
        assert ticket.contact is not None and ticket.contact.company_id == ticket.company_id


def test_notes_include_public_and_one_internal() -> None:
    seed()
    assert TicketNote.objects.filter(is_internal=False).count() >= 2
    internal = TicketNote.objects.filter(is_internal=True)
    assert internal.count() == 1
    assert internal.get().author.is_agent


def test_staff_have_offline_presence() -> None:
    seed()
    staff = User.objects.exclude(role=Role.CLIENT)
    assert staff.count() == 4
    assert AgentPresence.objects.filter(user__in=staff, status=PresenceStatus.OFFLINE).count() == 4
    assert not AgentPresence.objects.filter(user__role=Role.CLIENT).exists()


def test_office_hours_are_open_around_the_clock() -> None:
    seed()
    schedule = officehours.active_schedule()
    assert schedule is not None
    assert schedule.timezone == "UTC"
    assert schedule.intervals.count() == 7
    monday = datetime(2025, 1, 6, tzinfo=UTC)
    for hour in range(0, 24 * 7, 5):
        assert officehours.is_open(monday + timedelta(hours=hour)) is True


def test_an_existing_schedule_is_left_alone() -> None:
    Schedule.objects.create(name="Business hours", timezone="Europe/London")
    seed()
    assert list(Schedule.objects.values_list("name", flat=True)) == ["Business hours"]


def test_existing_users_are_not_modified() -> None:
    seed()
    User.objects.filter(email="agent1@example.com").update(full_name="Renamed")
    user = User.objects.get(email="agent1@example.com")
    user.set_password("changed-it")
    user.save()
    seed()
    user.refresh_from_db()
    assert user.full_name == "Renamed"
    assert user.check_password("changed-it")


def test_quiet_run_prints_nothing() -> None:
    out = StringIO()
    call_command("seed_demo", stdout=out, verbosity=0)
    assert out.getvalue() == ""
    assert User.objects.count() == len(LOGINS)


@pytest.mark.django_db
def test_seed_makes_a_default_chat_queue_of_the_demo_agents() -> None:
    from django.core.management import call_command

    from chat.models import ChatQueue

    call_command("seed_demo", verbosity=0)
    call_command("seed_demo", verbosity=0)
    queue = ChatQueue.objects.get()
    assert queue.is_default
    assert set(queue.members.values_list("email", flat=True)) == {
        "agent1@example.com",
        "agent2@example.com",
        "supervisor@example.com",
    }


def test_a_run_by_hand_lists_each_login_once() -> None:
    out = seed()
    assert "Demo logins (password: switchboard)" in out
    for email in LOGINS:
        assert out.count(email) == 1, out


def test_no_logins_leaves_the_list_to_make_run() -> None:
    out = StringIO()
    call_command("seed_demo", "--no-logins", stdout=out)
    assert "Demo data created" in out.getvalue()
    assert not any(email in out.getvalue() for email in LOGINS)


@pytest.mark.django_db
def test_every_demo_agent_may_answer_every_demo_clients_requests() -> None:
    # `make run` must work for every demo login: only a queue's members (and
    # supervisors) may answer its requests.
    from chat.queues import answers, queue_for_company

    call_command("seed_demo", verbosity=0)
    staff = User.objects.filter(role__in=STAFF_ROLES)
    assert staff.count() == 4
    for company in Company.objects.all():
        queue = queue_for_company(company.pk)
        assert queue is not None
        for user in staff:
            assert answers(user, queue.pk), (user, company)


def test_whatsapp_and_sms_can_be_tried_on_the_demo() -> None:
    """Approved WhatsApp templates, and a contact reached by phone with a
    ticket to Message customer from (README: a WhatsApp chat in one minute)."""
    from chat.models import WhatsAppTemplate
    from chat.whatsapp_templates import approved_templates

    seed()
    seed()
    assert {t["name"] for t in approved_templates()} == {"ticket_follow_up", "helpdesk_callback"}
    for template in WhatsAppTemplate.objects.all():
        template.full_clean()  # as admin would have it
    erin = Contact.objects.get(name="Erin Walsh")
    assert erin.user is None and erin.company.name == "Acme"
    assert erin.phone_e164 == "+447700900456"
    assert Ticket.objects.filter(contact=erin, status=TicketStatus.UNASSIGNED).count() == 1
