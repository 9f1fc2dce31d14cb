"""A gate that holds one Celery task in the worker until the test opens it, so
that a test can act (kill the worker) while the task runs.

tests/integration/settings.py installs it in the processes of a stack started
with ``SWITCHBOARD_IT_GATE_DIR=<dir>`` and ``SWITCHBOARD_IT_GATE_TASK=<task
name>``; nothing of it exists in any other settings. Each start of that task
appends its task id to ``<dir>/started`` (``runs``), then the task waits until
``<dir>/open`` exists (``open_gate``).
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from celery import Task
from celery.signals import task_prerun

POLL_SECONDS = 0.05


def runs(directory: Path) -> list[str]:
    """The task id of each start of the gated task, in order."""
    path = directory / "started"
    return [line.split()[0] for line in path.read_text().splitlines()] if path.exists() else []


def open_gate(directory: Path) -> None:
    (directory / "open").touch()


def install(directory: Path, task_name: str) -> None:
    def wait_at_gate(sender: Task | None = None, task_id: str = "", **kwargs: Any) -> None:
        if sender is None or sender.name != task_name:
            return
        with (directory / "started").open("a") as out:
            out.write(f"{task_id} pid {os.getpid()}\n")
        while not (directory / "open").exists():
            time.sleep(POLL_SECONDS)

    # task_prerun runs in the process that executes the task, before its
    # body, while its message is still unacknowledged (acks_late).
    task_prerun.connect(wait_at_gate, weak=False)
