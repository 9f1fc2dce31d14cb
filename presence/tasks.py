"""The two beat entries (config/celery.py): ``presence.tasks.sweep`` runs
every timer sweep of the product in turn every SWEEP_SECONDS, and
``presence.tasks.requeue_sweep`` the sweeps that queue again the tasks the
broker refused (chat.requeue) every REQUEUE_SWEEP_SECONDS.

A sweep is a keyword-only service ``(*, now) -> int`` that is safe to run
twice (conditional updates over indexed deadline columns).
Add one by appending its dotted path to ``SWEEPS`` (a deadline: the chat
timers, block expiry...) or to ``REQUEUE_SWEEPS`` (work whose task is
missing: a row is queued again at most every few minutes, so a slower clock
does it, and its scans of hours of rows do not run every few seconds).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from celery import shared_task
from django.utils import timezone
from django.utils.module_loading import import_string

logger = logging.getLogger(__name__)

# Dotted paths, imported lazily so that an app's import error shows up in the
# log of its own sweep instead of stopping every other timer.
SWEEPS: list[str] = [
    "presence.services.presence_sweep",
    "chat.timers.sweep_queue_warning",
    "chat.timers.sweep_no_answer",
    "chat.timers.sweep_abandoned",
    "chat.timers.sweep_inactivity",
    "chat.agent_tools.blocks.sweep_block_expiry",
    "chat.reach_out.emails.sweep_reach_out_emails",
]

# Tasks the broker refused when their work was stored (chat.requeue).
REQUEUE_SWEEPS: list[str] = [
    "chat.requeue.sweep_unsent_messages",
    "chat.requeue.sweep_unsent_notices",
    "chat.requeue.sweep_transcripts",
    "chat.requeue.sweep_pending_media",
]


def run_sweeps(*, now: datetime | None = None) -> dict[str, int]:
    """Run every timer sweep once; one failing sweep does not stop the others."""
    return _run(SWEEPS, now=now or timezone.now())


def run_requeue_sweeps(*, now: datetime | None = None) -> dict[str, int]:
    """Run every requeue sweep once; one failing does not stop the others."""
    return _run(REQUEUE_SWEEPS, now=now or timezone.now())


def _run(paths: list[str], *, now: datetime) -> dict[str, int]:
    results: dict[str, int] = {}
    for path in paths:
        try:
            sweep: Callable[..., int] = import_string(path)
            results[path] = sweep(now=now)
        except Exception:
            logger.exception("sweep %s failed", path)
            results[path] = -1
    return results


def _log_changes(results: dict[str, int]) -> dict[str, int]:
    changed = {path: n for path, n in results.items() if n}
    if changed:
        logger.info("sweep changed %s", changed)
    return results


# A tick that waited in the broker for a minute (worker down) is dropped: the
# next one does the same work.
@shared_task(name="presence.tasks.sweep", ignore_result=True, expires=60)
def sweep() -> dict[str, int]:
    # Beat fires every few seconds; a late or duplicated tick is harmless
    # because every sweep is idempotent, so no locking or dedup here.
    return _log_changes(run_sweeps())


@shared_task(name="presence.tasks.requeue_sweep", ignore_result=True, expires=60)
def requeue_sweep() -> dict[str, int]:
    # As sweep: every requeue sweep stamps the rows it queues, so a late or
    # duplicated tick queues nothing twice.
    return _log_changes(run_requeue_sweeps())
