"""Visitor info and page views (chat.visitors): one test per rule of what is
recorded, the first-visit cookie and its parsing, the landing page, page view
validation and de-duplication, who may report and read, delivery to staff
only, and that nothing of it reaches a client's page, API or transcript."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from http.cookies import SimpleCookie

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from chat import services
from chat.errors import ChatForbidden, ChatNotFound, InvalidState, MessageInvalid
from chat.models import (
    ChatKind,
    ChatSession,
    Message,
    PageView,
    Participant,
    SessionStatus,
    VisitorInfo,
)
from chat.payloads import session_payload
from chat.transcripts import transcript_text
from chat.visitors import middleware as visitor_middleware
from chat.visitors import page_views
from chat.visitors import recording as visit_recording
from presence.models import AgentConnection
from tests.personas import ALICE, SUPERVISOR

pytestmark = pytest.mark.django_db

IP = "203.0.113.7"
UA = "Mozilla/5.0 (X11; Linux x86_64) VisitorTest/1.0"
FIRST_AT = datetime(2026, 3, 4, 9, 15, tzinfo=UTC)
LANDING_AT = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
VISIT = visit_recording.Visit(
    user_agent=UA,
    landing_page="/portal/tickets/12/",
    landing_at=LANDING_AT,
    first_visit_page="/portal/",
    first_visit_at=FIRST_AT,
    client_ip=IP,
)
XSS = "<img src=x onerror=alert(1)>"


def request(client, ticket, visit=VISIT) -> ChatSession:  # type: ignore[no-untyped-def]
    return services.session_request(
        client=client, kind=ChatKind.POST_TICKET, ticket_id=ticket.pk, client_ip=IP, visit=visit
    )


@pytest.fixture
def waiting(alice, alice_ticket) -> ChatSession:  # type: ignore[no-untyped-def]
    return request(alice, alice_ticket)


@pytest.fixture
def live(waiting, agent1) -> ChatSession:  # type: ignore[no-untyped-def]
    return services.session_join(session_id=waiting.pk, agent=agent1)


def view(session, client, path="/portal/tickets/12/", title="Printer"):  # type: ignore[no-untyped-def]
    return page_views.page_view_record(session_id=session.pk, client=client, path=path, title=title)


def logged_in(user) -> Client:  # type: ignore[no-untyped-def]
    client = Client()
    client.force_login(user)
    return client


# --- The first-visit cookie -------------------------------------------------------------------


class TestFirstVisitCookie:
    def test_value_round_trips_and_needs_no_quoting(self):
        value = visit_recording.visit_cookie(FIRST_AT, "/portal/tickets/12/?page=2")
        assert value == "2026-03-04T09:15:00Z|%2Fportal%2Ftickets%2F12%2F%3Fpage%3D2"
        assert visit_recording.parse_visit_cookie(value) == (FIRST_AT, "/portal/tickets/12/?page=2")
        cookie = SimpleCookie()
        cookie["sb_first_visit"] = value
        assert '"' not in cookie.output()  # no quoting a browser would keep

    @pytest.mark.parametrize(
        "raw",
        [
            None,
            "",
            "garbage",
            "2026-03-04T09:15:00Z",  # no path
            "2026-03-04T09:15:00Z|",  # empty path
            "yesterday|%2Fportal%2F",
            "2026-13-45T09:15:00Z|%2Fportal%2F",  # not a date
            "2026-03-04T09:15:00|%2Fportal%2F",  # no time zone
            "2999-01-01T00:00:00Z|%2Fportal%2F",  # in the future
            "1970-01-01T00:00:00Z|%2Fportal%2F",  # before the product existed
            "2026-03-04T09:15:00Z|portal",  # not a path
            "2026-03-04T09:15:00Z|%2F%2Fevil.example%2F",  # another origin
            "2026-03-04T09:15:00Z|https%3A%2F%2Fevil.example%2F",
            "2026-03-04T09:15:00Z|%2Fa%5Cb",  # backslash
            "2026-03-04T09:15:00Z|%2Fa%20b",  # whitespace
            "2026-03-04T09:15:00Z|%2Fa%0Ab",  # newline
            "2026-03-04T09:15:00Z|%2F" + "a" * 600,  # too long
            "2026-03-04T09:15:00Z|" + "%2F" * 2000,  # absurd
        ],
    )
    def test_bad_values_count_as_none(self, raw):
        assert visit_recording.parse_visit_cookie(raw) is None

    def test_middleware_sets_it_once_on_portal_pages(self, alice, alice_ticket, settings):
        client = logged_in(alice)
        first = client.get(reverse("portal:ticket_detail", args=[alice_ticket.pk]))
        morsel = first.cookies["sb_first_visit"]
        assert morsel["httponly"] is True
        assert morsel["samesite"] == "Lax"
        assert not morsel["secure"]  # tests run over http
        assert morsel["max-age"] == settings.VISITOR_COOKIE_DAYS * 24 * 3600
        at, path = visit_recording.parse_visit_cookie(morsel.value)
        assert path == f"/portal/tickets/{alice_ticket.pk}/"
        assert abs(timezone.now() - at) < timedelta(minutes=1)
        # The browser sends it back: later pages leave it alone.
        later = client.get(reverse("portal:home"))
        assert "sb_first_visit" not in later.cookies

    def test_secure_in_production(self, alice, settings):
        settings.SESSION_COOKIE_SECURE = True
        response = logged_in(alice).get(reverse("portal:home"))
        assert response.cookies["sb_first_visit"]["secure"] is True

    def test_a_bad_cookie_is_replaced(self, alice):
        client = logged_in(alice)
        client.cookies["sb_first_visit"] = "2999-01-01T00:00:00Z|%2Fportal%2F"
        response = client.get(reverse("portal:home"))
        assert visit_recording.parse_visit_cookie(response.cookies["sb_first_visit"].value)[1] == (
            "/portal/"
        )

    def test_set_for_anonymous_visitors_but_not_off_the_portal(self, alice):
        anonymous = Client()
        response = anonymous.get("/portal/")
        assert response.status_code == 302  # to the login page
        assert visit_recording.parse_visit_cookie(response.cookies["sb_first_visit"].value)[1] == (
            "/portal/"
        )
        assert "sb_first_visit" not in Client().get("/accounts/login/").cookies
        assert "sb_first_visit" not in logged_in(alice).post("/portal/tickets/new/", {}).cookies

    def test_middleware_works_sync_and_async(self):
        from asgiref.sync import async_to_sync, iscoroutinefunction
        from django.http import HttpResponse
        from django.test import RequestFactory

        async def async_view(request):  # type: ignore[no-untyped-def]
            return HttpResponse("ok")

        middleware = visitor_middleware.VisitorMiddleware(async_view)
        assert iscoroutinefunction(middleware)  # no thread hop under ASGI
        response = async_to_sync(middleware)(RequestFactory().get("/portal/"))
        assert {"sb_first_visit", "sb_landing"} <= set(response.cookies)
        sync = visitor_middleware.VisitorMiddleware(lambda request: HttpResponse("ok"))
        assert not iscoroutinefunction(sync)
        assert "sb_landing" in sync(RequestFactory().get("/portal/")).cookies
        assert not sync(RequestFactory().get("/console/")).cookies


# --- The landing page -------------------------------------------------------------------------


class TestLandingPage:
    def test_first_portal_page_of_the_browser_session(self, alice, alice_ticket):
        client = logged_in(alice)
        first = client.get(reverse("portal:ticket_detail", args=[alice_ticket.pk]) + "?tab=notes")
        morsel = first.cookies["sb_landing"]
        # A browser-session cookie: no expiry, gone when the browser closes.
        assert morsel["max-age"] == "" and morsel["expires"] == ""
        assert morsel["httponly"] is True and morsel["samesite"] == "Lax"
        assert visit_recording.parse_visit_cookie(morsel.value)[1] == (
            f"/portal/tickets/{alice_ticket.pk}/?tab=notes"
        )
        assert "sb_landing" not in client.get(reverse("portal:home")).cookies

    def test_no_database_work_for_it(self, alice):
        fresh = logged_in(alice)
        with CaptureQueriesContext(connection) as first:
            assert "sb_landing" in fresh.get(reverse("portal:home")).cookies
        with CaptureQueriesContext(connection) as later:
            assert "sb_landing" not in fresh.get(reverse("portal:home")).cookies
        # Setting the cookies costs no query: the first page costs what the next does.
        assert len(first.captured_queries) == len(later.captured_queries)


# --- Recording on the chat --------------------------------------------------------------------


class TestRecording:
    def test_request_records_the_visit(self, waiting):
        info = VisitorInfo.objects.get(session=waiting)
        assert info.user_agent == UA
        assert (info.landing_page, info.landing_at) == ("/portal/tickets/12/", LANDING_AT)
        assert (info.first_visit_page, info.first_visit_at) == ("/portal/", FIRST_AT)
        assert ChatSession.objects.get(pk=waiting.pk).client_ip == IP

    def test_asking_again_for_the_open_chat_changes_nothing(self, alice, alice_ticket, waiting):
        other = visit_recording.Visit(user_agent="Other/2.0", client_ip="198.51.100.1")
        again = request(alice, alice_ticket, visit=other)
        assert again.pk == waiting.pk
        assert VisitorInfo.objects.get(session=waiting).user_agent == UA

    def test_a_request_without_a_visit_records_none(self, alice):
        session = services.session_request(client=alice, kind=ChatKind.PRE_TICKET, subject="Hi")
        assert not VisitorInfo.objects.filter(session=session).exists()

    def test_accepting_a_push_records_the_visit_and_address(self, alice, alice_ticket, agent1):
        AgentConnection.objects.create(user=alice, channel_name="c", last_seen=timezone.now())
        pushed = services.session_push(ticket_id=alice_ticket.pk, agent=agent1)
        assert pushed.client_ip is None
        services.push_answer(session_id=pushed.pk, client=alice, accept=True, visit=VISIT)
        assert VisitorInfo.objects.get(session=pushed).user_agent == UA
        assert ChatSession.objects.get(pk=pushed.pk).client_ip == IP

    def test_declining_a_push_records_nothing(self, alice, alice_ticket, agent1):
        AgentConnection.objects.create(user=alice, channel_name="c", last_seen=timezone.now())
        pushed = services.session_push(ticket_id=alice_ticket.pk, agent=agent1)
        services.push_answer(session_id=pushed.pk, client=alice, accept=False, visit=VISIT)
        assert not VisitorInfo.objects.filter(session=pushed).exists()

    def test_visit_from_a_socket_scope(self):
        scope = {
            "headers": [(b"user-agent", b"Agent\x01/1.0\n" + b"x" * 600)],
            "cookies": {
                "sb_first_visit": visit_recording.visit_cookie(FIRST_AT, "/portal/"),
                "sb_landing": visit_recording.visit_cookie(LANDING_AT, "/portal/tickets/12/"),
            },
        }
        visit = visit_recording.visit_from_scope(scope, client_ip=IP)
        assert visit.user_agent.startswith("Agent/1.0 xxx")
        assert len(visit.user_agent) == visit_recording.USER_AGENT_MAX
        assert (visit.first_visit_at, visit.first_visit_page) == (FIRST_AT, "/portal/")
        assert (visit.landing_at, visit.landing_page) == (LANDING_AT, "/portal/tickets/12/")
        assert visit.client_ip == IP

    def test_visit_from_a_scope_with_bad_values(self):
        scope = {"headers": [], "cookies": {"sb_first_visit": "nonsense", "sb_landing": "x|/"}}
        assert visit_recording.visit_from_scope(scope) == visit_recording.Visit()


# --- Page views -------------------------------------------------------------------------------


class TestPageViews:
    def test_recorded_and_sent_to_staff_only(
        self, live, alice, agent1, sent, django_capture_on_commit_callbacks
    ):
        with django_capture_on_commit_callbacks(execute=True):
            result = view(live, alice, title="  Printer\n prints   blank pages ")
        assert result.created
        stored = PageView.objects.get(session=live)
        assert (stored.path, stored.title) == ("/portal/tickets/12/", "Printer prints blank pages")
        groups = sent.groups_of("chat.page_viewed")
        assert groups == [f"chat.{live.pk}.staff", f"user.{agent1.pk}"]
        frame = sent.of_type("chat.page_viewed")[0][1]
        assert frame["page_view"]["text"] == (
            f"{ALICE.full_name} viewed /portal/tickets/12/ — Printer prints blank pages"
        )
        # Not a message: no seq, no activity, nothing in the client's replay.
        session = ChatSession.objects.get(pk=live.pk)
        assert session.last_seq == live.last_seq
        assert session.last_activity_at == live.last_activity_at
        assert not Message.objects.filter(session=live, body__contains="/portal/tickets/12/")

    def test_while_waiting_only_watchers_hear(
        self, waiting, alice, sent, django_capture_on_commit_callbacks
    ):
        with django_capture_on_commit_callbacks(execute=True):
            assert view(waiting, alice).created
        assert sent.groups_of("chat.page_viewed") == [f"chat.{waiting.pk}.staff"]

    def test_same_path_in_a_row_is_recorded_once(self, live, alice):
        assert view(live, alice, "/portal/").created
        again = view(live, alice, "/portal/", title="Reloaded")
        assert not again.created
        assert view(live, alice, "/portal/tickets/12/").created
        assert view(live, alice, "/portal/").created  # back again: a new view
        assert list(PageView.objects.filter(session=live).values_list("path", flat=True)) == [
            "/portal/",
            "/portal/tickets/12/",
            "/portal/",
        ]

    def test_a_chat_keeps_a_bounded_number(self, live, alice, monkeypatch):
        monkeypatch.setattr(page_views, "PAGE_VIEWS_PER_CHAT", 2)
        assert view(live, alice, "/portal/a/").created
        assert view(live, alice, "/portal/b/").created
        assert not view(live, alice, "/portal/c/").created
        assert PageView.objects.filter(session=live).count() == 2

    @pytest.mark.parametrize(
        "path",
        [
            "",
            "portal/",
            "//evil.example/",
            "https://evil.example/",
            "javascript:alert(1)",
            "/a\\b",
            "/a b",
            "/a\nb",
            "/a\x00b",
            "/" + "a" * 500,
            None,
            12,
        ],
    )
    def test_bad_paths_are_refused(self, live, alice, path):
        with pytest.raises(MessageInvalid) as exc:
            view(live, alice, path)
        assert exc.value.code == "page_path_invalid"
        assert not PageView.objects.exists()

    def test_limits(self, live, alice):
        assert view(live, alice, "/" + "a" * 499, "t" * 200).created
        with pytest.raises(MessageInvalid) as exc:
            view(live, alice, "/portal/x/", "t" * 201)
        assert exc.value.code == "page_title_too_long"

    @pytest.mark.parametrize(
        "status",
        [
            SessionStatus.ENDED,
            SessionStatus.ABANDONED,
            SessionStatus.CALLBACK,
            SessionStatus.CLOSED,
            SessionStatus.DECLINED,
            SessionStatus.INVITED,
        ],
    )
    def test_nothing_for_chats_that_are_not_open(self, live, alice, status):
        ChatSession.objects.filter(pk=live.pk).update(status=status)
        with pytest.raises(InvalidState) as exc:
            view(live, alice)
        assert exc.value.code == "chat_not_live"
        assert not PageView.objects.exists()

    def test_nothing_after_the_client_left(self, live, alice):
        Participant.objects.filter(session=live, user=alice).update(left_at=timezone.now())
        with pytest.raises(InvalidState) as exc:
            view(live, alice)
        assert exc.value.code == "not_in_room"

    def test_only_the_chats_own_client_reports(self, live, agent1, bob):
        with pytest.raises(ChatNotFound):
            view(live, bob)
        with pytest.raises(ChatForbidden):
            view(live, agent1)
        with pytest.raises(ChatForbidden):
            view(live, SUPERVISOR.create())
        with pytest.raises(ChatNotFound):
            page_views.page_view_record(session_id=999999, client=bob, path="/portal/")
        assert not PageView.objects.exists()

    def test_title_is_stored_as_text(self, live, alice, agent1):
        view(live, alice, title=XSS)
        reply = page_views.visitor_info_for(user=agent1, session_id=live.pk)
        line = reply["page_views"][0]
        assert line["title"] == XSS  # as typed; the console inserts it as text
        assert line["text"].endswith(f"— {XSS}")


# --- Reading visitor info ---------------------------------------------------------------------


class TestVisitorInfoRead:
    def test_agent_in_the_chat_reads_it(self, live, alice, agent1):
        with time_machine.travel(timezone.now() + timedelta(seconds=5)):
            view(live, alice)
        reply = page_views.visitor_info_for(user=agent1, session_id=live.pk)
        assert reply["visitor"] == {
            "ip_address": IP,
            "user_agent": UA,
            "session_start": live.requested_at.isoformat(),
            "landing_page": "/portal/tickets/12/",
            "landing_at": LANDING_AT.isoformat(),
            "first_visit_page": "/portal/",
            "first_visit_at": FIRST_AT.isoformat(),
            "recorded": True,
        }
        assert [v["path"] for v in reply["page_views"]] == ["/portal/tickets/12/"]

    def test_supervisor_reads_any(self, live):
        reply = page_views.visitor_info_for(user=SUPERVISOR.create(), session_id=live.pk)
        assert reply["visitor"]["ip_address"] == IP

    def test_client_other_agent_and_anonymous_get_not_found(self, live, alice, agent2):
        from django.contrib.auth.models import AnonymousUser

        for user in (alice, agent2, AnonymousUser()):
            with pytest.raises(ChatNotFound):
                page_views.visitor_info_for(user=user, session_id=live.pk)

    def test_a_chat_without_a_visit(self, alice, agent1):
        session = services.session_request(client=alice, kind=ChatKind.PRE_TICKET, subject="Hi")
        services.session_join(session_id=session.pk, agent=agent1)
        reply = page_views.visitor_info_for(user=agent1, session_id=session.pk)
        assert reply["visitor"]["recorded"] is False
        assert reply["visitor"]["user_agent"] == ""


# --- Clients never see any of it --------------------------------------------------------------


def test_client_pages_api_and_transcript_carry_no_visitor_info(live, alice, agent1, alice_ticket):
    view(live, alice, "/portal/secret-page/", title="Secret title")
    services.message_send(session_id=live.pk, author=alice, client_id=uuid.uuid4(), body="hi")
    services.session_end(session_id=live.pk, agent=agent1)
    needles = (IP, UA, "VisitorTest", "/portal/secret-page/", "Secret title", "first_visit")
    client = logged_in(alice)
    payload = str(session_payload(ChatSession.objects.get(pk=live.pk)))
    outputs = {
        "session payload": payload,
        "transcript": transcript_text(ChatSession.objects.get(pk=live.pk)),
        "api list": client.get("/api/chat/sessions/").content.decode(),
        "api detail": client.get(f"/api/chat/sessions/{live.pk}/").content.decode(),
        "api messages": client.get(f"/api/chat/sessions/{live.pk}/messages/").content.decode(),
        "history tab": client.get(
            reverse("portal:ticket_detail", args=[alice_ticket.pk]) + "?tab=chats"
        ).content.decode(),
    }
    assert "hi" in outputs["api messages"]
    for name, text in outputs.items():
        for needle in needles:
            assert needle not in text, (name, needle)


def test_another_company_client_cannot_report_or_read(live, carol):
    with pytest.raises(ChatNotFound):
        view(live, carol)
    with pytest.raises(ChatNotFound):
        page_views.visitor_info_for(user=carol, session_id=live.pk)
