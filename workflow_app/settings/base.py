"""Settings shared by every mode.

Every value that differs between the embedded mode and production is read from the environment
here (documented in .env.example). The defaults give the embedded mode: SQLite in ``var/``, a
filesystem message broker, mail to the console and SMS to the log.
"""

from __future__ import annotations

import datetime
import os
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = Path(os.environ.get("VAR_DIR", BASE_DIR / "var"))


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


SECRET_KEY = os.environ.get("SECRET_KEY", "dev-insecure-key-change-me-in-production-0123456789")
DEBUG = env_bool("DEBUG", False)
# the login page lists the demo accounts (the embedded mode turns it on)
DEMO_MODE = env_bool("DEMO_MODE", False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")
# Secret used to derive lookup hashes of resident IDs; keep it stable across deployments.
IDENTIFIER_HASH_KEY = os.environ.get("IDENTIFIER_HASH_KEY", SECRET_KEY)
# "development" allows seed_demo without --force.
DEPLOYMENT_ENV = os.environ.get("DEPLOYMENT_ENV", "development")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "simple_history",
    "axes",
    "viewflow",
    "viewflow.workflow",
    "workflow_app.accounts",
    "workflow_app.registry",
    "workflow_app.workdays",
    "workflow_app.audit",
    "notifications",
    "sync",
    "objections",
    "repair",
    "commitments",
    "processes",
    "creditlists",
    "documents",
    "oversight",
]

# database sessions, their read compiled once (workflow_app/accounts/sessions.py)
SESSION_ENGINE = "workflow_app.accounts.sessions"

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "workflow_app.accounts.middleware.ChosenLanguageMiddleware",
    "workflow_app.badinput.BadInputMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "csp.middleware.CSPMiddleware",
    # last, as django-axes asks: turns a lockout into the answer of lockout_response
    "axes.middleware.AxesMiddleware",
]

# Failed logins (django-axes): after AXES_FAILURE_LIMIT failures for one account, or from one
# address, further attempts are refused until the cool-off ends — on the login page and on the
# token endpoint alike. Attempts and lockouts are listed in the admin.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_ENABLED = env_bool("AXES_ENABLED", True)
AXES_FAILURE_LIMIT = int(os.environ.get("AXES_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = datetime.timedelta(minutes=int(os.environ.get("AXES_COOLOFF_MINUTES", "15")))
AXES_LOCKOUT_PARAMETERS = ["ip_address", "username"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "workflow_app.accounts.lockout.lockout_response"
AXES_ENABLE_ACCESS_FAILURE_LOG = True
# The client address: REMOTE_ADDR unless a reverse proxy is declared. Behind one, set
# AXES_CLIENT_IP_HEADERS=HTTP_X_FORWARDED_FOR,REMOTE_ADDR and AXES_PROXY_COUNT to the number of
# proxies, or every sign-in shares the proxy's address and one attacker locks everyone out.
AXES_IPWARE_META_PRECEDENCE_ORDER = env_list("AXES_CLIENT_IP_HEADERS", "REMOTE_ADDR")
AXES_IPWARE_PROXY_COUNT = int(os.environ.get("AXES_PROXY_COUNT", "0")) or None

# Content-Security-Policy (django-csp): no inline scripts anywhere; scripts, styles, images and
# fonts from this site only (inline style attributes are allowed).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
        "base-uri": ["'self'"],
        "object-src": ["'none'"],
    }
}

ROOT_URLCONF = "workflow_app.urls"
WSGI_APPLICATION = "workflow_app.wsgi.application"

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
                "django.template.context_processors.i18n",
                "notifications.context_processors.navigation",
                "workflow_app.accounts.context_processors.admin_calendar_warning",
            ],
            # {% load i18n %}: Django's library, its {% translate "literal" %} rendered once per
            # language (workflow_app/translate_tags.py); {% url %} of literals reversed once
            # (workflow_app/url_tags.py)
            "libraries": {"i18n": "workflow_app.translate_tags"},
            "builtins": ["workflow_app.url_tags"],
        },
    },
]
# templates.W003 says a tag library label names two modules: "i18n" does on purpose (above). Any
# other label used twice fails tests/test_translate_tags.py, which runs the check itself.
SILENCED_SYSTEM_CHECKS = ["templates.W003"]

_DATABASE_URL = os.environ.get("DATABASE_URL", f"sqlite:///{VAR_DIR / 'db.sqlite3'}")
DATABASES = {
    "default": dj_database_url.parse(
        _DATABASE_URL,
        # A server database keeps each worker's connection for a minute (a new one per request
        # cost ~80 ms of a dashboard request here), checked before reuse so a restarted
        # PostgreSQL costs one failed request's retry, not a broken worker (on PostgreSQL the
        # check polls the connection's socket, no round trip: workflow_app/postgresql).
        conn_max_age=int(
            os.environ.get("DB_CONN_MAX_AGE", "0" if _DATABASE_URL.startswith("sqlite") else "60")
        ),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Parameters are bound by the server, and a statement run DB_PREPARE_THRESHOLD times on one
    # connection is prepared there: PostgreSQL then skips parsing and planning it again. The
    # ORM sends the same text for the same query shape, so a worker's hot paths (a completion,
    # a filing) are all prepared after a few requests — about a third less database time per
    # completion (bench/). Behind a pooler in transaction mode without prepared-statement support
    # (PgBouncer < 1.21), set DB_PREPARE_THRESHOLD=off. Restart the web workers after migrations
    # (as deployment does anyway): a prepared statement keeps the table shape it was planned for.
    # Server-side binding caps a statement at 65,535 parameters: the backend declares it, so
    # Django batches bulk writes and cascade deletes (workflow_app/postgresql).
    _prepare = os.environ.get("DB_PREPARE_THRESHOLD", "5").strip().lower()
    DATABASES["default"]["ENGINE"] = "workflow_app.postgresql"
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "server_side_binding": True,
            "prepare_threshold": None if _prepare in ("", "off", "none") else int(_prepare),
        }
    )
elif DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The embedded mode keeps its database (and broker) under var/; a fresh clone has none yet.
    Path(DATABASES["default"]["NAME"]).parent.mkdir(parents=True, exist_ok=True)
    # The web process, the worker and beat share one file in the embedded mode.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 30,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "home"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("简体中文")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", BASE_DIR / "staticfiles"))
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", VAR_DIR / "media"))
MEDIA_URL = "media/"

# Uploads: evidence files (PDF/JPG/PNG), checked by content.
EVIDENCE_MAX_BYTES = int(os.environ.get("EVIDENCE_MAX_BYTES", str(10 * 1024 * 1024)))
EVIDENCE_MAX_FILES = int(os.environ.get("EVIDENCE_MAX_FILES", "10"))
# Administrative area code (6 digits) that starts commitment references (GB/T 46277 practice).
CREDIT_AREA_CODE = os.environ.get("CREDIT_AREA_CODE", "440300")
DATA_UPLOAD_MAX_MEMORY_SIZE = 12 * 1024 * 1024

SIMPLE_HISTORY_REVERT_DISABLED = True
SIMPLE_HISTORY_HISTORY_CHANGE_REASON_USE_TEXT_FIELD = True

REST_FRAMEWORK = {
    # Token first: an anonymous API call is answered 401 with WWW-Authenticate, not 403.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "workflow_app.accounts.authentication.CompiledTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PARSER_CLASSES": [
        "workflow_app.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "workflow_app.api.exception_handler",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.LimitOffsetPagination",
    "PAGE_SIZE": 50,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Credit Workflow API",
    "DESCRIPTION": "Objections, credit repair and credit commitments of a public credit platform.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Swagger UI assets are served from this installation (no CDN: government networks are closed).
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # several models have a "status" field; name each choice set after its model
    "ENUM_NAME_OVERRIDES": {"ListEntryStatusEnum": "creditlists.models.EntryStatus"},
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "workflow_app.schema.add_error_responses",
    ],
}

# E-mail and SMS.
EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "credit-workflow@localhost")
SMS_BACKEND = os.environ.get("SMS_BACKEND", "notifications.sms.LogSmsBackend")
SITE_URL = os.environ.get("SITE_URL", "http://127.0.0.1:8000")

# Celery: the embedded mode uses a filesystem broker in var/broker.
BROKER_DIR = VAR_DIR / "broker"
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "filesystem://")
# A broker that stops answering must not hold a request: every socket operation is bounded, a
# failed publish is not retried, and the process then leaves publishing to the sweeps for
# BROKER_PAUSE_SECONDS (workflow_app/publish.py).
BROKER_TIMEOUT_SECONDS = float(os.environ.get("BROKER_TIMEOUT_SECONDS", "3"))
BROKER_PAUSE_SECONDS = float(os.environ.get("BROKER_PAUSE_SECONDS", "30"))


def broker_transport_options(url: str) -> dict[str, object]:
    if url.startswith("filesystem"):
        return {
            "data_folder_in": str(BROKER_DIR),
            "data_folder_out": str(BROKER_DIR),
            "processed_folder": str(BROKER_DIR / "processed"),
            "control_folder": str(BROKER_DIR / "control"),
            "store_processed": False,
        }
    if url.startswith(("redis", "rediss", "sentinel")):
        return {
            "max_retries": 0,  # connecting to publish: one attempt (Celery's workers reconnect
            # with their own CELERY_BROKER_CONNECTION_MAX_RETRIES)
            "socket_timeout": BROKER_TIMEOUT_SECONDS,
            "socket_connect_timeout": BROKER_TIMEOUT_SECONDS,
            "socket_keepalive": True,
        }
    # RabbitMQ: one attempt to connect, bounded by CELERY_BROKER_CONNECTION_TIMEOUT
    return {"max_retries": 0}


CELERY_BROKER_TRANSPORT_OPTIONS = broker_transport_options(CELERY_BROKER_URL)
CELERY_BROKER_CONNECTION_TIMEOUT = BROKER_TIMEOUT_SECONDS
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
CELERY_BEAT_SCHEDULE = {
    "run-sweeps": {
        "task": "processes.tasks.run_sweeps_task",
        "schedule": float(os.environ.get("SWEEP_INTERVAL_SECONDS", "60")),
    },
    # 双随机: a monthly draw over every department, 02:00 on the 1st (Asia/Shanghai)
    # the dashboard's rollups: every ten minutes (the day going on, in slices; a day is summed
    # again whole once it has ended)
    "dashboard-rollup": {
        "task": "oversight.tasks.rollup_dashboard_task",
        "schedule": crontab(minute="*/10"),
    },
    "monthly-random-check": {
        "task": "processes.tasks.monthly_random_check_task",
        "schedule": crontab(minute=0, hour=2, day_of_month=1),
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
