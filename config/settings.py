"""Settings for Channels Academy, read from environment variables with safe embedded defaults.

Every variable is documented in README.md. With nothing set the site runs on SQLite and the
in-memory channel layer; DATABASE_URL and REDIS_URL switch to PostgreSQL and Redis.
"""

from __future__ import annotations

import json
import os
from datetime import timedelta
from pathlib import Path
from typing import Any

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool) -> bool:
    """Parse a yes/no environment variable strictly, so a typo is an error and not a silent no."""
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name}={raw!r} is not a yes/no value (use 1/0, true/false).")


def env_int(name: str, default: int) -> int:
    """Parse an integer environment variable, naming the variable when it is malformed."""
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={raw!r} is not a whole number.") from None


def env_choice(name: str, default: str, choices: tuple[str, ...]) -> str:
    """Parse an environment variable that must be one of a few words, naming the variable otherwise."""
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    value = raw.strip().lower()
    if value not in choices:
        raise ImproperlyConfigured(f"{name}={raw!r} is not one of {', '.join(choices)}.")
    return value


def env_list(name: str, default: list[str]) -> list[str]:
    """Parse a comma-separated environment variable into a list of non-empty items."""
    raw = os.environ.get(name)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


DEBUG = env_bool("DJANGO_DEBUG", True)
DATA_DIR = Path(os.environ.get("DJANGO_DATA_DIR", BASE_DIR / "data"))

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", [])
if DEBUG:
    SECRET_KEY = SECRET_KEY or "dev-only-insecure-key-do-not-use-in-production"
    ALLOWED_HOSTS = ALLOWED_HOSTS or ["127.0.0.1", "localhost", "[::1]"]
else:
    missing = [
        name
        for name, value in (("DJANGO_SECRET_KEY", SECRET_KEY), ("DJANGO_ALLOWED_HOSTS", ALLOWED_HOSTS))
        if not value
    ]
    if missing:
        raise ImproperlyConfigured(
            f"DJANGO_DEBUG is off, so {' and '.join(missing)} must be set (see README.md, 'Settings')."
        )
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    "django_ace",
    "channels",
    "axes",
    "accounts",
    "cohorts",
    "lessons",
    "quizzes",
    "playground",
    "dashboards",
    "config.apps.ProjectConfig",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "axes.middleware.AxesMiddleware",  # turns a locked-out sign-in into the lock-out page
]

ROOT_URLCONF = "config.urls"
ASGI_APPLICATION = "config.asgi.application"

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
                "accounts.context_processors.roles",
            ],
        },
    },
]

DATABASE_URL = os.environ.get("DATABASE_URL", "")
if DATABASE_URL:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 0))}
else:
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": str(DATA_DIR / "db.sqlite3")}}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL and IMMEDIATE transactions keep concurrent writers from failing with "database is locked".
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = os.environ.get("REDIS_URL", "")
# Each layer's settings are a backend path plus that backend's own CONFIG mapping (nested, of mixed types).
CHANNEL_LAYERS: dict[str, dict[str, Any]]
if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "config.layer.QuietRedisChannelLayer",  # channels-redis, quieter when Redis goes away
            "CONFIG": {
                # redis-py's default 5 s socket timeout equals channels-redis's 5 s BZPOPMIN wait, so an idle
                # consumer would die with TimeoutError now and then (django/channels_redis#422); wait longer.
                "hosts": [{"address": REDIS_URL, "socket_timeout": env_int("CHANNEL_LAYER_SOCKET_TIMEOUT", 15)}],
                "capacity": env_int("CHANNEL_LAYER_CAPACITY", 1000),
                "expiry": 60,
            },
        }
    }
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels.layers.InMemoryChannelLayer",
            "CONFIG": {"capacity": env_int("CHANNEL_LAYER_CAPACITY", 1000), "expiry": 60},
        }
    }
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Group members join their groups again this often, so a Redis restarted empty delivers again within it.
CHANNEL_GROUP_REFRESH_SECONDS = env_int("CHANNEL_GROUP_REFRESH_SECONDS", 10)

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# The lock-out check runs before the password is even tried, so a locked account cannot be guessed into.
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "django.contrib.auth.backends.ModelBackend"]
LOGIN_URL = "accounts:login"

# Brute-force protection (django-axes): a user name with this many failed sign-ins within the lock-out time, from any
# address, is locked out until it has passed (`manage.py axes_reset_username NAME` unlocks). Not by address alone: a
# class shares one school address, and one learner's typos must not lock the others out; nginx limits the rate of
# sign-in requests per address instead (deploy/nginx-site.conf.in).
ACCOUNTS_LOGIN_FAILURE_LIMIT = env_int("ACCOUNTS_LOGIN_FAILURE_LIMIT", 5)
ACCOUNTS_LOCKOUT_MINUTES = env_int("ACCOUNTS_LOCKOUT_MINUTES", 15)
AXES_FAILURE_LIMIT = ACCOUNTS_LOGIN_FAILURE_LIMIT
AXES_COOLOFF_TIME = timedelta(minutes=ACCOUNTS_LOCKOUT_MINUTES)
AXES_LOCKOUT_PARAMETERS = ["username"]  # guesses spread over many addresses still lock the name
# axes.W006 wants the address among the lock-out parameters; here the name is locked from any address and nginx
# limits each address's rate, for the reason above.
SILENCED_SYSTEM_CHECKS = ["axes.W006"]
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False  # the page's "try again in" stays true
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_DISABLE_ACCESS_LOG = True  # record failures only, not every successful sign-in
# Sign-ups and password-reset mails an IP address (and, for resets, an e-mail address) may ask for per hour; a whole
# class signs up from one school address in its first lesson.
ACCOUNTS_SIGNUPS_PER_HOUR = env_int("ACCOUNTS_SIGNUPS_PER_HOUR", 60)
ACCOUNTS_PASSWORD_RESETS_PER_HOUR = env_int("ACCOUNTS_PASSWORD_RESETS_PER_HOUR", 5)
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "home"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# Lessons, quizzes, starters and traces: reviewed files, loaded once per process.
CONTENT_DIR = Path(os.environ.get("ACADEMY_CONTENT_DIR", BASE_DIR / "content"))
# Lesson search refuses longer queries and ignores words past the limit; results come this many to a page.
LESSON_SEARCH_MAX_QUERY_CHARS = 200
LESSON_SEARCH_MAX_TERMS = 8
LESSON_SEARCH_PAGE_SIZE = env_int("LESSON_SEARCH_PAGE_SIZE", 10)

# Playground: every limit of a run is a named field of playground.sandbox.shared.limits.SandboxLimits;
# PLAYGROUND_LIMITS (JSON object) overrides any of them, e.g. {"cpu_seconds": 2, "max_clients": 5}.
PLAYGROUND_LIMITS = json.loads(os.environ.get("PLAYGROUND_LIMITS", "{}"))
PLAYGROUND_POOL_SIZE = env_int("PLAYGROUND_POOL_SIZE", 2)  # pre-started sandboxes per process
PLAYGROUND_MAX_CONCURRENT_RUNS = env_int("PLAYGROUND_MAX_CONCURRENT_RUNS", 2)  # per learner
PLAYGROUND_RUNS_PER_MINUTE = env_int("PLAYGROUND_RUNS_PER_MINUTE", 20)  # per learner
# Sandboxes running at once in one process (a Daphne in page mode, a runworker in workers mode), whoever runs them;
# a learner beyond it is told the playground is full. Pre-started idle ones (PLAYGROUND_POOL_SIZE) come on top.
PLAYGROUND_MAX_RUNNING_SANDBOXES = env_int("PLAYGROUND_MAX_RUNNING_SANDBOXES", 8)
PLAYGROUND_MAX_BROWSER_MESSAGE_BYTES = env_int("PLAYGROUND_MAX_BROWSER_MESSAGE_BYTES", 320 * 1024)
# A run's owner stamps Run.heartbeat_at this often; a run silent for three beats was on a process that died.
PLAYGROUND_HEARTBEAT_SECONDS = env_int("PLAYGROUND_HEARTBEAT_SECONDS", 10)
PLAYGROUND_LIVE_HANDSHAKE_SECONDS = 5.0  # a live client waits this long for the learner's consumer to answer
# "minimal" (~15 MB per idle sandbox; routed consumers load in ~70 ms) or "full" (~27 MB; ~12 ms).
PLAYGROUND_SANDBOX_PRELOAD = os.environ.get("PLAYGROUND_SANDBOX_PRELOAD", "minimal")
PLAYGROUND_SANDBOX_ENV = Path(os.environ.get("PLAYGROUND_SANDBOX_ENV", BASE_DIR / ".sandbox-env"))
# Runs learner code without bubblewrap (a plain child process). Development only: `check --deploy` refuses it.
PLAYGROUND_UNSANDBOXED_DEVELOPMENT = env_bool("PLAYGROUND_UNSANDBOXED_DEVELOPMENT", False)
# Where learner code runs: "page" (the web process holding the page's socket) or "workers"
# (`manage.py runworker playground-runs` processes, reached through the channel layer).
PLAYGROUND_EXECUTION = env_choice("PLAYGROUND_EXECUTION", "page", ("page", "workers"))
PLAYGROUND_WORKER_CHANNEL = "playground-runs"  # the channel runworker listens on for run requests
# A page gives up on a run when no worker takes it within these many seconds, and stops waiting for a worker
# to confirm a stop after the second (kept under Daphne's 10 s for a closed socket's consumer to finish).
PLAYGROUND_WORKER_START_SECONDS = float(env_int("PLAYGROUND_WORKER_START_SECONDS", 10))
PLAYGROUND_WORKER_STOP_SECONDS = 8.0

# Instructor dashboards: when a learner is flagged as looking stuck.
DASHBOARD_STUCK_IDLE_DAYS = env_int("DASHBOARD_STUCK_IDLE_DAYS", 7)
DASHBOARD_STUCK_FAILED_ATTEMPTS = env_int("DASHBOARD_STUCK_FAILED_ATTEMPTS", 3)
DASHBOARD_STUCK_RUN_ERRORS = env_int("DASHBOARD_STUCK_RUN_ERRORS", 3)

STATIC_URL = "/static/"
STATIC_ROOT = Path(os.environ.get("DJANGO_STATIC_ROOT", DATA_DIR / "static"))
STATICFILES_DIRS = [BASE_DIR / "static"]
# Seconds browsers may cache static files that are not content-hashed.
STATIC_MAX_AGE = env_int("DJANGO_STATIC_MAX_AGE", 3600)

EMAIL_BACKEND = os.environ.get("DJANGO_EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = os.environ.get("DJANGO_EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("DJANGO_EMAIL_PORT", 25)
DEFAULT_FROM_EMAIL = os.environ.get("DJANGO_DEFAULT_FROM_EMAIL", "Channels Academy <noreply@localhost>")

# Behind a TLS-terminating proxy these make Django trust X-Forwarded-Proto and mark cookies secure.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if env_bool("DJANGO_BEHIND_PROXY", False) else None
SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", not DEBUG)
SESSION_COOKIE_SECURE = env_bool("DJANGO_SECURE_COOKIES", not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_HSTS_SECONDS = env_int("DJANGO_HSTS_SECONDS", 0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("DJANGO_HSTS_INCLUDE_SUBDOMAINS", not DEBUG)
SECURE_HSTS_PRELOAD = env_bool("DJANGO_HSTS_PRELOAD", False)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("DJANGO_LOG_LEVEL", "INFO")},
    "loggers": {
        "django": {"handlers": ["console"], "level": "INFO", "propagate": False},
        "daphne": {"level": "WARNING"},
        "axes": {"level": "WARNING"},  # lock-outs, without a start-up banner in every manage.py command
    },
}
