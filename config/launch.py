"""`make run`: get a local Switchboard ready and start all its processes.

    python -m config.launch        (PORT=8001 to serve on another port)

1. a private Redis on var/redis.sock when REDIS_URL is unset (config/embedded_redis.py);
2. migrate, seed_demo, collectstatic;
3. honcho with the Procfile: web (daphne), worker and beat, and with
   SWITCHBOARD_FAKE_PROVIDERS=1 the local fake SMS/WhatsApp provider (``fake``),
   both channels pointed at it with dummy credentials;
4. the URLs and demo logins, printed once daphne accepts connections (the logins
   only there: seed_demo runs with --no-logins).

SWITCHBOARD_ACCESS_LOG=1 makes daphne print a line per request and websocket event
(the Procfile sends them to /dev/null otherwise).

Ctrl-C reaches honcho directly (it is in the terminal's process group); honcho stops
its processes, then this launcher stops the private Redis if it started it.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

from config.settings.environment import env_bool

BASE_DIR = Path(__file__).resolve().parent.parent
DEFAULT_PORT = 8000
HOST = "127.0.0.1"

PAGES = [
    ("Client portal", "/portal/"),
    ("Agent console", "/console/"),
    ("Django admin", "/admin/"),
    ("API docs", "/api/docs/"),
]


def read_port() -> int:
    raw = os.environ.get("PORT") or str(DEFAULT_PORT)
    try:
        port = int(raw)
    except ValueError:
        sys.exit(f"PORT must be a number (got {raw!r})")
    if not 0 < port < 65536:
        sys.exit(f"PORT must be between 1 and 65535 (got {port})")
    return port


def read_access_log() -> bool:
    """SWITCHBOARD_ACCESS_LOG: daphne's line per request and websocket event; off unless
    asked for, it would bury everything else (a page load is a dozen static files)."""
    try:
        return env_bool("SWITCHBOARD_ACCESS_LOG", False)
    except ImproperlyConfigured as exc:
        sys.exit(str(exc))


def port_in_use(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex((HOST, port)) == 0


def prepare_database() -> list[str]:
    """Schema, demo data and static files, in this process (one Django start-up).
    Returns the banner's lines of demo logins (none without demo data)."""
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", interactive=False, verbosity=1)
    logins = load_demo_data()
    # Copies only what changed since the last run; DEBUG=false needs it to serve CSS/JS.
    call_command("collectstatic", interactive=False, verbosity=0)

    from django.db import connections

    connections.close_all()
    return logins


def load_demo_data() -> list[str]:
    """seed_demo, which prints what it created; its logins are returned for the banner
    instead of being printed here too."""
    from django.core.management import call_command, get_commands

    if os.environ["DJANGO_SETTINGS_MODULE"] == "config.settings.production":
        # Demo users have a published password: never in production.
        print("Production settings: not loading demo data.")
        return []
    if "seed_demo" not in get_commands():
        print("warning: no seed_demo command in this tree; starting without demo data")
        return []
    call_command("seed_demo", logins=False)

    from config.management.commands import seed_demo

    return [f"Demo logins (password: {seed_demo.PASSWORD})"] + [
        f"  {line}" for line in seed_demo.login_lines()
    ]


def banner(port: int, logins: list[str]) -> str:
    base = f"http://{HOST}:{port}"
    lines = ["", "Switchboard is running. Ctrl-C stops everything.", ""]
    lines += [f"  {name:<14} {base}{path}" for name, path in PAGES]
    if logins:
        lines += ["", *logins]
    return "\n".join(lines) + "\n"


def announce_when_ready(
    port: int, logins: list[str], honcho: subprocess.Popen[bytes], fake_port: int | None = None
) -> None:
    """Print the banner after daphne's start-up logs, so it is the last thing on screen."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and honcho.poll() is None:
        if port_in_use(port):
            print(banner(port, logins), flush=True)
            if fake_port is not None:
                print(f"  Fake SMS/WhatsApp provider  http://{HOST}:{fake_port}/\n", flush=True)
            return
        time.sleep(0.2)


def fake_providers_on() -> bool:
    return os.environ.get("SWITCHBOARD_FAKE_PROVIDERS", "").strip().lower() in {
        "1",
        "true",
        "yes",
        "on",
    }


def fake_provider_port(port: int) -> int:
    raw = os.environ.get("SWITCHBOARD_FAKE_PROVIDER_PORT") or str(port + 100)
    try:
        return int(raw)
    except ValueError:
        sys.exit(f"SWITCHBOARD_FAKE_PROVIDER_PORT must be a number (got {raw!r})")


def use_fake_providers(port: int) -> int:
    """Point SMS and WhatsApp at the local fake (config/fake_provider.py) with
    dummy credentials, for this launcher and everything it starts. Only
    variables that are unset: a developer's own settings win. Returns the
    fake's port."""
    fake_port = fake_provider_port(port)
    fake = f"http://{HOST}:{fake_port}"
    defaults = {
        "SWITCHBOARD_FAKE_PROVIDER_PORT": str(fake_port),
        "SWITCHBOARD_PUBLIC_URL": f"http://{HOST}:{port}",
        "SWITCHBOARD_TWILIO_ACCOUNT_SID": "ACfake00000000000000000000000000",
        "SWITCHBOARD_TWILIO_AUTH_TOKEN": "fake-twilio-auth-token",
        "SWITCHBOARD_TWILIO_SMS_FROM": "+15005550006",
        "SWITCHBOARD_TWILIO_API_BASE": f"{fake}/twilio",
        "SWITCHBOARD_WHATSAPP_TOKEN": "fake-whatsapp-token",
        "SWITCHBOARD_WHATSAPP_PHONE_NUMBER_ID": "100000000000001",
        "SWITCHBOARD_WHATSAPP_APP_SECRET": "fake-whatsapp-app-secret",
        "SWITCHBOARD_WHATSAPP_VERIFY_TOKEN": "fake-whatsapp-verify-token",
        "SWITCHBOARD_WHATSAPP_API_BASE": f"{fake}/graph",
    }
    for name, value in defaults.items():
        os.environ.setdefault(name, value)
    return fake_port


def serve(port: int, logins: list[str], *, access_log: bool, fake_port: int | None = None) -> int:
    venv_bin = str(Path(sys.executable).parent)
    env = {
        **os.environ,
        "PATH": f"{venv_bin}{os.pathsep}{os.environ.get('PATH', '')}",
        # Read by the Procfile's web line, which only knows "1".
        "SWITCHBOARD_ACCESS_LOG": "1" if access_log else "0",
    }
    processes = ["web", "worker", "beat"] + (["fake"] if fake_port is not None else [])
    honcho = subprocess.Popen(
        [sys.executable, "-m", "honcho", "start", "-f", "Procfile", "-p", str(port), *processes],
        cwd=BASE_DIR,
        env=env,
    )
    # Ctrl-C is delivered to honcho too: it stops daphne, worker and beat in order. We
    # just wait for it. A SIGTERM sent to this launcher alone is passed on to honcho.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, lambda signum, frame: honcho.send_signal(signal.SIGTERM))
    threading.Thread(
        target=announce_when_ready, args=(port, logins, honcho, fake_port), daemon=True
    ).start()
    returncode = honcho.wait()
    # honcho reports the signal that stopped it (130 SIGINT, 143 SIGTERM): that is the
    # normal way to stop, not a failure.
    return 0 if returncode in (130, 143) else returncode


def main() -> int:
    os.chdir(BASE_DIR)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")
    port = read_port()
    access_log = read_access_log()
    if port_in_use(port):
        sys.exit(f"Port {port} is already in use on {HOST}; try PORT={port + 1} make run")
    # Before Django reads its settings here, and for every process honcho starts.
    fake_port = use_fake_providers(port) if fake_providers_on() else None
    (BASE_DIR / "var").mkdir(exist_ok=True)

    from config import embedded_redis

    own_redis = False
    if not os.environ.get("REDIS_URL"):
        own_redis = not embedded_redis.is_running()
        note = "" if own_redis else " (already running; left running on exit)"
        print(f"Private Redis: {embedded_redis.start()}{note}", flush=True)
    try:
        logins = prepare_database()
        return serve(port, logins, access_log=access_log, fake_port=fake_port)
    finally:
        # A Redis that was already running belongs to someone else (another `make run`).
        if own_redis:
            embedded_redis.stop()
            print("Private Redis stopped.", flush=True)


if __name__ == "__main__":
    sys.exit(main())
