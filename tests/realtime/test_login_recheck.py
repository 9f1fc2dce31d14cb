"""realtime.login_recheck: many sockets' logins re-checked and their rows
refreshed (presence's recheck hook) in one database call, with Django's own
rules for a login that still holds."""

from __future__ import annotations

from datetime import timedelta

import pytest
from asgiref.sync import sync_to_async
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import User
from presence.models import AgentConnection
from presence.services import connection_close, connection_open
from realtime import login_recheck, registry
from realtime.login_recheck import current_users, logged_in_users, run_recheck_hooks
from tests.factories import AgentFactory, client_user

pytestmark = pytest.mark.django_db


def logged_in(user: User) -> str:
    client = Client()
    client.force_login(user)
    return client.cookies["sessionid"].value


def test_a_session_stands_for_its_user_until_logout_password_change_or_deactivation() -> None:
    kept, gone, changed, off = (AgentFactory() for _ in range(4))
    keys = {user.pk: logged_in(user) for user in (kept, gone, changed, off)}
    from django.contrib.sessions.models import Session

    # A logout elsewhere deletes the session row.
    Session.objects.filter(session_key=keys[gone.pk]).delete()
    changed.set_password("chosen elsewhere")
    changed.save()
    off.is_active = False
    off.save()
    users = current_users(set(keys.values()) | {"no-such-session"})
    assert {key: user.pk for key, user in users.items()} == {keys[kept.pk]: kept.pk}


def test_an_expired_session_stands_for_nobody() -> None:
    from django.contrib.sessions.models import Session

    agent = AgentFactory()
    key = logged_in(agent)
    Session.objects.filter(session_key=key).update(expire_date=timezone.now() - timedelta(1))
    assert current_users({key}) == {}


def recheck(sockets: list[tuple[str, str | None, User]]) -> dict[str, User]:
    """What a tick does, its two steps in a row."""
    users = logged_in_users(sockets)
    registry.autodiscover()  # the apps' recheck hooks (presence keeps its rows)
    run_recheck_hooks(users)
    return users


def test_recheck_refreshes_rows_registers_swept_ones_and_drops_logged_out_sockets() -> None:
    agent, client = AgentFactory(), client_user()
    agent_key, client_key = logged_in(agent), logged_in(client)
    connection_open(user=agent, channel_name="agent-tab")
    long_ago = timezone.now() - timedelta(minutes=5)
    AgentConnection.objects.update(last_seen=long_ago)
    sockets = [
        ("agent-tab", agent_key, agent),
        ("client-tab", client_key, client),  # its row was swept
        ("stranger-tab", agent_key, client),  # the session is someone else's
        ("anonymous-tab", None, agent),
    ]
    users = recheck(sockets)
    assert {channel: user.pk for channel, user in users.items()} == {
        "agent-tab": agent.pk,
        "client-tab": client.pk,
    }
    rows = dict(AgentConnection.objects.values_list("channel_name", "last_seen"))
    assert set(rows) == {"agent-tab", "client-tab"}
    assert rows["agent-tab"] > long_ago


def test_recheck_reads_all_sessions_in_one_query_and_writes_once() -> None:
    agents = [AgentFactory() for _ in range(5)]
    sockets = []
    for number, agent in enumerate(agents):
        connection_open(user=agent, channel_name=f"tab-{number}")
        sockets.append((f"tab-{number}", logged_in(agent), agent))
    with CaptureQueriesContext(connection) as queries:
        users = recheck(sockets)
    assert len(users) == 5
    statements = [query["sql"] for query in queries.captured_queries]
    assert sum('FROM "django_session"' in sql for sql in statements) == 1
    assert sum(sql.startswith("UPDATE") for sql in statements) == 1
    # Sessions, their users in one query, the savepoint, the UPDATE and the
    # SELECT of the rows found, its release.
    assert len(statements) == 1 + 1 + 4


def test_a_session_signed_with_a_fallback_secret_still_stands_for_its_user(settings) -> None:
    # After a SECRET_KEY rotation the sockets stay logged in, and the check
    # writes nothing: Django re-signs such a session under a new key, which
    # only an HTTP response can hand to the browser.
    from django.contrib.sessions.models import Session

    agent = AgentFactory()
    old_key = logged_in(agent)
    settings.SECRET_KEY_FALLBACKS = [settings.SECRET_KEY]
    settings.SECRET_KEY = "a-new-secret-" + "x" * 50
    for _ in range(2):
        users = current_users({old_key})
        assert [user.pk for user in users.values()] == [agent.pk]
    assert list(Session.objects.values_list("session_key", flat=True)) == [old_key]


def test_a_session_of_a_backend_no_longer_configured_stands_for_nobody(settings) -> None:
    agent = AgentFactory()
    key = logged_in(agent)
    settings.AUTHENTICATION_BACKENDS = ["django.contrib.auth.backends.RemoteUserBackend"]
    assert current_users({key}) == {}


def test_a_user_who_may_no_longer_log_in_is_refused_by_the_shortcut_too(settings) -> None:
    # AllowAllUsersModelBackend lets inactive users authenticate; a socket
    # still needs an active one.
    settings.AUTHENTICATION_BACKENDS = ["django.contrib.auth.backends.AllowAllUsersModelBackend"]
    kept, off = AgentFactory(), AgentFactory()
    keys = {user.pk: logged_in(user) for user in (kept, off)}
    off.is_active = False
    off.save()
    users = current_users(set(keys.values()))
    assert {user.pk for user in users.values()} == {kept.pk}


class FakeSocket:
    def __init__(self, channel_name: str, session_key: str, user: User) -> None:
        self.channel_name = channel_name
        self.session_key = session_key
        self.user = user
        self.refresh_at = 0.0
        self.refresh_every = 35.0
        self.rechecked: list[User | None] = []

    async def login_rechecked(self, user: User | None, groups: object = None) -> None:
        self.rechecked.append(user)


@pytest.mark.django_db(transaction=True)
async def test_a_socket_closed_while_its_login_is_read_does_not_get_its_row_back(
    monkeypatch,
) -> None:
    agent = await sync_to_async(AgentFactory)()
    key = await sync_to_async(logged_in)(agent)
    await sync_to_async(connection_open)(user=agent, channel_name="tab")
    refresher = login_recheck._Refresher()
    closing, staying = FakeSocket("tab", key, agent), FakeSocket("other-tab", key, agent)
    await sync_to_async(connection_open)(user=agent, channel_name="other-tab")
    refresher.sockets["tab"] = closing
    refresher.sockets["other-tab"] = staying
    read = login_recheck.logged_in_users

    def read_while_the_browser_closes(sockets):  # type: ignore[no-untyped-def]
        users = read(sockets)
        # What the consumer's disconnect does meanwhile: unwatch, then
        # delete its row.
        refresher.discard(closing)
        connection_close(channel_name="tab")
        return users

    monkeypatch.setattr(login_recheck, "logged_in_users", read_while_the_browser_closes)
    await refresher._tick()
    rows = await sync_to_async(
        lambda: set(AgentConnection.objects.values_list("channel_name", flat=True))
    )()
    assert rows == {"other-tab"}
    assert closing.rechecked == [] and [user.pk for user in staying.rechecked] == [agent.pk]
