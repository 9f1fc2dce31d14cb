"""Queueing a Celery task for work a transaction stored: the one way chat
hands work to the worker.

The row the task works on is committed before the task is queued (a task
that ran first would not find it). So when the broker (Redis) refuses the
message, after kombu's own quick retries, the work is stored and its task is
not: nothing can be undone, and raising would only show the person who
acted an internal error for something that did happen. The failure is
swallowed instead: one warning per process per outage (realtime.outage), and
the beat sweep of chat.requeue queues the task again once the broker is
back, from the rows themselves (a message or notice still queued and not
being sent, a transcript not attached or not emailed, a file from a phone
still to be fetched). A Message customer email is queued again by its own
sweep (chat.reach_out.emails). Every task does its work once however often
it is queued (docs/architecture.md, "Tasks"), so a task queued twice by a
sweep is harmless.
"""

from __future__ import annotations

from typing import Any

from celery import Task
from django.db import transaction
from kombu.exceptions import OperationalError

from realtime.outage import Outage, PerProcess


def broker_outage() -> Outage:
    """A fresh view of the broker: reachable."""
    return Outage(
        server="The Celery broker",
        meanwhile="tasks are not queued; the beat sweep queues them once it is back",
    )


# This process's view of the broker (a forked pool process makes its own).
broker = PerProcess(broker_outage)


def enqueue(task: Task, /, *args: Any, **kwargs: Any) -> bool:
    """Queue ``task`` now; False (and nothing raised) when the broker refused.
    Errors of the task itself still propagate where tasks run inline (the
    test settings)."""
    try:
        task.delay(*args, **kwargs)
    except OperationalError as error:
        # What kombu raises for a broker it cannot reach or that dropped the
        # connection, once its publish retries are spent.
        broker.failed(error, task.name)
        return False
    broker.reached()
    return True


def enqueue_on_commit(task: Task, /, *args: Any, **kwargs: Any) -> None:
    """Queue ``task`` once the current transaction commits (at once outside
    one); a broker that refuses it is left to the sweep (module docstring)."""
    transaction.on_commit(lambda: enqueue(task, *args, **kwargs))
