"""Settings shared by every environment. Everything that differs between
machines is read from the environment; a bad value stops start-up with a
message that names the variable."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import phonenumbers
from django.core.exceptions import ImproperlyConfigured

from config.redis_urls import (
    RedisUrlError,
    celery_broker_url,
    channels_hosts,
    validate_redis_url,
)
from config.settings.environment import (
    env,
    env_all_or_none,
    env_bool,
    env_email,
    env_int,
    env_seconds,
)

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = BASE_DIR / "var"

DEBUG = env_bool("DEBUG", False)
SECRET_KEY = env.str("SECRET_KEY", default="insecure-dev-key-change-me")
DEFAULT_SECRET_KEY = "insecure-dev-key-change-me"
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "channels",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "axes",
    "accounts",
    "tickets",
    "officehours",
    "realtime",
    "presence",
    "chat",
    # The project itself, as an app for its management command (seed_demo,
    # which seeds every app's demo rows).
    "config",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Every page in the reader's time zone (User.time_zone, else TIME_ZONE).
    "accounts.middleware.TimeZoneMiddleware",
    # The sb_first_visit and sb_landing cookies of portal pages, read when a
    # client asks to chat (visitor info, chat/visitors/).
    "chat.visitors.middleware.VisitorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"
ASGI_APPLICATION = "config.asgi.application"
WSGI_APPLICATION = None

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database -----------------------------------------------------------------
SQLITE_ENGINE = "config.db.sqlite3"
# An empty DATABASE_URL counts as unset (production.py refuses that).
_database_url = (
    env.str("DATABASE_URL", default="") or f"sqlite:///{VAR_DIR / 'switchboard.sqlite3'}"
)
try:
    DATABASES = {"default": env.db_url_config(_database_url)}
except (ImproperlyConfigured, ValueError, KeyError) as exc:
    raise ImproperlyConfigured(f"DATABASE_URL is not a valid database URL: {exc}") from exc
# The message names the scheme only: the URL may carry a password.
if DATABASES["default"].get("ENGINE") not in {
    "django.db.backends.sqlite3",
    "django.db.backends.postgresql",
}:
    raise ImproperlyConfigured(
        "DATABASE_URL must be a postgres:// or sqlite:/// URL "
        f"(got scheme {_database_url.partition(':')[0]!r})"
    )
if not DATABASES["default"].get("NAME"):
    raise ImproperlyConfigured("DATABASE_URL names no database (e.g. postgres://user@host/name)")
# How often a thread of each daphne process copies SQLite's WAL back into the
# database file, so that no commit has to (config/db/sqlite3/checkpoint.py);
# 0 leaves it to the commits, as plain SQLite does. Not used on PostgreSQL.
SQLITE_CHECKPOINT_SECONDS = env_seconds("SWITCHBOARD_SQLITE_CHECKPOINT_SECONDS", 0.2, least=0.01)
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Django's backend with writers that queue on a lock file instead of
    # sleeping in SQLite's busy handler (config/db/sqlite3/base.py).
    DATABASES["default"]["ENGINE"] = SQLITE_ENGINE
    # WAL + a busy timeout let daphne, the worker and beat share one file.
    # synchronous=NORMAL: in WAL mode a commit then skips its fsync (still safe
    # when a process crashes; the last commits can be lost on power loss).
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "timeout": 20,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL;PRAGMA synchronous=NORMAL;",
        }
    )
    # Keep each thread's connection open: opening the file per request and
    # closing it again (which checkpoints the WAL, an fsync) cost ~4 ms per ORM
    # call in daphne's database thread (docs/performance.md,
    # "SQLite connections kept open").
    DATABASES["default"].setdefault("CONN_MAX_AGE", None)
else:
    DATABASES["default"].setdefault("CONN_MAX_AGE", 60)
    DATABASES["default"].setdefault("CONN_HEALTH_CHECKS", True)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis: channel layer and Celery -------------------------------------------
# Unset means "the private Redis that `make run` / the test suite starts on a
# unix socket under var/" (see config/embedded_redis.py).
EMBEDDED_REDIS_SOCKET = VAR_DIR / "redis.sock"
REDIS_URL = env.str("REDIS_URL", default="") or f"unix://{EMBEDDED_REDIS_SOCKET}"
try:
    validate_redis_url(REDIS_URL)
except RedisUrlError as exc:
    raise ImproperlyConfigured(str(exc)) from exc

CHANNEL_LAYERS = {
    "default": {
        # channels_redis' core layer, read by one task per process (see there).
        "BACKEND": "realtime.layer.SwitchboardChannelLayer",
        "CONFIG": {"hosts": channels_hosts(REDIS_URL), "capacity": 1500, "expiry": 30},
    }
}

CELERY_BROKER_URL = celery_broker_url(REDIS_URL, db_offset=1)
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TIMEZONE = "UTC"

# A task whose worker dies is run again (docs/architecture.md, "Tasks"). ACKS_LATE
# leaves its message unacknowledged until the task returns, REJECT_ON_WORKER_LOST
# hands it back when a pool process dies; when the whole worker dies (kill -9, an
# OOM kill, a lost host) the message stays in the broker's unacked set until some
# worker finds it older than the visibility timeout and queues it again: with
# kombu's defaults (an hour, looked for about every 100 s) an hour later.
#
# The longest a task runs: past the soft limit it gets SoftTimeLimitExceeded (its
# transaction rolls back; the transcript tasks retry), 2 s later the pool kills it.
# Enforced by the prefork pool (the Procfile's worker), not by --pool solo.
TASK_TIME_LIMIT_SECONDS = env_int("SWITCHBOARD_TASK_TIME_LIMIT_SECONDS", 10, minimum=1)
TASK_KILL_GRACE_SECONDS = 2
# The longest wait before a retry: chat/tasks.py's backoff caps at it. The worker
# holds a retry's message, unacknowledged, while it waits.
TASK_RETRY_WAIT_MAX_SECONDS = 16
# A message taken by a worker and not acknowledged for this long is handed out
# again. Longer delays the rerun after a crash; shorter than a live worker can
# hold a message (its retry wait, a wait for a free pool process, its own run)
# runs a task twice at once, which the tasks survive (they are idempotent) but
# must not be the rule, so start-up refuses it.
TASK_VISIBILITY_TIMEOUT_SECONDS = env_int(
    "SWITCHBOARD_TASK_VISIBILITY_TIMEOUT_SECONDS", 45, minimum=1
)
# How often each worker looks for such messages (a Redis lock and one ZRANGE).
TASK_RESTORE_CHECK_SECONDS = env_int("SWITCHBOARD_TASK_RESTORE_CHECK_SECONDS", 5, minimum=1)
# The longest a live worker holds one message: a retry's wait, then up to one time
# limit for a free pool process and one for the run.
TASK_LONGEST_HOLD_SECONDS = TASK_RETRY_WAIT_MAX_SECONDS + 2 * (
    TASK_TIME_LIMIT_SECONDS + TASK_KILL_GRACE_SECONDS
)
if TASK_VISIBILITY_TIMEOUT_SECONDS <= TASK_LONGEST_HOLD_SECONDS:
    raise ImproperlyConfigured(
        "SWITCHBOARD_TASK_VISIBILITY_TIMEOUT_SECONDS must be more than "
        f"{TASK_LONGEST_HOLD_SECONDS} (got {TASK_VISIBILITY_TIMEOUT_SECONDS}): a worker may "
        f"hold a task's message that long: {TASK_RETRY_WAIT_MAX_SECONDS} s of retry wait, "
        "then twice the time limit (SWITCHBOARD_TASK_TIME_LIMIT_SECONDS + "
        f"{TASK_KILL_GRACE_SECONDS} s), waiting for a pool process and running"
    )
CELERY_TASK_SOFT_TIME_LIMIT = TASK_TIME_LIMIT_SECONDS
CELERY_TASK_TIME_LIMIT = TASK_TIME_LIMIT_SECONDS + TASK_KILL_GRACE_SECONDS
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": TASK_VISIBILITY_TIMEOUT_SECONDS,
    # Every check scans (kombu's throttle would scan on every 10th only).
    "unacked_restore_interval": TASK_RESTORE_CHECK_SECONDS,
    "unacked_restore_throttle": 1,
    # The scan's lock: a scan takes milliseconds, and a worker killed while it
    # holds the lock must not stop every other worker's scans for kombu's 5 min.
    "unacked_mutex_expire": 10,
}
# The broker connection lost for a moment: the tasks running then finish (their
# effect commits once) rather than being killed halfway, e.g. between sending an
# email and committing its stamp. Their messages, left unacknowledged, may be
# handed out again; the second run finds the work done.
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = False

# --- Auth -----------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/accounts/login/"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]

# Login throttling (django-axes, accounts/login_throttle.py): this many failed
# log-ins for one email, or from one address, lock logging in that way for the
# cool-off; every try meanwhile is refused, the right password included.
LOGIN_FAILURE_LIMIT = env_int("SWITCHBOARD_LOGIN_FAILURE_LIMIT", 5, minimum=1)
LOGIN_COOLOFF_SECONDS = env_int("SWITCHBOARD_LOGIN_COOLOFF_SECONDS", 15 * 60, minimum=1)
AUTHENTICATION_BACKENDS = [
    # Refuses a locked log-in before ModelBackend checks the password.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = LOGIN_FAILURE_LIMIT
AXES_COOLOFF_TIME = timedelta(seconds=LOGIN_COOLOFF_SECONDS)
# Each alone: the account from any address, the address for any account.
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
# The login forms post the email as "username" (Django's AuthenticationForm).
AXES_USERNAME_FORM_FIELD = "username"
AXES_USERNAME_CALLABLE = "accounts.login_throttle.attempted_email"
# The address behind SWITCHBOARD_TRUSTED_PROXY_COUNT proxies, as for sockets.
AXES_CLIENT_IP_CALLABLE = "realtime.client_ip.client_ip_from_request"
AXES_HANDLER = "accounts.login_throttle.LoginThrottleHandler"
AXES_RESET_ON_SUCCESS = True
# A try while locked neither counts nor restarts the cool-off: the lock ends
# when the page said it would.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
# No row per successful log-in (axes' access log): only failures are kept.
AXES_DISABLE_ACCESS_LOG = True
# Its start-up banner ("AXES: BEGIN ...") on every process start is noise.
AXES_VERBOSE = False
# accounts/admin.py registers axes' admin of the access attempts only.
AXES_ENABLE_ADMIN = False
SILENCED_SYSTEM_CHECKS = [
    # axes' middleware is left out on purpose: it would swap the login page
    # for its own text (and its async path passes a lock-out callable the
    # wrong arguments); the login forms show the lock-out (accounts/forms.py).
    "axes.W002",
]

# --- I18N -----------------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True
# The product's one date and time format (config/formats/en/formats.py).
FORMAT_MODULE_PATH = ["config.formats"]

# --- Files ----------------------------------------------------------------------
STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "var" / "staticfiles"
# Serve app static files straight from the source dirs until collectstatic has
# run (dev and tests); production serves the collected, hashed copies.
WHITENOISE_AUTOREFRESH = DEBUG
# Uploaded files are private: never under STATIC/MEDIA URLs, only served by
# views that check access (tickets.views_files).
PRIVATE_MEDIA_ROOT = Path(env.str("PRIVATE_MEDIA_ROOT", default=str(VAR_DIR / "private")))
ATTACHMENT_MAX_BYTES = env_int("SWITCHBOARD_ATTACHMENT_MAX_BYTES", 10 * 1024 * 1024, minimum=1)
ATTACHMENT_ALLOWED_EXTENSIONS = env.list(
    "SWITCHBOARD_ATTACHMENT_EXTENSIONS",
    default=[
        "png",
        "jpg",
        "jpeg",
        "gif",
        "webp",
        "pdf",
        "txt",
        "log",
        "csv",
        "doc",
        "docx",
        "xls",
        "xlsx",
        "ppt",
        "pptx",
        "zip",
        "json",
        "xml",
    ],
)
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024

# --- Email ----------------------------------------------------------------------
# Unset: printed to stdout; the dev settings write files under var/mail/ instead.
vars().update(env_email("EMAIL_URL", default="consolemail://"))
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Switchboard <support@example.com>")

# --- REST API -------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "EXCEPTION_HANDLER": "config.api.exception_handler",
    "PAGE_SIZE": 50,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Switchboard API",
    "DESCRIPTION": "Tickets, notes and live chat of the Switchboard helpdesk.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    # Swagger UI and Redoc from the sidecar package: the docs page works offline.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Two models have a "status" field; name their enums apart.
    "ENUM_NAME_OVERRIDES": {
        "TicketStatusEnum": "tickets.models.TicketStatus",
        "ChatSessionStatusEnum": "chat.models.SessionStatus",
    },
}

# --- Switchboard product settings -------------------------------------------------
# Presence: how long an "available" agent with no open console socket still
# counts as available (a page reload must not flap the status).
PRESENCE_GRACE_SECONDS = env_int("SWITCHBOARD_PRESENCE_GRACE_SECONDS", 60, minimum=1)
# A socket that stopped heartbeating (its daphne died) is dropped after this.
PRESENCE_HEARTBEAT_SECONDS = env_int("SWITCHBOARD_PRESENCE_HEARTBEAT_SECONDS", 20, minimum=1)
PRESENCE_STALE_SECONDS = env_int("SWITCHBOARD_PRESENCE_STALE_SECONDS", 90, minimum=1)
SWEEP_SECONDS = env_int("SWITCHBOARD_SWEEP_SECONDS", 2, minimum=1)
# The requeue sweeps' own clock (chat.requeue): a row is due a minute after it
# was made and then every five, so this need not be SWEEP_SECONDS.
REQUEUE_SWEEP_SECONDS = env_int("SWITCHBOARD_REQUEUE_SWEEP_SECONDS", 30, minimum=1)

# Websocket frames
WS_MAX_FRAME_BYTES = env_int("SWITCHBOARD_WS_MAX_FRAME_BYTES", 64 * 1024, minimum=1024)
WS_RATE_LIMIT_FRAMES = env_int("SWITCHBOARD_WS_RATE_LIMIT_FRAMES", 30, minimum=1)
WS_RATE_LIMIT_WINDOW_SECONDS = env_int("SWITCHBOARD_WS_RATE_LIMIT_WINDOW_SECONDS", 5, minimum=1)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        "daphne": {"level": "WARNING"},
        "django.channels.server": {"level": "WARNING"},
        # Only the root handler writes: Django's own console handler (on with
        # DEBUG) printed every django.* line a second time.
        "django": {"handlers": [], "level": "INFO"},
        # One line per email written to a file (config/email_files.py), also in a
        # worker started with --loglevel WARNING (make run).
        "config.email_files": {"level": "INFO"},
    },
}

# Chat
CHAT_MESSAGE_MAX_CHARS = env_int("SWITCHBOARD_CHAT_MESSAGE_MAX_CHARS", 10_000, minimum=1)
# How many missed messages one replay frame carries; more makes the browser page.
CHAT_REPLAY_LIMIT = env_int("SWITCHBOARD_CHAT_REPLAY_LIMIT", 200, minimum=10)
# Live chats one agent may be in at once; joining (or taking a transfer) past
# it is refused.
MAX_CHATS_PER_AGENT = env_int("SWITCHBOARD_MAX_CHATS_PER_AGENT", 5, minimum=1)
# How long a block from the console lasts (the beat sweep ends it).
CHAT_BLOCK_SECONDS = env_int("SWITCHBOARD_CHAT_BLOCK_SECONDS", 24 * 3600, minimum=60)
# Reverse proxies in front of daphne that append to X-Forwarded-For. 0: the
# header is ignored and the socket's peer address is the client's IP; N: the
# Nth address from the right of the header is (what the outermost trusted
# proxy saw), so a client cannot choose its own address by sending the header.
TRUSTED_PROXY_COUNT = env_int("SWITCHBOARD_TRUSTED_PROXY_COUNT", 0, minimum=0)
# How long the first-visit cookie (sb_first_visit: when and where this browser
# first opened the portal; visitor info) lives. 400 days is what browsers allow.
VISITOR_COOKIE_DAYS = env_int("SWITCHBOARD_VISITOR_COOKIE_DAYS", 400, minimum=1)

# Chat timers (chat/timers.py): the beat sweep runs every SWEEP_SECONDS.
QUEUE_WARNING_SECONDS = env_int("SWITCHBOARD_QUEUE_WARNING_SECONDS", 30, minimum=1)
NO_ANSWER_SECONDS = env_int("SWITCHBOARD_NO_ANSWER_SECONDS", 60, minimum=1)
INACTIVITY_SECONDS = env_int("SWITCHBOARD_INACTIVITY_SECONDS", 3600, minimum=1)
# Message customer by email (chat/reach_out/emails.py): what the agents write
# after the first message, before the client joins, is emailed in one batch
# this long after the oldest of it.
REACH_OUT_EMAIL_BATCH_SECONDS = env_int("SWITCHBOARD_REACH_OUT_EMAIL_BATCH_SECONDS", 60, minimum=1)
# Phone numbers without a country code are read as numbers of this region. An
# unknown one would make every such number "not a phone number", so it stops start-up.
PHONE_DEFAULT_REGION = env.str("SWITCHBOARD_PHONE_REGION", default="GB").strip().upper()
if PHONE_DEFAULT_REGION not in phonenumbers.SUPPORTED_REGIONS:
    raise ImproperlyConfigured(
        "SWITCHBOARD_PHONE_REGION must be a two-letter region code such as GB or US "
        f"(got {env.str('SWITCHBOARD_PHONE_REGION')!r})"
    )

# --- SMS and WhatsApp (chat/channels/) -------------------------------------------
# A channel is on when all of its credentials are set and off when none are;
# some but not all stop start-up (env_all_or_none names the missing ones).
# Its webhooks answer 404 while it is off.
# The address the providers reach this server at: Twilio signs its webhooks
# over it, and status callbacks are sent to it.
PUBLIC_URL = env.str("SWITCHBOARD_PUBLIC_URL", default="").strip().rstrip("/")
_twilio = env_all_or_none(
    [
        "SWITCHBOARD_TWILIO_ACCOUNT_SID",
        "SWITCHBOARD_TWILIO_AUTH_TOKEN",
        "SWITCHBOARD_TWILIO_SMS_FROM",
    ],
    what="SMS (Twilio)",
)
TWILIO_ACCOUNT_SID = _twilio["SWITCHBOARD_TWILIO_ACCOUNT_SID"]
TWILIO_AUTH_TOKEN = _twilio["SWITCHBOARD_TWILIO_AUTH_TOKEN"]
TWILIO_SMS_FROM = _twilio["SWITCHBOARD_TWILIO_SMS_FROM"]
TWILIO_API_BASE = env.str("SWITCHBOARD_TWILIO_API_BASE", default="https://api.twilio.com")
TWILIO_API_BASE = TWILIO_API_BASE.strip().rstrip("/")
if TWILIO_ACCOUNT_SID and not PUBLIC_URL:
    raise ImproperlyConfigured(
        "SMS (Twilio) needs SWITCHBOARD_PUBLIC_URL (e.g. https://help.example.com): "
        "Twilio signs its webhooks over it and sends delivery reports to it"
    )
_whatsapp = env_all_or_none(
    [
        "SWITCHBOARD_WHATSAPP_TOKEN",
        "SWITCHBOARD_WHATSAPP_PHONE_NUMBER_ID",
        "SWITCHBOARD_WHATSAPP_APP_SECRET",
        "SWITCHBOARD_WHATSAPP_VERIFY_TOKEN",
    ],
    what="WhatsApp (Cloud API)",
)
WHATSAPP_TOKEN = _whatsapp["SWITCHBOARD_WHATSAPP_TOKEN"]
WHATSAPP_PHONE_NUMBER_ID = _whatsapp["SWITCHBOARD_WHATSAPP_PHONE_NUMBER_ID"]
WHATSAPP_APP_SECRET = _whatsapp["SWITCHBOARD_WHATSAPP_APP_SECRET"]
WHATSAPP_VERIFY_TOKEN = _whatsapp["SWITCHBOARD_WHATSAPP_VERIFY_TOKEN"]
WHATSAPP_API_BASE = env.str(
    "SWITCHBOARD_WHATSAPP_API_BASE", default="https://graph.facebook.com/v21.0"
)
WHATSAPP_API_BASE = WHATSAPP_API_BASE.strip().rstrip("/")
# Free text on WhatsApp only this long after the client's last message (the
# 24-hour window, chat/whatsapp_window.py); after it, approved templates only.
WHATSAPP_WINDOW_SECONDS = env_int("SWITCHBOARD_WHATSAPP_WINDOW_SECONDS", 86400, minimum=60)
