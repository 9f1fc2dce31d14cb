"""A task whose whole worker died runs again, soon (docs/architecture.md,
"Tasks"): the broker hands its unacknowledged message out again after the
visibility timeout. What that asks of the settings and of every task."""

from __future__ import annotations

from typing import Any

from celery import Task
from kombu.transport.redis import Channel

from config.celery import app

# Every task of ours, and the test that runs it twice and sees its work done once.
RUN_TWICE_TESTS = {
    "chat.tasks.attach_transcript": "tests/chat/test_tasks.py",
    "chat.tasks.email_transcript": "tests/chat/test_tasks.py",
    "chat.tasks.email_reach_out": "tests/chat/channels/test_reach_out.py",
    "presence.tasks.sweep": "tests/presence/test_sweep_twice.py",
    "presence.tasks.requeue_sweep": "tests/presence/test_sweep_twice.py",
    "chat.tasks.deliver_message": "tests/chat/channels/test_delivery.py",
    "chat.tasks.deliver_notice": "tests/chat/channels/test_tasks_twice.py",
    "chat.inbound.fetch_media": "tests/chat/channels/test_tasks_twice.py",
}


def our_tasks() -> dict[str, Task]:
    app.loader.import_default_modules()
    return {name: task for name, task in app.tasks.items() if not name.startswith("celery.")}


def longest_retry_wait(task: Task) -> float:
    """Seconds before the last retry of ``task`` (our tasks retry only through
    ``autoretry_for``); the worker holds that retry's message meanwhile."""
    if not getattr(task, "autoretry_for", ()) or not task.max_retries:
        return 0
    backoff = getattr(task, "retry_backoff", False)
    if backoff:
        factor = int(max(1.0, float(backoff)))
        return min(getattr(task, "retry_backoff_max", 600), factor * 2 ** (task.max_retries - 1))
    return task.default_retry_delay


def test_every_task_has_a_test_that_runs_it_twice() -> None:
    assert set(our_tasks()) == set(RUN_TWICE_TESTS), (
        "a message may be delivered twice: a new task must do its work once however "
        "often it runs; add a test that runs it twice and list it in RUN_TWICE_TESTS"
    )


def test_no_task_waits_longer_to_retry_than_the_visibility_timeout_allows(
    settings: Any,
) -> None:
    waits = {name: longest_retry_wait(task) for name, task in our_tasks().items()}
    assert waits["chat.tasks.attach_transcript"] > 0  # the transcript tasks do retry
    assert max(waits.values()) <= settings.TASK_RETRY_WAIT_MAX_SECONDS, waits
    assert settings.TASK_VISIBILITY_TIMEOUT_SECONDS > settings.TASK_LONGEST_HOLD_SECONDS


def test_a_dead_workers_task_is_handed_out_again_within_a_minute(settings: Any) -> None:
    options = app.conf.broker_transport_options
    visibility = options.get("visibility_timeout", Channel.visibility_timeout)
    # kombu scans on every ``throttle``-th check, a check every ``interval`` seconds.
    scan_every = options.get(
        "unacked_restore_interval", Channel.unacked_restore_interval
    ) * options.get("unacked_restore_throttle", Channel.unacked_restore_throttle)
    assert visibility + scan_every <= 60, (visibility, scan_every)
    # ... and the tasks the worker runs have a time limit, which that allows for.
    assert app.conf.task_soft_time_limit == settings.TASK_TIME_LIMIT_SECONDS
    assert app.conf.task_time_limit > app.conf.task_soft_time_limit
