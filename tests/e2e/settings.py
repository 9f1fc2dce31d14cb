"""Settings of the daphne that the browser tests start (tests/e2e/conftest.py).

The test settings, pointed at the test database the pytest process created (its
name comes in SWITCHBOARD_E2E_DB_NAME), serving CSS/JS straight from the
apps' static folders, so the tests need no collectstatic, and writing the mail
it sends to files in SWITCHBOARD_E2E_MAIL_DIR, where the tests read it
(tests/e2e/helpers.py, `sent_mail`).
"""

import os

from config.settings.test import *  # noqa: F403
from config.settings.test import DATABASES

DATABASES["default"]["NAME"] = os.environ["SWITCHBOARD_E2E_DB_NAME"]
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
EMAIL_FILE_PATH = os.environ["SWITCHBOARD_E2E_MAIL_DIR"]
