"""realtime.outage: one view of a server per process, and which errors are
Redis lost."""

from __future__ import annotations

import logging
import os

import pytest
import redis

from chat import enqueue
from realtime import outage


def outage_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "realtime.outage"]


def test_a_forked_child_starts_with_a_fresh_view_and_the_parent_keeps_its_own() -> None:
    server = outage.PerProcess(lambda: outage.Outage(server="The test server"))
    server.failed(ConnectionError("refused"), "a call")
    assert server.current.since is not None
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: a Celery pool process
        os.write(write, b"fresh" if server.current.since is None else b"inherited")
        os._exit(0)
    os.close(write)
    os.waitpid(pid, 0)
    assert os.read(read, 16) == b"fresh"
    assert server.current.since is not None  # the parent's outage goes on


def test_redis_and_the_broker_each_have_one_per_process() -> None:
    assert isinstance(outage.redis_outage, outage.PerProcess)
    assert isinstance(enqueue.broker, outage.PerProcess)
    assert outage.redis_outage.current.server == "Redis"
    assert enqueue.broker.current.server == "The Celery broker"


def test_only_redis_lost_counts_as_an_outage_of_redis(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(outage.redis_outage, "current", outage.Outage())
    with caplog.at_level(logging.INFO):
        outage.failed(ValueError("a bug of the caller"), "send")
        outage.failed(redis.exceptions.MaxConnectionsError("too many"), "send")
        assert outage.redis_outage.current.since is None and outage_lines(caplog) == []
        outage.failed(redis.exceptions.ConnectionError("refused"), "send")
    (lost,) = outage_lines(caplog)
    assert lost.startswith("Redis is unreachable (send: refused)")
