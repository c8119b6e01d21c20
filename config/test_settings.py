"""Settings for the test suite: the real settings with fast hashing and an isolated data folder."""

from __future__ import annotations

import os

from config.settings import *  # noqa: F403
from config.settings import CACHES, CHANNEL_LAYERS, DATA_DIR, DATABASES, env_int

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
SECURE_SSL_REDIRECT = False

# One id per test run and pytest-xdist worker, inherited by the servers a test starts (they inherit both variables):
# runs that share a PostgreSQL or Redis server (two checkouts on one machine, a CI run beside a local one), and the
# workers of one run, never touch each other's database or channels.
XDIST_WORKER = os.environ.get("PYTEST_XDIST_WORKER", "main")
TEST_RUN_ID = f"{os.environ.setdefault('ACADEMY_TEST_RUN_ID', str(os.getpid()))}_{XDIST_WORKER}"

# The default SQLite test database is a file (not :memory:) so a Daphne subprocess can share it.
if DATABASES["default"]["ENGINE"] == "config.sqlite_pool":
    DATABASES["default"]["TEST"] = {"NAME": str(DATA_DIR / f"test-{XDIST_WORKER}.sqlite3")}
else:
    DATABASES["default"]["TEST"] = {"NAME": f"test_{DATABASES['default']['NAME']}_{TEST_RUN_ID}"}

# The suite itself uses the in-memory layer and cache even when REDIS_URL names the Redis the Redis tests
# use; a server started by a test opts into Redis with ACADEMY_TEST_CHANNEL_LAYER=redis.
if os.environ.get("ACADEMY_TEST_CHANNEL_LAYER") != "redis":
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
else:
    CHANNEL_LAYERS["default"]["CONFIG"]["prefix"] = f"asgi-test-{TEST_RUN_ID}"
    CACHES["default"]["KEY_PREFIX"] = f"test-{TEST_RUN_ID}"

# The suite signs in, signs up and asks for reset mails many times from 127.0.0.1 in one run; only the tests
# about these limits lower them again (with override_settings).
AXES_FAILURE_LIMIT = 1000
ACCOUNTS_SIGNUPS_PER_HOUR = 100_000
ACCOUNTS_PASSWORD_RESETS_PER_HOUR = 100_000
# Many tests open sockets from 127.0.0.1, some as one user; the cap tests lower these (settings or environment).
WEBSOCKET_MAX_PER_USER = env_int("WEBSOCKET_MAX_PER_USER", 100_000)
WEBSOCKET_MAX_PER_IP = env_int("WEBSOCKET_MAX_PER_IP", 100_000)
# A closed page's run ends at once in the suite, as the tests that close pages expect (and no sandbox outlives its
# test); the re-attach tests set it, in the test process or in the environment of the server they start.
PLAYGROUND_REATTACH_SECONDS = env_int("PLAYGROUND_REATTACH_SECONDS", 0)
# No pool of pre-started sandboxes in the test process: each async test has an event loop of its own, so every test
# that runs code would start a pool and leave it behind when its loop closes, and a refill cut off by that close hangs
# the test (Python 3.11's asyncio waits forever for a subprocess whose pipes were still being connected). The pool is
# tested on its own (tests/sandbox/test_pool_and_gate.py); servers a test starts keep it (shared_server_env).
PLAYGROUND_POOL_SIZE = env_int("PLAYGROUND_POOL_SIZE", 0)
