"""Database connections under Daphne follow Django's ASGI advice: none kept per thread, or psycopg's pool, bounded."""

from __future__ import annotations

import os
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import psycopg
import pytest
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore
from django.db import connection

from tests.conftest import DaphneServer, database_url_for, missing_service, shared_server_env
from tests.factories import make_user

CONCURRENT_REQUESTS = 12


def signed_in_cookie() -> str:
    """A session in the test database, so every request reads the session and the user from PostgreSQL."""
    user = make_user()
    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.save()
    return f"sessionid={session.session_key}"


def connections_of(app_name: str) -> int:
    """Open PostgreSQL connections whose application_name (libpq's PGAPPNAME) is this Daphne's."""
    with psycopg.connect(database_url_for(connection.settings_dict)) as probe:
        return probe.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = %s", [app_name]
        ).fetchone()[0]


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("pool_env", "kept", "most"),
    [
        ({"DATABASE_POOL_MAX_SIZE": "0"}, (0, 0), CONCURRENT_REQUESTS),
        ({"DATABASE_POOL_MAX_SIZE": "3", "DATABASE_POOL_MIN_SIZE": "2"}, (2, 3), 3),
    ],
    ids=["no-pool", "pool"],
)
def test_daphne_keeps_no_connection_without_the_pool_and_a_bounded_pool_with_it(
    tmp_path, collected_static, pool_env, kept, most
):
    if connection.vendor != "postgresql":
        missing_service("the pool is psycopg's: DATABASE_URL is not PostgreSQL")
    cookie = signed_in_cookie()
    app_name = f"academy-pool-test-{os.getpid()}"
    server = DaphneServer(shared_server_env(collected_static, PGAPPNAME=app_name, **pool_env), tmp_path / "daphne.log")
    seen = [0]
    done = threading.Event()

    def watch() -> None:
        while not done.is_set():
            seen[0] = max(seen[0], connections_of(app_name))

    def page(_: int) -> int:
        request = urllib.request.Request(server.url + "/lessons/", headers={"Cookie": cookie})
        with urllib.request.urlopen(request, timeout=60) as response:
            body = response.read()
        assert b"Log out" in body  # the session and its user were read from the database
        return response.status

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        with ThreadPoolExecutor(CONCURRENT_REQUESTS) as requests:
            statuses = list(requests.map(page, range(CONCURRENT_REQUESTS * 5)))
    finally:
        done.set()
        watcher.join()
        deadline = time.monotonic() + 15  # the last request's connection closes just after its response
        while not kept[0] <= (after := connections_of(app_name)) <= kept[1] and time.monotonic() < deadline:
            time.sleep(0.1)
        readiness_connections = connections_of(f"{app_name} readiness")
        server.stop()
    assert statuses == [200] * len(statuses)
    assert kept[0] <= after <= kept[1]  # none kept past its request, or the pool's, between its minimum and maximum
    assert 0 < seen[0] <= most
    assert readiness_connections <= 1  # /healthz keeps one of its own per process, named apart (config/health.py)
