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

from config.redis_urls import next_redis_database

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


def env_int(name: str, default: int, minimum: int | None = None) -> int:
    """Parse an integer environment variable, naming the variable when it is malformed or below its minimum."""
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={raw!r} is not a whole number.") from None
    if minimum is not None and value < minimum:
        raise ImproperlyConfigured(f"{name}={raw!r} is below its minimum, {minimum}.")
    return value


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
    "challenges",
    "predictions",
    "dashboards",
    "config.apps.ProjectConfig",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "config.csp.ContentSecurityPolicyMiddleware",
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

# Threads per process that run requests' sync code (middleware, views, database); a request waits for a free one
# (config/asgi_handler.py). Each thread more costs CPU in contention for the interpreter lock (bench/serving_RESULTS.md:
# one thread served the most pages for the least CPU), but a second one keeps pages flowing while a request waits
# without holding that lock, such as a sign-in's password hash (a quarter of a second).
HTTP_SYNC_THREADS = env_int("HTTP_SYNC_THREADS", 2, minimum=1)  # none would leave every request waiting
DATABASE_URL = os.environ.get("DATABASE_URL", "")
# Per Django's advice for ASGI, no connection is kept by Django (CONN_MAX_AGE 0: a connection belongs to its request's
# context, so kept ones would be left behind) and PostgreSQL uses the backend's own pool: psycopg's, one per process,
# holding at least DATABASE_POOL_MIN_SIZE and at most DATABASE_POOL_MAX_SIZE connections; a request waits up to
# DATABASE_POOL_TIMEOUT seconds for a free one. DATABASE_POOL_MAX_SIZE 0 opens a connection for every request instead,
# which made a quiz answer's median 24.8 ms against 16.3 ms pooled (bench/quiz_RESULTS.md). SQLite uses Django's backend
# with a pool of its own (config/sqlite_pool/base.py): a process keeps up to DATABASE_POOL_MAX_SIZE idle connections,
# and always one.
DATABASE_POOL_MIN_SIZE = env_int("DATABASE_POOL_MIN_SIZE", 2)
DATABASE_POOL_MAX_SIZE = env_int("DATABASE_POOL_MAX_SIZE", 10)
DATABASE_POOL_TIMEOUT = env_int("DATABASE_POOL_TIMEOUT", 10)
if DATABASE_URL:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=0)}
    if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" and DATABASE_POOL_MAX_SIZE > 0:
        DATABASES["default"]["OPTIONS"] = {
            "pool": {
                "min_size": min(DATABASE_POOL_MIN_SIZE, DATABASE_POOL_MAX_SIZE),
                "max_size": DATABASE_POOL_MAX_SIZE,
                "timeout": DATABASE_POOL_TIMEOUT,
            }
        }
else:
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": str(DATA_DIR / "db.sqlite3")}}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["ENGINE"] = "config.sqlite_pool"
    # WAL and IMMEDIATE transactions keep concurrent writers from failing with "database is locked": each waits up to
    # the timeout for the one write lock. synchronous=NORMAL flushes the WAL at checkpoints, not at every commit (no
    # fsync per answer): a power cut may lose the last commits, never consistency (deploy/README.md, "Commits and
    # durability"); FULL would flush each one.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "pool": {"max_size": DATABASE_POOL_MAX_SIZE},
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"


# The channel layer's Redis; the cache gets a database of its own (REDIS_CACHE_URL, by default the next one), since a
# cache clear is FLUSHDB and would drop every channel group with it.
REDIS_URL = os.environ.get("REDIS_URL", "")
REDIS_CACHE_URL = os.environ.get("REDIS_CACHE_URL", "") or (next_redis_database(REDIS_URL) if REDIS_URL else "")
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
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_CACHE_URL}}
else:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels.layers.InMemoryChannelLayer",
            "CONFIG": {"capacity": env_int("CHANNEL_LAYER_CAPACITY", 1000), "expiry": 60},
        }
    }
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# WebSockets one signed-in user, and one client address (a whole class may share a school's), may hold open at once,
# over every route and every process; one more is closed with 4013 (config/socket_caps.py).
WEBSOCKET_MAX_PER_USER = env_int("WEBSOCKET_MAX_PER_USER", 20)
WEBSOCKET_MAX_PER_IP = env_int("WEBSOCKET_MAX_PER_IP", 200)

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
LOGIN_REDIRECT_URL = "home"  # learners: the home page, which offers to continue where they left off
INSTRUCTOR_LOGIN_REDIRECT_URL = "dashboards:index"  # instructors: their cohorts
LOGOUT_REDIRECT_URL = "home"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# Lessons, quizzes, starters and traces: reviewed files, loaded once per process.
CONTENT_DIR = Path(os.environ.get("ACADEMY_CONTENT_DIR", BASE_DIR / "content"))
# Rendered content per content version (lessons/catalogue/snapshot.py): start-up reads it instead of re-rendering.
CONTENT_CACHE_DIR = Path(os.environ.get("ACADEMY_CONTENT_CACHE_DIR", DATA_DIR / "content-cache"))
# Lesson search refuses longer queries and ignores words past the limit; results come this many to a page.
LESSON_SEARCH_MAX_QUERY_CHARS = 200
LESSON_SEARCH_MAX_TERMS = 8
LESSON_SEARCH_PAGE_SIZE = env_int("LESSON_SEARCH_PAGE_SIZE", 10)
# Re-opening the page a learner last read writes nothing (no row, no session, no feed item) unless the last visit was
# recorded longer ago than this; the dashboards' "last seen" is at most this stale.
LESSON_VISIT_REFRESH_SECONDS = env_int("LESSON_VISIT_REFRESH_SECONDS", 300)

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
# A live client waits this long for the learner's consumer to answer; kept under Daphne's own handshake timeout
# (--websocket_connect_timeout, 5 s), so the client gets an answer (4404) rather than a dropped connection.
PLAYGROUND_LIVE_HANDSHAKE_SECONDS = env_int("PLAYGROUND_LIVE_HANDSHAKE_SECONDS", 3)
# "full" (~27 MB per idle sandbox; routed consumers load in ~12 ms, so a 10-test challenge grades in ~0.2 s) or
# "minimal" (~15 MB; ~70 ms per load, and django.urls imported again in every fresh sandbox: bench/challenge_RESULTS.md).
PLAYGROUND_SANDBOX_PRELOAD = os.environ.get("PLAYGROUND_SANDBOX_PRELOAD", "full")
# Learner code runs at this nice level (0-19) so that a run storm leaves the CPU to page requests first.
PLAYGROUND_SANDBOX_NICENESS = env_int("PLAYGROUND_SANDBOX_NICENESS", 10)
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
# A run whose page closes (a reload, a lost connection) goes on this long for the page to attach again
# (playground/attach.py), then ends as "page closed"; 0 ends it at once.
PLAYGROUND_REATTACH_SECONDS = env_int("PLAYGROUND_REATTACH_SECONDS", 20)

# Challenges: each test runs in its own sandbox, at most CHALLENGE_TEST_SECONDS of wall clock, this many sandboxes
# at once per grading; a learner may ask for CHALLENGE_GRADES_PER_MINUTE gradings a minute, CHALLENGE_CONCURRENT_GRADES
# at a time (challenges/services.py).
CHALLENGE_TEST_SECONDS = float(env_int("CHALLENGE_TEST_SECONDS", 10))
CHALLENGE_GRADING_PARALLEL = env_int("CHALLENGE_GRADING_PARALLEL", 2)
CHALLENGE_GRADES_PER_MINUTE = env_int("CHALLENGE_GRADES_PER_MINUTE", 6)
CHALLENGE_CONCURRENT_GRADES = env_int("CHALLENGE_CONCURRENT_GRADES", 1)
# The trace rows kept of each failed test's run for the step-through (the learner's latest grading only).
CHALLENGE_TRACE_ROWS = env_int("CHALLENGE_TRACE_ROWS", 2000)

# Drafts (playground/drafts.py): a learner's code is kept per starter as they type, for this many starters at most,
# saved at most this many times a minute (the page saves once typing pauses); its size limit is the run's
# max_code_bytes (PLAYGROUND_LIMITS). The runs page lists this many of the learner's runs to a page.
PLAYGROUND_DRAFTS_PER_LEARNER = env_int("PLAYGROUND_DRAFTS_PER_LEARNER", 50)
PLAYGROUND_DRAFT_SAVES_PER_MINUTE = env_int("PLAYGROUND_DRAFT_SAVES_PER_MINUTE", 60)
PLAYGROUND_RUNS_PAGE_SIZE = env_int("PLAYGROUND_RUNS_PAGE_SIZE", 20)

# Predict the next step (predictions/): a learner (or a visitor, by client address) may send PREDICT_ANSWERS_PER_MINUTE
# answers a minute; a typed answer is at most PREDICT_ANSWER_MAX_CHARS characters.
PREDICT_ANSWERS_PER_MINUTE = env_int("PREDICT_ANSWERS_PER_MINUTE", 30)
PREDICT_ANSWER_MAX_CHARS = env_int("PREDICT_ANSWER_MAX_CHARS", 200)

# How long a run's owner may make its share link last, in days (besides "until revoked"); the longest is the cap.
PLAYGROUND_SHARE_LINK_DAYS = [int(days) for days in env_list("PLAYGROUND_SHARE_LINK_DAYS", ["1", "7", "30"])]

# Instructor dashboards: when a learner is flagged as looking stuck.
DASHBOARD_STUCK_IDLE_DAYS = env_int("DASHBOARD_STUCK_IDLE_DAYS", 7)
DASHBOARD_STUCK_FAILED_ATTEMPTS = env_int("DASHBOARD_STUCK_FAILED_ATTEMPTS", 3)
DASHBOARD_STUCK_RUN_ERRORS = env_int("DASHBOARD_STUCK_RUN_ERRORS", 3)
# How long the instructor who removed someone from a cohort may undo it (the undo button on the cohort page).
DASHBOARD_REMOVE_UNDO_SECONDS = env_int("DASHBOARD_REMOVE_UNDO_SECONDS", 600)
# The stored activity feed of a cohort page: kept this many hours (older items are deleted as new ones are
# written), shown this many items to a page.
DASHBOARD_FEED_RETENTION_HOURS = env_int("DASHBOARD_FEED_RETENTION_HOURS", 48)
DASHBOARD_FEED_PAGE_SIZE = env_int("DASHBOARD_FEED_PAGE_SIZE", 50)

STATIC_URL = "/static/"
STATIC_ROOT = Path(os.environ.get("DJANGO_STATIC_ROOT", DATA_DIR / "static"))
STATICFILES_DIRS = [BASE_DIR / "static"]
# Seconds browsers may cache static files that are not content-hashed.
STATIC_MAX_AGE = env_int("DJANGO_STATIC_MAX_AGE", 3600)

EMAIL_BACKEND = os.environ.get("DJANGO_EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = os.environ.get("DJANGO_EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("DJANGO_EMAIL_PORT", 25)
# Most institutional relays want a login and encryption: STARTTLS (usually port 587) or TLS from the first byte
# (SMTPS, usually 465), never both (academy.E003).
EMAIL_HOST_USER = os.environ.get("DJANGO_EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("DJANGO_EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("DJANGO_EMAIL_USE_TLS", False)
EMAIL_USE_SSL = env_bool("DJANGO_EMAIL_USE_SSL", False)
EMAIL_TIMEOUT = env_int("DJANGO_EMAIL_TIMEOUT", 10)  # seconds; a relay that stops answering must not hold a request
DEFAULT_FROM_EMAIL = os.environ.get("DJANGO_DEFAULT_FROM_EMAIL", "Channels Academy <noreply@localhost>")

# HTTP limits Daphne lacks, enforced by config/serve.py before the body is read (nginx's are stricter, 1 MB): a
# body larger than this is refused with 413 (above DATA_UPLOAD_MAX_MEMORY_SIZE, Django's own 2.5 MB form limit);
# a request's headers must be complete this many seconds after its first line (else 408).
HTTP_MAX_REQUEST_BODY_BYTES = env_int("HTTP_MAX_REQUEST_BODY_BYTES", 4 * 1024 * 1024)
HTTP_HEADER_TIMEOUT_SECONDS = env_int("HTTP_HEADER_TIMEOUT_SECONDS", 20)
# Daphne's own limits, the defaults config/serve.py gives its flags: an HTTP request must be answered within this
# (else 503, or a streamed answer is cut off; the longest, a streamed CSV export, takes seconds), a WebSocket
# handshake must finish within this, and a WebSocket message may be this large (the page's own limit,
# PLAYGROUND_MAX_BROWSER_MESSAGE_BYTES, is lower).
DAPHNE_HTTP_TIMEOUT_SECONDS = env_int("DAPHNE_HTTP_TIMEOUT_SECONDS", 120)
DAPHNE_WEBSOCKET_HANDSHAKE_SECONDS = env_int("DAPHNE_WEBSOCKET_HANDSHAKE_SECONDS", 5)
DAPHNE_WEBSOCKET_MAX_MESSAGE_BYTES = env_int("DAPHNE_WEBSOCKET_MAX_MESSAGE_BYTES", 512 * 1024)

# Addresses (or networks, "10.0.0.0/24") of the proxies whose X-Forwarded-For and X-Forwarded-Proto are believed
# (config/proxy.py): the client address and the scheme (https, wss) come from them. Anyone else's are dropped.
TRUSTED_PROXY_ADDRESSES = env_list("DJANGO_TRUSTED_PROXIES", ["127.0.0.1", "::1"])
# Behind a TLS-terminating proxy these make Django trust X-Forwarded-Proto and mark cookies secure. (config/proxy.py
# already sets the scheme from a trusted proxy and drops the header from anyone else, so this only repeats it.)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if env_bool("DJANGO_BEHIND_PROXY", False) else None
SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", not DEBUG)
# Health probes may reach a Daphne directly over plain HTTP (a load balancer on the private network).
SECURE_REDIRECT_EXEMPT = [r"^livez$", r"^healthz$"]
# /healthz answers only ok / not ok; its details (which check failed and why) go to staff users and to requests with
# this token in the X-Healthz-Token header. Empty: token access is off.
HEALTHZ_TOKEN = os.environ.get("DJANGO_HEALTHZ_TOKEN", "")
# Each readiness check (database query, Redis PING, sandbox gate) that takes longer than this fails.
HEALTHZ_CHECK_SECONDS = env_int("HEALTHZ_CHECK_SECONDS", 2)
SESSION_COOKIE_SECURE = env_bool("DJANGO_SECURE_COOKIES", not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_HSTS_SECONDS = env_int("DJANGO_HSTS_SECONDS", 0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("DJANGO_HSTS_INCLUDE_SUBDOMAINS", not DEBUG)
SECURE_HSTS_PRELOAD = env_bool("DJANGO_HSTS_PRELOAD", False)
SECURE_CONTENT_TYPE_NOSNIFF = True  # static files carry it too (config/static_asgi.py, nginx-site.conf.in)
# The Content-Security-Policy of every page (config/csp.py): nothing inline, nothing from elsewhere. `connect-src 'self'`
# covers the site's own ws:// and wss:// (CSP level 3). DJANGO_CSP_REPORT_ONLY=1 sends it as report-only instead.
CONTENT_SECURITY_POLICY = {
    "default-src": ["'self'"],
    "script-src": ["'self'"],
    "style-src": ["'self'"],
    "img-src": ["'self'", "data:"],  # Ace's stylesheet draws its gutter icons as data: images
    "connect-src": ["'self'"],
    "object-src": ["'none'"],
    "base-uri": ["'self'"],
    "form-action": ["'self'"],
    "frame-ancestors": ["'none'"],
}
CONTENT_SECURITY_POLICY_REPORT_ONLY = env_bool("DJANGO_CSP_REPORT_ONLY", False)
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
