"""chat.socket_refresh: many sockets' logins re-checked and rows refreshed in
one database call, with Django's own rules for a login that still holds."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import User
from chat.socket_refresh import current_users, recheck_sockets
from presence.models import AgentConnection
from presence.services import connection_open
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
    users = recheck_sockets(sockets)
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
        users = recheck_sockets(sockets)
    assert len(users) == 5
    statements = [query["sql"] for query in queries.captured_queries]
    assert sum('FROM "django_session"' in sql for sql in statements) == 1
    assert sum(sql.startswith("UPDATE") for sql in statements) == 1
    # Sessions, their users in one query, the savepoint, the UPDATE and the
    # SELECT of the rows found, its release.
    assert len(statements) == 1 + 1 + 4


def test_a_session_signed_with_a_fallback_secret_still_stands_for_its_user(settings) -> None:
    # The shortcut verifies the current secret only; the rest is Django's
    # own get_user, which accepts a fallback secret as a login request would.
    agent = AgentFactory()
    old_key = logged_in(agent)
    settings.SECRET_KEY_FALLBACKS = [settings.SECRET_KEY]
    settings.SECRET_KEY = "a-new-secret-" + "x" * 50
    users = current_users({old_key})
    assert [user.pk for user in users.values()] == [agent.pk]


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
