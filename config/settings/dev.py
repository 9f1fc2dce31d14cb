from config.settings.base import *  # noqa: F403
from config.settings.base import VAR_DIR
from config.settings.environment import FILE_EMAIL_BACKEND, env, env_bool

DEBUG = env_bool("DEBUG", True)

# Unless EMAIL_URL says otherwise, development mail goes to files under
# var/mail/ with one log line each (config/email_files.py): printed, every
# email came out of the Celery worker as dozens of lines tagged WARNING.
if not env.str("EMAIL_URL", default=""):
    EMAIL_BACKEND = FILE_EMAIL_BACKEND
    EMAIL_FILE_PATH = str(VAR_DIR / "mail")
