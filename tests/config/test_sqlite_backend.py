"""config.db.sqlite3: transactions of several connections queue on the lock
file instead of sleeping in SQLite's busy handler (SQLite runs only)."""

from __future__ import annotations

import fcntl
import os
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from django.db import connection, connections

from accounts.models import Company

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _sqlite_only() -> None:
    if connection.vendor != "sqlite" or connection.is_in_memory_db():
        pytest.skip("the lock file belongs to the SQLite file backend")


@pytest.fixture
def wrappers() -> Iterator[list[Any]]:
    """Fresh connections to the test database, each its own lock file handle."""
    made: list[Any] = []
    yield made
    for wrapper in made:
        wrapper.close()


def new_connection(made: list[Any], **options: Any) -> Any:
    wrapper = connections.create_connection("default")
    wrapper.settings_dict["OPTIONS"] = {**wrapper.settings_dict["OPTIONS"], **options}
    wrapper.ensure_connection()
    made.append(wrapper)
    return wrapper


def begin(wrapper: Any) -> None:
    # What transaction.atomic() does on SQLite when it opens a transaction.
    wrapper.set_autocommit(False, force_begin_transaction_with_broken_autocommit=True)


def insert_company(wrapper: Any, name: str) -> None:
    with wrapper.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {Company._meta.db_table} (name, created_at) VALUES (%s, %s)",  # noqa: S608
            [name, "2026-12-01 00:00:00"],
        )


def finish(wrapper: Any, *, commit: bool = True) -> None:
    wrapper.commit() if commit else wrapper.rollback()
    wrapper.set_autocommit(True)


def test_a_second_writer_waits_for_the_first_and_starts_right_after(wrappers):
    first, second = new_connection(wrappers), new_connection(wrappers)
    second.inc_thread_sharing()  # used in the thread below
    begin(first)
    insert_company(first, "First Ltd")
    started = threading.Event()
    began_at: list[float] = []

    def write() -> None:
        started.set()
        begin(second)  # blocks while first holds the lock
        began_at.append(time.monotonic())
        insert_company(second, "Second Ltd")
        finish(second)

    thread = threading.Thread(target=write)
    thread.start()
    started.wait(5)
    # Long enough for SQLite's busy handler to be sleeping 50-100 ms per try.
    time.sleep(0.3)
    assert began_at == [], "the second writer must wait for the first"
    committed_at = time.monotonic()
    finish(first)
    thread.join(5)
    second.dec_thread_sharing()
    assert not thread.is_alive()
    # SQLite's busy handler would have slept up to 100 ms between tries by now;
    # the lock file's waiter polls every half millisecond at most.
    assert began_at[0] - committed_at < 0.02
    assert set(Company.objects.values_list("name", flat=True)) >= {"First Ltd", "Second Ltd"}


def test_rollback_and_close_let_go_of_the_lock(wrappers):
    first, second = new_connection(wrappers), new_connection(wrappers, timeout=0.2)
    begin(first)
    finish(first, commit=False)
    begin(second)  # would wait for the whole timeout if the rollback kept it
    finish(second)
    begin(first)
    first.close()
    started = time.monotonic()
    begin(second)
    assert time.monotonic() - started < 0.1
    finish(second)


def test_a_lock_held_past_the_timeout_falls_back_to_sqlite(wrappers):
    """A stuck holder of the lock file (not of SQLite's lock) delays a writer by
    the connection's timeout, then SQLite decides: nothing hangs."""
    writer = new_connection(wrappers, timeout=0.2)
    path = f"{writer.settings_dict['NAME']}.write-lock"
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        started = time.monotonic()
        begin(writer)
        waited = time.monotonic() - started
        insert_company(writer, "Late Ltd")
        finish(writer)
    finally:
        os.close(fd)
    assert 0.2 <= waited < 2
    assert Company.objects.filter(name="Late Ltd").exists()
