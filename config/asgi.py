import gc
import os
import sys

from django.core.asgi import get_asgi_application

from config.db.sqlite3 import checkpoint

# All ORM work of a daphne process runs in one worker thread while the event
# loop serves the sockets. With CPython's default 5 ms switch interval the
# loop, after every socket call that released the GIL, waited up to 5 ms for
# the database thread to hand it back (a GIL convoy), and the database thread
# waited as long behind the loop: under load a chat message spent most of its
# latency queued there. Measured: docs/performance.md, "Switch interval of 0.5 ms".
sys.setswitchinterval(0.0005)
# On SQLite this process copies the WAL back in a thread of its own, so that
# no chat send waits for it (config/db/sqlite3/checkpoint.py).
checkpoint.enable()

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")
# Django must be set up before anything imports models (the consumers do).
django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from realtime.origin import SiteOriginValidator  # noqa: E402
from realtime.routing import websocket_urlpatterns  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        # Only pages of this site (scheme, host and port) open a socket.
        "websocket": SiteOriginValidator(AuthMiddlewareStack(URLRouter(websocket_urlpatterns()))),
    }
)

# What is loaded by now (Django, the apps, the URL and frame registries) lives
# as long as the process: moved out of the collector's sight, so that full
# collections, which a busy socket server triggers often, do not walk it each
# time. The first generation is also collected less often: every message
# allocates a few hundred short-lived objects, and each young collection is a
# pause for every socket of the process. Measured: docs/performance.md,
# "Frozen heap, rare young collections" (p99 92 -> 9 ms on SQLite).
gc.freeze()
gc.set_threshold(50_000, 50, 50)
