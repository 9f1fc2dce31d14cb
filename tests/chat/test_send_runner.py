"""A socket's chat send on PostgreSQL: no health-check round trip, and a dead
connection healed by sending once more (the send is idempotent)."""

from __future__ import annotations

import uuid

import psycopg
import pytest
from django.db import DEFAULT_DB_ALIAS, OperationalError, close_old_connections, connections

from chat import send_runner, services
from chat.models import ChatSession, Message
from tests.factories import active_post_ticket_chat

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _postgres_only() -> None:
    if connections[DEFAULT_DB_ALIAS].vendor != "postgresql":
        pytest.skip("the health check and the connection's loss are PostgreSQL's")


@pytest.fixture
def active_chat(monkeypatch):  # type: ignore[no-untyped-def]
    # As in production (the test settings turn health checks off with
    # CONN_MAX_AGE 0): a kept connection, checked before each request. Set on
    # the connection's own settings, and put back after the test.
    settings_dict = connections[DEFAULT_DB_ALIAS].settings_dict
    monkeypatch.setitem(settings_dict, "CONN_HEALTH_CHECKS", True)
    monkeypatch.setitem(settings_dict, "CONN_MAX_AGE", 60)
    connections.close_all()
    session, alice, _ = active_post_ticket_chat()
    yield session, alice
    connections.close_all()


def _new_request() -> None:
    """What Channels' database_sync_to_async does before each call."""
    close_old_connections()


def test_the_runner_on_postgresql_heals_connections() -> None:
    runner = send_runner.message_send_runner()
    assert runner.func is send_runner.send_healing_connection  # type: ignore[attr-defined]


def test_a_send_costs_no_health_check(active_chat, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    session, alice = active_chat
    connection = connections[DEFAULT_DB_ALIAS]
    checks: list[bool] = []
    real_is_usable = connection.is_usable

    def counted() -> bool:
        checks.append(True)
        return real_is_usable()

    monkeypatch.setattr(connection, "is_usable", counted)
    _new_request()
    # Without the runner, Django checks the connection first (the control).
    ChatSession.objects.filter(pk=session.pk).exists()
    assert checks == [True]

    _new_request()
    result = send_runner.send_healing_connection(
        session_id=session.pk, author=alice, client_id=uuid.uuid4(), body="hello"
    )
    assert result.created
    assert checks == [True]


def test_a_dead_connection_is_replaced_and_the_message_stored_once(active_chat) -> None:  # type: ignore[no-untyped-def]
    session, alice = active_chat
    connection = connections[DEFAULT_DB_ALIAS]
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        (pid,) = cursor.fetchone()
    # The server ends this connection, as a restart or an idle timeout would.
    settings_dict = connection.settings_dict
    with psycopg.connect(
        dbname=settings_dict["NAME"],
        user=settings_dict["USER"],
        password=settings_dict["PASSWORD"] or None,
        host=settings_dict["HOST"] or None,
        port=settings_dict["PORT"] or None,
        autocommit=True,
    ) as killer:
        killer.execute("SELECT pg_terminate_backend(%s)", [pid])

    _new_request()
    client_id = uuid.uuid4()
    result = send_runner.send_healing_connection(
        session_id=session.pk, author=alice, client_id=client_id, body="still here"
    )

    assert result.created
    assert Message.objects.filter(session=session, client_id=client_id).count() == 1
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        assert cursor.fetchone()[0] != pid


def test_an_error_of_a_working_connection_is_not_retried(active_chat, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    session, alice = active_chat
    calls: list[int] = []

    def failing(**kwargs):  # type: ignore[no-untyped-def]
        calls.append(1)
        raise OperationalError("canceling statement due to lock timeout")

    monkeypatch.setattr(services, "message_send", failing)
    _new_request()
    with pytest.raises(OperationalError):
        send_runner.send_healing_connection(
            session_id=session.pk, author=alice, client_id=uuid.uuid4(), body="x"
        )
    assert calls == [1]
