"""config.db.sqlite3.checkpoint: the WAL is copied back into the database
file by a thread, so that no commit has to, and the log stays small."""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from django.db import connection, connections

from config.db.sqlite3 import checkpoint, write_lock
from config.db.sqlite3.checkpoint import WalCheckpointer

_writers: list[sqlite3.Connection] = []


@pytest.fixture(autouse=True)
def _close_writers() -> Iterator[None]:
    yield
    while _writers:
        _writers.pop().close()


def wal_database(path: Path) -> sqlite3.Connection:
    """A WAL database whose commits never checkpoint themselves: whatever
    reaches the database file was copied by the thread under test."""
    writer = sqlite3.connect(path, isolation_level=None)
    _writers.append(writer)
    writer.execute("PRAGMA journal_mode=WAL")
    writer.execute("PRAGMA wal_autocheckpoint=0")
    writer.execute("CREATE TABLE line (id INTEGER PRIMARY KEY, body TEXT)")
    return writer


def write(writer: sqlite3.Connection, rows: int, *, pause: float = 0.0) -> None:
    """Commit ``rows`` rows one by one, each under the writers' lock file as
    the backend's transactions are."""
    (path,) = [row[2] for row in writer.execute("PRAGMA database_list") if row[1] == "main"]
    fd = write_lock.open_for(path)
    try:
        for _ in range(rows):
            assert write_lock.acquire(fd, 5)
            try:
                writer.execute("INSERT INTO line (body) VALUES (?)", ("x" * 1000,))
            finally:
                write_lock.release(fd)
            if pause:
                time.sleep(pause)
    finally:
        os.close(fd)


def eventually(check: Callable[[], bool], seconds: float = 5.0) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, "never happened"
        time.sleep(0.01)


@pytest.fixture
def started() -> Iterator[list[WalCheckpointer]]:
    made: list[WalCheckpointer] = []
    yield made
    for checkpointer in made:
        checkpointer.stop()


def start(made: list[WalCheckpointer], path: Path, interval: float = 0.01) -> WalCheckpointer:
    checkpointer = WalCheckpointer(str(path), interval)
    checkpointer.start()
    made.append(checkpointer)
    return checkpointer


def test_the_log_is_copied_into_the_database_file(tmp_path: Path, started) -> None:
    path = tmp_path / "db.sqlite3"
    writer = wal_database(path)
    write(writer, 200)
    size_before = path.stat().st_size
    assert size_before < 200 * 1000  # the rows are in the log only
    checkpointer = start(started, path)
    eventually(lambda: path.stat().st_size > 200 * 1000)
    eventually(lambda: checkpointer.checkpoints >= 1)
    assert writer.execute("SELECT count(*) FROM line").fetchone() == (200,)


def test_the_log_stays_small_under_steady_writes(tmp_path: Path, started) -> None:
    # 3,000 commits of a 1 KB row are over 3,000 log pages (12 MB) when
    # nothing copies them back, and with a commit every fraction of a
    # millisecond a checkpoint that only copies never finds a moment with
    # nothing left to copy: the one under the writers' lock does.
    path = tmp_path / "db.sqlite3"
    writer = wal_database(path)
    checkpointer = start(started, path)
    write(writer, 3000, pause=0.0002)
    log = Path(f"{path}-wal")
    assert checkpointer.restarts >= 1
    assert log.stat().st_size < 4 * 1024 * 1024


def test_a_file_made_again_at_the_same_path_is_followed(tmp_path: Path, started) -> None:
    path = tmp_path / "db.sqlite3"
    first = wal_database(path)
    checkpointer = start(started, path)
    write(first, 10)
    eventually(lambda: checkpointer.checkpoints >= 1)
    first.close()
    for name in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        name.unlink(missing_ok=True)
    second = wal_database(path)
    write(second, 200)
    eventually(lambda: path.stat().st_size > 200 * 1000)


def test_a_missing_file_is_waited_for_not_made(tmp_path: Path, started) -> None:
    path = tmp_path / "not-yet.sqlite3"
    start(started, path)
    time.sleep(0.1)
    assert not path.exists()
    # Gone between the thread's look and its connect: still not made.
    with pytest.raises(sqlite3.OperationalError):
        WalCheckpointer(str(path), 1)._connect()
    assert not path.exists()


def test_only_a_process_that_enabled_them_runs_checkpointers(tmp_path: Path, monkeypatch) -> None:
    path = str(tmp_path / "db.sqlite3")
    wal_database(Path(path))
    monkeypatch.setattr(checkpoint, "_enabled", False)
    assert checkpoint.ensure_running(path, 0.2) is None
    monkeypatch.setattr(checkpoint, "_enabled", True)
    assert checkpoint.ensure_running(path, 0) is None  # 0 turns them off
    running = checkpoint.ensure_running(path, 0.2)
    try:
        assert running is not None
        assert checkpoint.ensure_running(path, 0.2) is running  # one per process and file
    finally:
        assert running is not None
        running.stop()
        del checkpoint._running[os.getpid(), os.path.abspath(path)]


@pytest.mark.django_db
def test_the_backend_starts_one_when_it_connects(settings, monkeypatch) -> None:
    if connection.vendor != "sqlite" or connection.is_in_memory_db():
        pytest.skip("background checkpoints belong to the SQLite file backend")
    monkeypatch.setattr(checkpoint, "_enabled", True)
    wrapper = connections.create_connection("default")
    name = os.path.abspath(wrapper.settings_dict["NAME"])
    key = (os.getpid(), name)
    before = checkpoint._running.pop(key, None)
    try:
        wrapper.ensure_connection()
        assert key in checkpoint._running  # started by the connection, not by this test
    finally:
        wrapper.close()
        started = checkpoint._running.pop(key, None)
        if started is not None and started is not before:
            started.stop()
        if before is not None:
            checkpoint._running[key] = before
