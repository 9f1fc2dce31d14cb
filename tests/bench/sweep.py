"""The timer sweep benchmark (issue 4): how long one full sweep
(``chat.timers.sweep_all``: queue warning, no-answer, abandoned, inactivity)
takes with 100,000 chat sessions in the database, 1% of them due.

``measure_sweep_ms_100k(database_url)`` runs it in a child process (its own
Django set-up, so it can sit beside the chat benchmark of ``python -m
tests.bench``) against a database of its own, rebuilt on every run:

* ``database_url`` None (or any ``sqlite:`` URL): a fresh SQLite file
  var/bench/sweep.sqlite3;
* a ``postgres://`` URL: a database ``bench_sweep`` on that server (dropped
  and created again; the URL's own database is only used to connect).

The rows: 100,000 sessions of 1,000 clients. 1,000 are due, 250 per sweep:
waiting past the warning; warned and past the no-answer deadline; told
nobody answered more than the presence grace ago with the client's page
closed; active past the inactivity deadline. The other 99,000 are what a
helpdesk accumulates: 96,000 ended, closed or abandoned chats (their
deadlines long past, the trap for an index on a deadline alone),
1,000 active chats not due yet, 500 already flagged inactive, 500 waiting
requests not due yet, 500 warned but not due for no-answer, and 500 told
nobody answered whose client still has the page open (not abandoned).

Timed: ``sweep_all`` only, including its after-commit broadcasts to a private
redis-server (channels_redis; one available supervisor gets the warning
toast). Each run is undone afterwards (the due rows restored, their new
lines and events deleted) and run again; the figure is the median of
``runs``. The same is then timed with the broadcasts switched off
(``without_broadcasts_ms``: the database part). Standalone: ``python -m
tests.bench.sweep [--database-url URL]`` prints one JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from tests.bench.stack import BASE_DIR, BENCH_DIR, log, redis_server_binary

SESSIONS = 100_000
DUE_PER_SWEEP = 250  # x 4 sweeps = 1% of SESSIONS
CLIENTS = 1_000
BATCH = 5_000
RUNS = 5
SWEEP_DATABASE = "bench_sweep"


# --- parent: databases and Redis, then the child ---------------------------------------


def _postgres_sweep_url(database_url: str) -> str:
    """A fresh ``bench_sweep`` database on the server of ``database_url``."""
    import psycopg

    parts = urlsplit(database_url)
    admin_db = parts.path.lstrip("/") or "postgres"
    if admin_db == SWEEP_DATABASE:
        admin_db = "postgres"
    admin = urlunsplit(parts._replace(scheme="postgresql", path=f"/{admin_db}"))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{SWEEP_DATABASE}"')
        conn.execute(f'CREATE DATABASE "{SWEEP_DATABASE}"')
    return urlunsplit(parts._replace(path=f"/{SWEEP_DATABASE}"))


def _sqlite_sweep_url() -> str:
    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    path = BENCH_DIR / "sweep.sqlite3"
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    return f"sqlite:///{path}"


def _start_redis(workdir: Path) -> tuple[subprocess.Popen[bytes], str]:
    sock = workdir / "redis.sock"
    process = subprocess.Popen(
        [redis_server_binary(), "--port", "0", "--unixsocket", str(sock)]
        + ["--unixsocketperm", "700", "--save", "", "--appendonly", "no", "--dir", str(workdir)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    import redis

    deadline = time.monotonic() + 10
    while True:
        try:
            client = redis.Redis(unix_socket_path=str(sock), socket_timeout=1)
            try:
                if client.ping():
                    break
            finally:
                client.close()
        except (redis.ConnectionError, redis.TimeoutError, OSError):
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise SystemExit("bench sweep: redis-server did not start")
        time.sleep(0.05)
    return process, f"unix://{sock}"


def run_sweep_benchmark(
    database_url: str | None,
    *,
    redis_url: str | None = None,
    runs: int = RUNS,
    settings_module: str = "config.settings.dev",
) -> dict[str, Any]:
    """Build the database, run the child, return its result dict."""
    if database_url and database_url.startswith(("postgres://", "postgresql://")):
        url, database = _postgres_sweep_url(database_url), "postgresql"
    elif not database_url or database_url.startswith("sqlite:"):
        # Any SQLite URL (the chat benchmark's own file, say): our own file.
        url, database = _sqlite_sweep_url(), "sqlite"
    else:
        raise SystemExit("bench sweep: DATABASE_URL must be a postgres:// URL (or unset: SQLite)")
    workdir = Path(tempfile.mkdtemp(prefix="sb-sweep-"))
    redis_process = None
    try:
        if redis_url is None:
            redis_process, redis_url = _start_redis(workdir)
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": settings_module,
            "DATABASE_URL": url,
            "REDIS_URL": redis_url,
            "DEBUG": "0",
            "LOG_LEVEL": "WARNING",
            "PYTHONUNBUFFERED": "1",
        }
        log(f"sweep: {SESSIONS:,} sessions, {4 * DUE_PER_SWEEP} due, on {database}")
        done = subprocess.run(
            [sys.executable, "-m", "tests.bench.sweep", "--child", "--runs", str(runs)],
            cwd=BASE_DIR,
            env=env,
            stdout=subprocess.PIPE,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(f"sweep benchmark child exited with {done.returncode}")
        result = json.loads(done.stdout.strip().splitlines()[-1])
        result["database"] = database
        return result
    finally:
        if redis_process is not None:
            redis_process.terminate()
            redis_process.wait(timeout=10)
        shutil.rmtree(workdir, ignore_errors=True)


def measure_sweep_ms_100k(database_url: str | None, *, redis_url: str | None = None) -> float:
    """``sweep_ms_100k`` of the bench JSON line: median ms of one full sweep."""
    return float(run_sweep_benchmark(database_url, redis_url=redis_url)["sweep_ms_100k"])


# --- child: seed, then time the sweep ----------------------------------------------------


def _seed() -> dict[str, Any]:
    """Bulk-create the rows; returns the ids of the due sessions by sweep."""
    from datetime import timedelta

    from django.conf import settings
    from django.contrib.auth.hashers import make_password
    from django.db import connection, transaction
    from django.utils import timezone

    from accounts.models import Company, Contact, Role, User
    from chat.models import ChatKind, ChatSession, Participant, ParticipantRole, SessionStatus
    from presence.models import AgentConnection, AgentPresence, PresenceStatus

    base = timezone.now()
    past = base - timedelta(minutes=10)
    long_ago = base - timedelta(days=30)
    future = base + timedelta(days=1)
    grace = timedelta(seconds=settings.PRESENCE_GRACE_SECONDS)
    unusable = make_password(None)

    with transaction.atomic():
        company = Company.objects.create(name="Sweep bench")
        clients = User.objects.bulk_create(
            User(
                email=f"sweep-client{i}@bench.example",
                full_name=f"Sweep Client {i}",
                role=Role.CLIENT,
                password=unusable,
            )
            for i in range(CLIENTS)
        )
        contacts = Contact.objects.bulk_create(
            Contact(name=u.full_name, email=u.email, company=company, user=u) for u in clients
        )
        agent = User.objects.create(
            email="sweep-agent@bench.example", full_name="Sweep Agent", role=Role.AGENT
        )
        supervisor = User.objects.create(
            email="sweep-supervisor@bench.example",
            full_name="Sweep Supervisor",
            role=Role.SUPERVISOR,
        )
        for staff in (agent, supervisor):
            AgentPresence.objects.create(user=staff, status=PresenceStatus.AVAILABLE)
            AgentConnection.objects.create(
                user=staff, channel_name=f"bench.{staff.pk}", last_seen=base
            )

    # Clients 0-99 have a portal page open (their told-but-connected requests
    # are not abandoned); the others have none.
    connected = clients[:100]
    AgentConnection.objects.bulk_create(
        AgentConnection(user=u, channel_name=f"bench.client.{u.pk}", last_seen=base)
        for u in connected
    )

    def session(index: int, status: str, **fields: Any) -> ChatSession:
        client_index = index % CLIENTS
        if fields.pop("connected", False):
            client_index = index % len(connected)
        elif status == SessionStatus.WAITING:
            client_index = len(connected) + index % (CLIENTS - len(connected))
        requested = fields.pop("requested", long_ago)
        values: dict[str, Any] = {
            "kind": ChatKind.PRE_TICKET,
            "status": status,
            "client": clients[client_index],
            "contact": contacts[client_index],
            "subject": f"Sweep bench {index}",
            "requested_at": requested,
            "last_activity_at": requested,
            "last_seq": 3,
            "warning_due_at": requested + timedelta(seconds=settings.QUEUE_WARNING_SECONDS),
            "no_answer_due_at": requested + timedelta(seconds=settings.NO_ANSWER_SECONDS),
        }
        values.update(fields)
        return ChatSession(**values)

    # (kind, count, status, fields); the first four are the due ones.
    old = long_ago
    plan: list[tuple[str, int, str, dict[str, Any]]] = [
        (
            "due_warning",
            DUE_PER_SWEEP,
            SessionStatus.WAITING,
            {"requested": past, "no_answer_due_at": future},
        ),
        (
            "due_no_answer",
            DUE_PER_SWEEP,
            SessionStatus.WAITING,
            {"requested": past, "warned_at": past},
        ),
        (
            "due_abandoned",
            DUE_PER_SWEEP,
            SessionStatus.WAITING,
            {"requested": past - grace, "warned_at": past - grace, "no_answer_at": past - grace},
        ),
        (
            "due_inactivity",
            DUE_PER_SWEEP,
            SessionStatus.ACTIVE,
            {"answered_at": old, "inactivity_due_at": past},
        ),
        (
            "active",
            1_000,
            SessionStatus.ACTIVE,
            {"requested": base, "answered_at": base, "inactivity_due_at": future},
        ),
        (
            "active_flagged",
            500,
            SessionStatus.ACTIVE,
            {"answered_at": old, "inactivity_due_at": past, "inactive_at": past},
        ),
        (
            "waiting",
            500,
            SessionStatus.WAITING,
            {"requested": base, "warning_due_at": future, "no_answer_due_at": future},
        ),
        (
            "waiting_warned",
            500,
            SessionStatus.WAITING,
            {"requested": base, "warned_at": base, "no_answer_due_at": future},
        ),
        (
            "told_connected",
            500,
            SessionStatus.WAITING,
            {
                "requested": past - grace,
                "warned_at": past - grace,
                "no_answer_at": past - grace,
                "connected": True,
            },
        ),
    ]
    history = SESSIONS - sum(count for _, count, _, _ in plan)
    # History: answered in time (no warning), ended or closed; a few abandoned
    # or callbacks. Every deadline long past.
    statuses = [SessionStatus.ENDED] * 7 + [SessionStatus.CLOSED] * 2 + [SessionStatus.ABANDONED]
    due: dict[str, list[int]] = {}
    index = 0
    for kind, count, status, fields in plan:
        rows = [session(index + i, status, **fields) for i in range(count)]
        index += count
        created = ChatSession.objects.bulk_create(rows, batch_size=BATCH)
        if kind.startswith("due_"):
            due[kind] = [row.pk for row in created]
        Participant.objects.bulk_create(
            Participant(
                session=row,
                user=row.client,
                role=ParticipantRole.CLIENT,
                joined_at=row.requested_at,
            )
            for row in created
        )
        if status == SessionStatus.ACTIVE:
            Participant.objects.bulk_create(
                Participant(
                    session=row, user=agent, role=ParticipantRole.AGENT, joined_at=row.requested_at
                )
                for row in created
            )
    for start in range(0, history, BATCH):
        rows = []
        for i in range(start, min(history, start + BATCH)):
            status = statuses[i % len(statuses)]
            requested = long_ago - timedelta(minutes=i)
            ended = requested + timedelta(minutes=20)
            rows.append(
                session(
                    index + i,
                    status,
                    requested=requested,
                    answered_at=requested + timedelta(seconds=10),
                    ended_at=ended,
                    closed_at=ended if status == SessionStatus.CLOSED else None,
                    inactivity_due_at=ended + timedelta(seconds=settings.INACTIVITY_SECONDS),
                )
            )
        ChatSession.objects.bulk_create(rows, batch_size=BATCH)
    if connection.vendor == "postgresql":
        # What autovacuum does soon after a bulk load; SQLite gets no ANALYZE
        # (Django never runs one), so its plans are the unanalyzed ones.
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
    return due


def _undo(due: dict[str, list[int]]) -> None:
    """Put the due sessions back as they were before the sweep."""
    from datetime import timedelta

    from django.conf import settings
    from django.db import transaction
    from django.utils import timezone

    from chat.models import ChatSession, Message, SessionEvent, SessionStatus

    everything = [pk for ids in due.values() for pk in ids]
    with transaction.atomic():
        Message.objects.filter(session_id__in=everything).delete()
        SessionEvent.objects.filter(session_id__in=everything).delete()
        ChatSession.objects.filter(pk__in=everything).update(sweep_token=None, last_seq=3)
        ChatSession.objects.filter(pk__in=due["due_warning"]).update(warned_at=None)
        ChatSession.objects.filter(pk__in=due["due_no_answer"]).update(no_answer_at=None)
        told = timezone.now() - timedelta(minutes=10, seconds=settings.PRESENCE_GRACE_SECONDS)
        ChatSession.objects.filter(pk__in=due["due_abandoned"]).update(
            status=SessionStatus.WAITING, ended_at=None, no_answer_at=told
        )
        ChatSession.objects.filter(pk__in=due["due_inactivity"]).update(inactive_at=None)


def _child(runs: int) -> dict[str, Any]:
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    from chat import timers
    from chat.models import ChatSession
    from realtime.broadcast import event, send_now

    started = time.monotonic()
    call_command("migrate", interactive=False, verbosity=0)
    due = _seed()
    total = ChatSession.objects.count()
    expected = sum(len(ids) for ids in due.values())
    log(
        f"sweep: seeded {total:,} sessions ({expected} due) on {connection.vendor} "
        f"in {time.monotonic() - started:.0f} s"
    )
    # Warm the connections (database, Redis) and imports: timed is the sweep.
    send_now("bench.warmup", event("bench.warmup"))

    def timed() -> tuple[float, float]:
        """(wall ms, this process's CPU ms) of one sweep_all, then undone."""
        now = timezone.now()
        wall, cpu = time.perf_counter(), time.process_time()
        changed = timers.sweep_all(now=now)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        if changed != expected:
            raise RuntimeError(f"the sweep changed {changed} sessions, not {expected}")
        _undo(due)
        return wall * 1000, cpu * 1000

    full = [timed() for _ in range(runs)]
    # The same without the announcements (the changed chats neither read
    # again nor sent): what the database part costs.
    hooks = timers.announce_warned, timers.announce_swept
    timers.announce_warned = timers.announce_swept = lambda *args, **kwargs: None  # type: ignore[assignment]
    try:
        quiet = [timed() for _ in range(runs)]
    finally:
        timers.announce_warned, timers.announce_swept = hooks
    median = statistics.median(wall for wall, _ in full)
    log(
        f"sweep on {connection.vendor}: "
        + ", ".join(f"{wall:.1f}" for wall, _ in full)
        + f" ms; median {median:.1f} ms (CPU of this process "
        f"{statistics.median(cpu for _, cpu in full):.1f} ms); without broadcasts "
        f"{statistics.median(wall for wall, _ in quiet):.1f} ms"
    )
    return {
        "sweep_ms_100k": round(median, 1),
        "runs_ms": [round(wall, 1) for wall, _ in full],
        "cpu_ms": round(statistics.median(cpu for _, cpu in full), 1),
        "without_broadcasts_ms": round(statistics.median(wall for wall, _ in quiet), 1),
        "sessions": total,
        "due": expected,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tests.bench.sweep",
        description="Time one full timer sweep over 100,000 sessions, 1% due.",
    )
    parser.add_argument(
        "--database-url",
        default=os.environ.get("DATABASE_URL") or None,
        help="a postgres:// URL: the sweep uses a fresh database bench_sweep on that server; "
        "unset: a fresh SQLite file var/bench/sweep.sqlite3 (default: $DATABASE_URL)",
    )
    parser.add_argument("--runs", type=int, default=RUNS)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        result = _child(args.runs)
    else:
        result = run_sweep_benchmark(args.database_url, runs=args.runs)
    print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
