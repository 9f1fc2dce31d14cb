"""``python -m tests.bench`` (``make bench``): the chat benchmark of issue 3.

Options may also come from the environment (``make bench`` passes none):
BENCH_CHATS, BENCH_RATE, BENCH_DURATION, BENCH_RAMP, BENCH_DRAIN,
BENCH_DAPHNES, BENCH_ROUNDS. ``DATABASE_URL`` set: that (PostgreSQL) database is migrated and
used; unset: a fresh SQLite file var/bench/bench.sqlite3. Then the timer sweep
(tests/bench/sweep.py) and the reconnect burst (tests/bench/burst.py) run on
stacks of their own; ``--burst-only`` runs just the burst. Progress goes to
stderr; the last line on stdout is one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import resource
import signal
import sys
import time
from typing import Any

from tests.bench import load, seed
from tests.bench.stack import Stack, log, raise_fd_limit


def _env_number(name: str, default: float) -> float:
    raw = os.environ.get(name, "")
    try:
        return float(raw) if raw else default
    except ValueError:
        raise SystemExit(f"{name} must be a number (got {raw!r})") from None


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m tests.bench",
        description="Chat benchmark: N chats (a client and an agent socket each) through "
        "daphne + Redis, messages at a fixed total rate, against a bare echo baseline.",
    )
    parser.add_argument(
        "--chats",
        type=int,
        default=int(_env_number("BENCH_CHATS", 500)),
        help="chats to open; sockets = 2 x chats (default 500, env BENCH_CHATS)",
    )
    parser.add_argument(
        "--rate",
        type=float,
        default=_env_number("BENCH_RATE", 200),
        help="total messages per second, all chats together (default 200, env BENCH_RATE)",
    )
    parser.add_argument(
        "--duration",
        type=float,
        default=_env_number("BENCH_DURATION", 30),
        help="seconds of sending of each kind of traffic, chat and echo (default 30, env "
        "BENCH_DURATION)",
    )
    parser.add_argument(
        "--ramp",
        type=float,
        default=_env_number("BENCH_RAMP", 35),
        help="seconds over which the chat sockets connect (default 35, env BENCH_RAMP): "
        "spreads the per-socket session re-checks as in a long-running server",
    )
    parser.add_argument(
        "--drain",
        type=float,
        default=_env_number("BENCH_DRAIN", 10),
        help="seconds to wait for outstanding messages after sending (default 10)",
    )
    parser.add_argument(
        "--daphnes",
        type=int,
        # Two: one daphne process runs on one core (the GIL), and 200 chat
        # messages/s need more than half of one here; production runs several
        # (README). The echo baseline goes through the same processes.
        default=int(_env_number("BENCH_DAPHNES", 2)),
        help="daphne processes; a chat's two sockets go to different ones (default 2, "
        "env BENCH_DAPHNES)",
    )
    parser.add_argument(
        "--setup-concurrency",
        type=int,
        default=8,
        help="chats being created at once during set-up (default 8)",
    )
    parser.add_argument(
        "--no-heartbeat",
        action="store_true",
        help="do not send the browser's ping frame every heartbeat_seconds per chat socket",
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=int(_env_number("BENCH_ROUNDS", 6)),
        help="the chat and echo traffic are sent in turn, in this many rounds of one slice "
        "each (duration / rounds seconds per slice; default 6, env BENCH_ROUNDS)",
    )
    parser.add_argument("--skip-baseline", action="store_true", help="chat traffic only")
    parser.add_argument(
        "--burst-only",
        action="store_true",
        help="only the reconnect burst (tests/bench/burst.py); the other figures are null",
    )
    parser.add_argument(
        "--no-alone-baseline",
        action="store_true",
        help="skip the second echo measurement, on its own after the chat sockets closed",
    )
    parser.add_argument(
        "--trace",
        metavar="FILE",
        help="write the chat traffic's per-message timings (send time, ack and delivery "
        "latency, sockets) to FILE as CSV",
    )
    parser.add_argument(
        "--settings",
        default=os.environ.get("BENCH_SETTINGS") or "config.settings.dev",
        help="Django settings module of daphne and the seeding (default config.settings.dev, "
        "run with DEBUG off and LOG_LEVEL=WARNING; env BENCH_SETTINGS)",
    )
    args = parser.parse_args(argv)
    if (
        args.chats < 1
        or args.rate <= 0
        or args.duration <= 0
        or args.daphnes < 1
        or args.rounds < 1
    ):
        parser.error("--chats, --rate, --duration, --daphnes and --rounds must be positive")
    per_socket = args.rate / (2 * args.chats)
    if per_socket > 3:
        log(
            f"warning: {per_socket:.1f} frames/s per socket; the default rate limit is "
            "30 frames per 5 s, sockets may be closed with 4429"
        )
    return args


# The figures of the chat and echo traffic (run), in the order of the JSON line;
# all null when only the reconnect burst runs (--burst-only).
CHAT_FIGURES = (
    "chats",
    "sockets",
    "rate",
    "sent",
    "received",
    "lost",
    "duplicated",
    "p50_ms",
    "p99_ms",
    "baseline_p50_ms",
    "baseline_p99_ms",
    "ratio_p50",
    "ratio_p99",
    "rss_per_socket_kb",
    "baseline_alone_p50_ms",
    "baseline_alone_p99_ms",
    "ratio_p99_alone",
)


def _round(value: float, digits: int = 2) -> float | None:
    return None if value is None or math.isnan(value) else round(value, digits)


def _summary(name: str, recorder: load.Recorder, *, acks: bool = True) -> str:
    acked = f", refused {recorder.refused}, unacked {recorder.unacked}" if acks else ""
    return (
        f"{name}: sent {recorder.sent}, received {recorder.received}{acked}, not delivered "
        f"within the drain period {recorder.outstanding}, duplicated {recorder.duplicated}, "
        "errors "
        f"{dict(recorder.errors) or 0}, unexpected closes "
        f"{dict(recorder.unexpected_closes) or 0}; latency p50 "
        f"{recorder.percentile(0.5):.2f} ms, p90 {recorder.percentile(0.9):.2f} ms, p99 "
        f"{recorder.percentile(0.99):.2f} ms, max {recorder.percentile(1.0):.2f} ms"
    )


async def run(args: argparse.Namespace, stack: Stack, pairs: list[seed.Pair], warm: str) -> dict:
    await load.warm_up(stack, warm)
    await load.wait_idle(stack, what="after warm-up")
    rss_before = stack.daphne_rss_kb()
    log(f"daphne RSS before sockets: {rss_before / 1024:.1f} MiB")

    chat, memory = await load.open_chats(
        stack,
        pairs,
        ramp=args.ramp,
        setup_concurrency=args.setup_concurrency,
        heartbeat=not args.no_heartbeat,
    )
    loads = [chat]
    try:
        if not args.skip_baseline:
            echo, echo_kb = await load.open_echo(stack, args.chats)
            loads.append(echo)
            log(f"echo: {echo_kb:.1f} KB per socket")
        rounds = args.rounds if len(loads) > 1 else 1
        log(
            f"sending {args.rate:g} msg/s, {args.duration:g} s of "
            + " and ".join(f"{each.label}" for each in loads)
            + (f", in {rounds} rounds of a slice each, taken in turn" if rounds > 1 else "")
        )
        await load.measure(
            stack,
            loads,
            rate=args.rate,
            duration=args.duration,
            rounds=rounds,
            drain_seconds=args.drain,
        )
    finally:
        for each in reversed(loads):
            await each.close()

    recorder = chat.recorder
    log(_summary("chat", recorder))
    if args.trace:
        recorder.write_trace(args.trace)
        log(f"chat: per-message timings in {args.trace}")
    rss_per_socket = (memory["rss_after_kb"] - rss_before) / max(1, len(chat.sockets))
    log(
        f"chat: daphne RSS {rss_before / 1024:.1f} -> {memory['rss_after_kb'] / 1024:.1f} MiB "
        f"= {rss_per_socket:.1f} KB per socket ("
        f"{(memory['rss_after_kb'] - memory['rss_created_kb']) / max(1, len(chat.sockets)):.1f}"
        " KB counting from after the chats were created); throughput "
        f"{recorder.received / chat.send_seconds:.1f} msg/s delivered"
    )

    baseline_p50 = baseline_p99 = alone_p50 = alone_p99 = float("nan")
    if len(loads) > 1:
        echo = loads[1]
        log(_summary("echo", echo.recorder, acks=False))
        baseline_p50 = echo.recorder.percentile(0.5)
        baseline_p99 = echo.recorder.percentile(0.99)
    if len(loads) > 1 and not args.no_alone_baseline:
        # The baseline as earlier versions of this benchmark took it: after the
        # chat sockets are closed, on a server with nothing else open. Logged
        # and reported beside the interleaved one, which the ratios use.
        await load.wait_idle(stack, what="after closing the sockets")
        alone, _ = await load.open_echo(stack, args.chats)
        alone.label = "echo alone"
        try:
            await load.measure(
                stack,
                [alone],
                rate=args.rate,
                duration=args.duration,
                rounds=1,
                drain_seconds=args.drain,
            )
        finally:
            await alone.close()
        log(_summary("echo alone", alone.recorder, acks=False))
        alone_p50 = alone.recorder.percentile(0.5)
        alone_p99 = alone.recorder.percentile(0.99)

    p50, p99 = recorder.percentile(0.5), recorder.percentile(0.99)
    return {
        "chats": args.chats,
        "sockets": len(chat.sockets),
        "rate": int(args.rate) if args.rate == int(args.rate) else args.rate,
        "sent": recorder.sent,
        "received": recorder.received,
        "lost": recorder.outstanding,
        "duplicated": recorder.duplicated,
        "p50_ms": _round(p50),
        "p99_ms": _round(p99),
        "baseline_p50_ms": _round(baseline_p50),
        "baseline_p99_ms": _round(baseline_p99),
        "ratio_p50": _round(p50 / baseline_p50) if baseline_p50 else None,
        "ratio_p99": _round(p99 / baseline_p99) if baseline_p99 else None,
        "rss_per_socket_kb": _round(rss_per_socket, 1),
        "baseline_alone_p50_ms": _round(alone_p50),
        "baseline_alone_p99_ms": _round(alone_p99),
        "ratio_p99_alone": _round(p99 / alone_p99) if alone_p99 == alone_p99 else None,
    }


def _load() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def _terminate(signum: int, frame: Any) -> None:
    # Treated as Ctrl-C: asyncio.run cancels the run cleanly, then we stop the stack.
    os.kill(os.getpid(), signal.SIGINT)


def _chat_figures(args: argparse.Namespace) -> dict[str, Any] | int:
    """Steps 1-7 of docs/performance.md on a stack of their own: the figures,
    or the exit code of a failed or interrupted run."""
    started = time.monotonic()
    stack = Stack(daphne_count=args.daphnes, settings_module=args.settings)
    try:
        stack.configure()
        log(
            f"database: {stack.database}; private Redis and daphne files in {stack.workdir}; "
            f"load average {_load()}"
        )
        stack.start_redis()
        seed.setup_django()
        seed.migrate()
        pairs, warm = seed.seed(args.chats)
        log(f"seeded {args.chats} clients (contact + ticket) and {args.chats} agents")
        # Close this process's database connection before the server uses the DB.
        from django.db import connections

        connections.close_all()
        stack.start_daphnes()
        log(f"daphne pid(s) {stack.daphne_pids} on port(s) {stack.ports}")
        # Every phase has its own limit; this one bounds the whole run.
        limit = 2400 + args.ramp + 3 * (args.duration + args.drain)
        result = asyncio.run(asyncio.wait_for(run(args, stack, pairs, warm), limit))
    except KeyboardInterrupt:
        log("interrupted; stopping what was started")
        return 130
    except Exception as exc:
        log(f"failed: {type(exc).__name__}: {exc}")
        for name in stack.processes:
            if name.startswith("daphne"):
                tail = stack.log_tail(name, 2000)
                if tail:
                    log(f"{name} log (tail):\n{tail}")
        return 1
    finally:
        stack.stop()
    if load.handshake_failures:
        log(f"warning: handshakes refused and retried: {dict(load.handshake_failures)}")
    usage = resource.getrusage(resource.RUSAGE_SELF)
    log(
        f"finished in {time.monotonic() - started:.0f} s; load average {_load()}; bench client CPU "
        f"{usage.ru_utime + usage.ru_stime:.0f} s; logs in var/bench/"
    )
    return result


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, _terminate)
    # Also when started in the background, where a shell leaves SIGINT ignored.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    # Chat and echo sockets are open together: 2 x 2N here, the same in daphne.
    raise_fd_limit(6 * args.chats + 1000)
    # The database of the sweep and reconnect-burst benchmarks (each builds
    # its own beside it): read before the stack points DATABASE_URL at its own.
    database_url = os.environ.get("DATABASE_URL") or None
    if args.burst_only:
        result: dict[str, Any] = dict.fromkeys(CHAT_FIGURES)
    else:
        figures = _chat_figures(args)
        if isinstance(figures, int):
            return figures
        result = figures
    # After the chat benchmark, with its stack stopped: each its own database,
    # Redis and (the burst) daphne processes.
    from tests.bench.burst import measure_reconnect_burst_ms
    from tests.bench.sweep import measure_sweep_ms_100k

    try:
        result["sweep_ms_100k"] = None if args.burst_only else measure_sweep_ms_100k(database_url)
        result["reconnect_burst_ms"] = measure_reconnect_burst_ms(
            database_url, settings_module=args.settings
        )
    except KeyboardInterrupt:
        log("interrupted")
        return 130
    print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
