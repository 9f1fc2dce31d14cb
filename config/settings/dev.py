from config.settings.base import *  # noqa: F403
from config.settings.base import _bool

DEBUG = _bool("DEBUG", True)
