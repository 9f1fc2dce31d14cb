"""Settings of the processes the integration tests start (daphne, celery).

The test settings, pointed at the test database the pytest process created;
its name (a file for SQLite, the fixed test database name on PostgreSQL)
comes in SWITCHBOARD_IT_DB_NAME.
"""

import os

from config.settings.test import *  # noqa: F403
from config.settings.test import DATABASES

DATABASES["default"]["NAME"] = os.environ["SWITCHBOARD_IT_DB_NAME"]

# Test settings send mail to locmem, which the test process cannot read in a
# worker. A test that counts the mail the worker sends passes a backend URL,
# e.g. filemail:////tmp/dir (django-environ: four slashes = absolute path).
if os.environ.get("SWITCHBOARD_IT_EMAIL_URL"):
    from config.settings.base import env

    vars().update(env.email_url("SWITCHBOARD_IT_EMAIL_URL"))

# A stack started with SWITCHBOARD_IT_GATE_DIR holds the task named in
# SWITCHBOARD_IT_GATE_TASK at a gate the test opens (tests/integration/gate.py).
if os.environ.get("SWITCHBOARD_IT_GATE_DIR"):
    from pathlib import Path

    from tests.integration import gate

    gate.install(
        Path(os.environ["SWITCHBOARD_IT_GATE_DIR"]), os.environ["SWITCHBOARD_IT_GATE_TASK"]
    )
