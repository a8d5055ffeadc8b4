"""Agora settings.

Everything comes from environment variables with safe embedded defaults:
SQLite + the in-memory channel layer, one daphne process. ``DATABASE_URL`` switches
to PostgreSQL and ``REDIS_URL`` to the Redis channel layer (see docs/deployment.md).
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def _env_bool(name: str, default: bool) -> bool:
    return os.environ.get(name, str(default)).strip().lower() in {"1", "true", "yes", "on"}


def _env_list(name: str, default: str) -> list[str]:
    return [part.strip() for part in os.environ.get(name, default).split(",") if part.strip()]


# Production mode (AGORA_PRODUCTION=1): secrets and hosts must come from the environment and
# `manage.py check --deploy --fail-level WARNING` passes (docs/deployment.md).
PRODUCTION = _env_bool("AGORA_PRODUCTION", False)
EMBEDDED_SECRET_KEY = "agora-embedded-insecure-key-change-me-in-production-0123456789abcdef"
DEBUG = _env_bool("AGORA_DEBUG", False) and not PRODUCTION
SECRET_KEY = os.environ.get("AGORA_SECRET_KEY", "" if PRODUCTION else EMBEDDED_SECRET_KEY)
ALLOWED_HOSTS = _env_list("AGORA_ALLOWED_HOSTS", "" if PRODUCTION else "127.0.0.1,localhost,[::1],testserver")
CSRF_TRUSTED_ORIGINS = _env_list("AGORA_CSRF_TRUSTED_ORIGINS", "")
if PRODUCTION:
    if len(SECRET_KEY) < 50 or SECRET_KEY == EMBEDDED_SECRET_KEY:
        raise ImproperlyConfigured("AGORA_PRODUCTION=1 needs AGORA_SECRET_KEY: a random string of 50+ characters.")
    if not ALLOWED_HOSTS or "*" in ALLOWED_HOSTS:
        raise ImproperlyConfigured("AGORA_PRODUCTION=1 needs AGORA_ALLOWED_HOSTS: the site's host names, never '*'.")
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    LANGUAGE_COOKIE_SECURE = True  # the elder-mode cookie follows it (agora/roster/preferences.py)
    SECURE_SSL_REDIRECT = _env_bool("AGORA_SSL_REDIRECT", True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = 60 * 60 * 24 * 365
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True  # the token reaches htmx through the page, never through the cookie
CSRF_COOKIE_SAMESITE = "Lax"
LANGUAGE_COOKIE_SAMESITE = "Lax"
LANGUAGE_COOKIE_HTTPONLY = True
# A refused form (expired or missing CSRF token) gets the friendly 403 page (agora/views.py).
CSRF_FAILURE_VIEW = "agora.views.csrf_failure"
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"

# Content Security Policy: no inline script anywhere; htmx runs with allowEval off.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "connect-src": [SELF, "ws:", "wss:"] if not PRODUCTION else [SELF, "wss:"],
        "font-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "channels",
    "django_htmx",
    "axes",
    "agora.apps.AgoraProjectConfig",
    "agora.roster.apps.AgoraConfig",
    "sessions.apps.TopicSessionsConfig",
    "voting.apps.VotingConfig",
    "records.apps.MinutesConfig",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Text responses gzipped (agora/infra/compression.py: BREACH and why it is safe here).
    "agora.infra.compression.TextGZipMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "csp.middleware.CSPMiddleware",
    "agora.roster.middleware.DisplayPreferencesMiddleware",
    # A view's NotAllowed → the 403 page with its sentence (agora/infra/refusals.py).
    "agora.infra.refusals.NotAllowedMiddleware",
    # Last, as django-axes asks: it turns a lockout into the "locked" page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "agora.urls"
ASGI_APPLICATION = "agora.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "agora.roster.context_processors.display_preferences",
                "voting.decisions.pages.context_processors.decision_reminders",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------
# SQLite is a real default, so it is set up for concurrent writers: WAL lets readers
# run beside one writer, IMMEDIATE transactions take the write lock at BEGIN (no
# "database is locked" on lock upgrade), and busy_timeout makes writers queue.
SQLITE_PATH = Path(os.environ.get("AGORA_SQLITE_PATH", BASE_DIR / "agora.sqlite3"))
if os.environ.get("DATABASE_URL"):
    # A bounded pool per process (psycopg's, through Django): a thread borrows a connection for
    # one request or one database_sync_to_async call and gives it back at the end. Persistent
    # connections (CONN_MAX_AGE) suit threads that live long, not daphne's thread pools: every
    # new worker thread kept its own, and 40 page loads left 52 open. Ceiling and sizing:
    # docs/deployment.md, "Database connections"; why a pool: docs/decisions.md.
    DATABASE_POOL = _env_bool("AGORA_DB_POOL", True)
    # "query": with the pool, psycopg's check (an empty query) at every lend, for comparison.
    _query_checks = os.environ.get("AGORA_DB_HEALTH_CHECKS", "").strip().lower() == "query"
    _health_checks = _query_checks or _env_bool("AGORA_DB_HEALTH_CHECKS", True)
    DATABASES = {
        "default": dj_database_url.parse(
            os.environ["DATABASE_URL"],
            conn_max_age=0 if DATABASE_POOL else int(os.environ.get("AGORA_DB_CONN_MAX_AGE", "0")),
            # With the pool the backend below checks each lend; psycopg's own check costs a round
            # trip every time.
            conn_health_checks=_health_checks and (_query_checks or not DATABASE_POOL),
        )
    }
    if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
        # Names this process's connections in pg_stat_activity.
        DATABASES["default"].setdefault("OPTIONS", {})["application_name"] = os.environ.get("AGORA_DB_APPLICATION_NAME", "agora")
        if DATABASE_POOL:
            # The ceiling: this process never holds more connections than this.
            _pool_max = int(os.environ.get("AGORA_DB_POOL_MAX_SIZE", "10"))
            # Kept open when idle; the pool grows to the ceiling under load.
            _pool_min = int(os.environ.get("AGORA_DB_POOL_MIN_SIZE", "2"))
            DATABASES["default"]["OPTIONS"]["pool"] = {
                "min_size": min(_pool_min, _pool_max),
                "max_size": _pool_max,
                # A connection above min_size unused for this long is closed (one per period).
                "max_idle": float(os.environ.get("AGORA_DB_POOL_MAX_IDLE", "60")),
                # How long a thread waits for a free connection before its request fails.
                "timeout": float(os.environ.get("AGORA_DB_POOL_TIMEOUT", "10")),
            }
            if _health_checks and not _query_checks:
                # Django's backend; a connection lent again within a second is checked by a poll of
                # its socket, not by a query (docs/decisions.md, "A connection pool").
                DATABASES["default"]["ENGINE"] = "agora.infra.postgresql"
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(SQLITE_PATH),
            "OPTIONS": {
                "transaction_mode": "IMMEDIATE",
                "timeout": 30,
                "init_command": ("PRAGMA journal_mode=WAL;PRAGMA synchronous=NORMAL;PRAGMA busy_timeout=30000;PRAGMA foreign_keys=ON;"),
            },
            # A file, not memory: browser and multi-process tests run a real daphne on it.
            "TEST": {"NAME": os.environ.get("AGORA_SQLITE_TEST_PATH", str(BASE_DIR / "test-agora.sqlite3"))},
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Channel layer --------------------------------------------------------------------
# In-memory for the single embedded process; Redis when several daphne processes must
# share groups (docs/decisions.md explains the choice and the capacity settings).
REDIS_URL = os.environ.get("REDIS_URL", "")
# Redis pub/sub by default (AGORA_CHANNEL_LAYER=core for the list-based layer); see
# docs/decisions.md "Channel layer" for why, and for capacity and group expiry.
if REDIS_URL and os.environ.get("AGORA_CHANNEL_LAYER", "pubsub") == "core":
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {
                "hosts": [REDIS_URL],
                "prefix": os.environ.get("AGORA_REDIS_PREFIX", "agora"),
                "capacity": 1000,
                "expiry": 60,
                "group_expiry": 86400,
            },
        }
    }
elif REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
            "CONFIG": {"hosts": [REDIS_URL], "prefix": os.environ.get("AGORA_REDIS_PREFIX", "agora")},
        }
    }
else:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels.layers.InMemoryChannelLayer",
            "CONFIG": {"capacity": 1000, "expiry": 60, "group_expiry": 86400},
        }
    }

# --- Caches ---------------------------------------------------------------------------
# "limits" counts abuse that spans requests (join-code guesses, sessions/meeting/guesses.py):
# in Redis when there is one, so every process counts together, with short timeouts so a
# frozen Redis costs a page a quarter of a second, not a minute (the count is then skipped).
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "agora-default"},
    "limits": (
        {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": os.environ.get("AGORA_REDIS_PREFIX", "agora") + ":limits",
            "OPTIONS": {"socket_timeout": 0.25, "socket_connect_timeout": 0.25},
        }
        if REDIS_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "agora-limits"}
    ),
}

# --- Auth -----------------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
if os.environ.get("AGORA_PASSWORD_HASHERS") == "md5":
    # Tests only (tests/conftest.py and the daphne servers they start): hashing speed.
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
AUTHENTICATION_BACKENDS = [
    # Password spraying first: an address from which many accounts failed is paused
    # (agora/roster/accounts.py); the accounts are not locked (docs/security.md).
    "agora.roster.accounts.AddressLimitBackend",
    # Brute-force protection: locks on username + IP together, so nobody can lock a
    # resident out from elsewhere.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = timedelta(minutes=15)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_CLIENT_IP_CALLABLE = "agora.roster.accounts.client_ip"
# Per address: this many different usernames failing from one address within AXES_COOLOFF_TIME
# pause that address's new attempts (spraying); a hall's shared Wi-Fi rarely gets near it, since a
# resident who logs in after a typo no longer counts.
AGORA_LOGIN_ADDRESS_LIMIT = int(os.environ.get("AGORA_LOGIN_ADDRESS_LIMIT", "20"))
# How many reverse proxies put themselves in X-Forwarded-For (0: trust only REMOTE_ADDR).
AGORA_PROXY_COUNT = int(os.environ.get("AGORA_PROXY_COUNT", "0"))
AXES_VERBOSE = False
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "home"

# --- Language -------------------------------------------------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
TIME_ZONE = os.environ.get("AGORA_TIME_ZONE", "Asia/Shanghai")
USE_I18N = True
USE_TZ = True
LANGUAGE_COOKIE_AGE = 60 * 60 * 24 * 365 * 5

# --- Static ---------------------------------------------------------------------------
STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(os.environ.get("AGORA_STATIC_ROOT", BASE_DIR / "staticfiles"))
# The embedded server serves its own static files (WhiteNoise, below); behind a proxy that serves
# STATIC_ROOT itself, AGORA_SERVE_STATIC=0.
AGORA_SERVE_STATIC = _env_bool("AGORA_SERVE_STATIC", True)
# `manage.py collectstatic` (make run does it) writes every file under a content-hashed name with a
# .gz and a .br beside it; pages link the hashed names, which are cached for a year and never go
# stale (docs/decisions.md, "Static files and compression"). Without a collectstatic yet (a fresh
# clone's `python -m agora.server`, a benchmark) pages link the plain names, served from static/;
# production always links the hashed ones (run collectstatic: docs/deployment.md).
# AGORA_STATIC_MANIFEST=1 forces the hashed names (collectstatic itself: make run, tests/servers.py).
AGORA_STATIC_MANIFEST = _env_bool("AGORA_STATIC_MANIFEST", PRODUCTION or (STATIC_ROOT / "staticfiles.json").exists())
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if AGORA_STATIC_MANIFEST
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
# Without the manifest, WhiteNoise serves the source files (short cache, no .br): tests only.
WHITENOISE_USE_FINDERS = not AGORA_STATIC_MANIFEST
WHITENOISE_AUTOREFRESH = False
# Files without a hash in their name (favicon.ico at the root, a stale link): a day.
WHITENOISE_MAX_AGE = 60 * 60 * 24
# The favicon at /favicon.ico, where browsers look first.
WHITENOISE_ROOT = BASE_DIR / "static" / "root"
if AGORA_SERVE_STATIC:
    MIDDLEWARE.insert(1, "whitenoise.middleware.WhiteNoiseMiddleware")

# --- Uploaded files ---------------------------------------------------------------------
# Signed proxies (委托书): stored under MEDIA_ROOT with a random name and served only through a
# view that checks the reader moderates the community (voting/decisions/door/views.py), never by
# a public MEDIA_URL: there is deliberately no static route to MEDIA_ROOT.
MEDIA_ROOT = Path(os.environ.get("AGORA_MEDIA_ROOT", BASE_DIR / "media"))
MEDIA_URL = "/media-not-served/"
AGORA_PROXY_DOCUMENT_MAX_BYTES = int(os.environ.get("AGORA_PROXY_DOCUMENT_MAX_BYTES", str(10 * 1024 * 1024)))
# A phone photo of a signed page is 2-8 MB; Django keeps up to 2.5 MB of an upload in memory and
# spills a larger one to a temporary file.
FILE_UPLOAD_PERMISSIONS = 0o600

# --- Live discussion limits (docs/protocol.md) ------------------------------------------
AGORA_MESSAGE_MAX_CHARS = 2000
AGORA_MESSAGE_RATE = (5, 10)  # at most 5 messages per 10 seconds per person per session
AGORA_PRESENCE_STALE_SECONDS = 90

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("AGORA_LOG_LEVEL", "WARNING")},
}

SESSION_COOKIE_AGE = 60 * 60 * 24 * 30
# Django's database sessions, the row read by a plain statement (agora/infra/session_store.py).
SESSION_ENGINE = "agora.infra.session_store"

# --- Jobs (agora/infra/jobs; docs/decisions.md "Job runner", docs/deployment.md "Jobs") ------
# Scheduled jobs are rows in this database (django-tasks' database backend). Every
# `python -m agora.server` runs a worker in-process unless AGORA_JOBS_IN_SERVER=0; any number of
# `manage.py run_jobs` processes may run beside it. A row is claimed by one worker at a time.
INSTALLED_APPS += ["django_tasks", "django_tasks_db", "agora.infra.jobs.apps.JobsConfig"]
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}
AGORA_JOBS_IN_SERVER = _env_bool("AGORA_JOBS_IN_SERVER", True)
AGORA_JOBS_INTERVAL = float(os.environ.get("AGORA_JOBS_INTERVAL", "1"))  # seconds between polls
AGORA_JOBS_LEASE = float(os.environ.get("AGORA_JOBS_LEASE", "300"))  # a row running longer was abandoned
AGORA_JOBS_RETRY_DELAYS = (5, 30, 120, 600, 3600)  # seconds before each retry of a failed job
AGORA_JOB_MODULES = ["voting.announce", "voting.decisions.lifecycle"]  # modules that define @job handlers
# Tests only: a file holding seconds added to the clock of every process (agora/infra/clock.py).
AGORA_TEST_CLOCK_FILE = os.environ.get("AGORA_TEST_CLOCK_FILE", "")
