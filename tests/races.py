"""Calls run truly at once, for the PostgreSQL race tests: each in a thread
of its own (so a database connection of its own), all released together at
a barrier; and ``Statements``, to see which path of the code they took."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from django.db import connection, connections


def at_once(*calls: Callable[[], Any]) -> list[Any]:
    """Run ``calls`` in threads released together; their results in order.
    Any exception in a thread fails the test."""
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)
    errors: list[BaseException] = []

    def run(index: int, call: Callable[[], Any]) -> None:
        try:
            barrier.wait(timeout=10)
            results[index] = call()
        except BaseException as exc:  # noqa: BLE001 - surfaced below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(t.is_alive() for t in threads), "a thread hung"
    assert errors == [], errors
    return results


class Statements:
    """The SQL run by calls wrapped with ``watch``, from every thread (each
    thread's connection gets the wrapper while its call runs), and what each
    statement raised. For race tests that must show the concurrent path ran,
    not only that the end state is right: a run whose threads happened to go
    one after the other proves nothing about the race."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.run: list[tuple[str, BaseException | None]] = []

    def _wrapper(self, execute, sql, params, many, context):  # type: ignore[no-untyped-def]
        try:
            result = execute(sql, params, many, context)
        except BaseException as exc:
            with self._lock:
                self.run.append((sql, exc))
            raise
        with self._lock:
            self.run.append((sql, None))
        return result

    def watch(self, call: Callable[[], Any]) -> Callable[[], Any]:
        def watched() -> Any:
            with connection.execute_wrapper(self._wrapper):
                return call()

        return watched

    def count(self, fragment: str, *, raised: type[BaseException] | None = None) -> int:
        """Statements containing ``fragment`` (that raised ``raised``, if given)."""
        with self._lock:
            return sum(
                1
                for sql, exc in self.run
                if fragment in sql and (raised is None or isinstance(exc, raised))
            )

    def clear(self) -> None:
        with self._lock:
            self.run.clear()
