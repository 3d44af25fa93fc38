"""Embedded / development mode.

``make run`` serves with ``DEBUG`` off so people meet the project's own 404/403/500 pages, never
Django's technical page; WhiteNoise serves static files straight from the app folders. Set
``DEBUG=1`` for tracebacks while developing.
"""

from .base import *  # noqa: F403
from .base import env_bool

DEBUG = env_bool("DEBUG", False)
DEMO_MODE = env_bool("DEMO_MODE", True)  # the login page lists the demo accounts
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
