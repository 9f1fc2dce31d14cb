import os

from config.settings.base import *  # noqa: F403
from config.settings.base import CHANNEL_LAYERS, DATABASES, SQLITE_ENGINE, VAR_DIR

DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
PRIVATE_MEDIA_ROOT = VAR_DIR / "test-private" / str(os.getpid())
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Test databases get fixed names so processes started by the tests (daphne,
# celery) find the same database as the test process.
# SWITCHBOARD_TEST_DB_TAG keeps two suites running side by side apart.
_tag = os.environ.get("SWITCHBOARD_TEST_DB_TAG", "")
if DATABASES["default"]["ENGINE"] == SQLITE_ENGINE:
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / f"test-db{_tag}.sqlite3")}
else:
    DATABASES["default"]["TEST"] = {"NAME": f"test_switchboard{_tag}"}
    # On PostgreSQL chat sends run in asgiref's thread pool (chat/send_runner.py);
    # a connection kept open there would outlive the tests and stop the test
    # database from being dropped. Closed after every call instead.
    DATABASES["default"]["CONN_MAX_AGE"] = 0

# Unit tests run Celery tasks inline; tests that start a real worker set
# SWITCHBOARD_CELERY_EAGER=0 for the processes they spawn.
CELERY_TASK_ALWAYS_EAGER = os.environ.get("SWITCHBOARD_CELERY_EAGER", "1") == "1"
CELERY_TASK_EAGER_PROPAGATES = True
WHITENOISE_AUTOREFRESH = True

# Suites sharing one Redis (two checkouts, or CI's two passes) must not hear
# each other's group events.
CHANNEL_LAYERS["default"]["CONFIG"]["prefix"] = f"test{_tag}:"
