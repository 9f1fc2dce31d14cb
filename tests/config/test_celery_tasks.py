"""Celery delivers a task's message at least once (docs/architecture.md,
"Tasks"): what that asks of every task."""

from __future__ import annotations

from celery import Task

from config.celery import app

# Every task of ours, and the test that runs it twice and sees its work done once.
RUN_TWICE_TESTS = {
    "chat.tasks.attach_transcript": "tests/chat/test_tasks.py",
    "chat.tasks.email_transcript": "tests/chat/test_tasks.py",
    "presence.tasks.sweep": "tests/presence/test_sweep_twice.py",
}


def our_tasks() -> dict[str, Task]:
    app.loader.import_default_modules()
    return {name: task for name, task in app.tasks.items() if not name.startswith("celery.")}


def test_every_task_has_a_test_that_runs_it_twice() -> None:
    assert set(our_tasks()) == set(RUN_TWICE_TESTS), (
        "a message may be delivered twice: a new task must do its work once however "
        "often it runs; add a test that runs it twice and list it in RUN_TWICE_TESTS"
    )
