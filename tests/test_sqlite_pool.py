"""config.sqlite_pool: a request's closed SQLite connection is kept for the next request, clean, and keeps the WAL."""

from __future__ import annotations

import sqlite3
import threading
from contextlib import contextmanager
from pathlib import Path

import pytest
from django.db import connections, transaction
from django.db.utils import ConnectionHandler

from config.sqlite_pool.base import pool_for


@pytest.fixture(autouse=True)
def connections_allowed(django_db_blocker):
    """These tests open connections of their own to their own files; the suite's database plays no part."""
    with django_db_blocker.unblock():
        yield


def site_like(path: Path | str, max_size: int = 10):
    """A Django connection with the site's SQLite options (WAL, IMMEDIATE, busy timeout, the pool)."""
    options = {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL;",
        "pool": {"max_size": max_size},
    }
    return ConnectionHandler({"default": {"ENGINE": "config.sqlite_pool", "NAME": str(path), "OPTIONS": options}})[
        "default"
    ]


def raw_of(connection) -> sqlite3.Connection:
    connection.ensure_connection()
    return connection.connection


def write_once_and_close(path: Path, value: str = "b") -> None:
    """What one request does: open, write in a transaction, close (CONN_MAX_AGE 0)."""
    connection = site_like(path)
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE IF NOT EXISTS answer (chosen TEXT)")
    with atomic_on(connection):
        with connection.cursor() as cursor:
            cursor.execute("INSERT INTO answer VALUES (%s)", [value])
    connection.close()


@contextmanager
def atomic_on(connection):
    """transaction.atomic for a connection made outside the site's settings."""
    connections["pool-test"] = connection
    try:
        with transaction.atomic(using="pool-test"):
            yield
    finally:
        del connections["pool-test"]


def chosen(path: Path) -> list[tuple[str]]:
    with sqlite3.connect(path) as reader:
        return reader.execute("SELECT chosen FROM answer ORDER BY rowid").fetchall()


def test_a_closed_connection_is_handed_to_the_next_request(tmp_path):
    database = tmp_path / "db.sqlite3"
    first = site_like(database)
    raw = raw_of(first)
    first.close()
    second = site_like(database)
    assert raw_of(second) is raw
    second.close()


def test_the_next_request_runs_in_another_thread_on_the_kept_connection(tmp_path):
    """A request's sync code runs on one of several threads: a connection kept by one must work on another."""
    database = tmp_path / "db.sqlite3"
    write_once_and_close(database, "a")
    seen = []

    def request() -> None:
        connection = site_like(database)
        with connection.cursor() as cursor:
            cursor.execute("SELECT chosen FROM answer")
            seen.append(cursor.fetchall())
        connection.close()

    thread = threading.Thread(target=request)
    thread.start()
    thread.join()
    assert seen == [[("a",)]]


def test_a_kept_connection_sees_what_other_connections_committed(tmp_path):
    database = tmp_path / "db.sqlite3"
    write_once_and_close(database, "a")
    kept = site_like(database)
    raw_of(kept)
    kept.close()
    with sqlite3.connect(database) as other:
        other.execute("INSERT INTO answer VALUES ('z')")
    again = site_like(database)
    with again.cursor() as cursor:
        cursor.execute("SELECT chosen FROM answer ORDER BY rowid")
        assert cursor.fetchall() == [("a",), ("z",)]
    again.close()


def test_a_connection_closed_in_a_transaction_comes_back_rolled_back(tmp_path):
    database = tmp_path / "db.sqlite3"
    write_once_and_close(database, "a")
    request = site_like(database)
    request.set_autocommit(False)
    with request.cursor() as cursor:
        cursor.execute("INSERT INTO answer VALUES ('never committed')")
    raw = request.connection
    request.close()
    assert not raw.in_transaction
    assert chosen(database) == [("a",)]
    nxt = site_like(database)
    assert raw_of(nxt) is raw
    with nxt.cursor() as cursor:
        cursor.execute("INSERT INTO answer VALUES ('c')")  # autocommit: committed at once
    nxt.close()
    assert chosen(database) == [("a",), ("c",)]


def test_a_connection_closed_inside_atomic_is_closed_not_kept(tmp_path):
    """Django keeps the wrapper's connection after a close inside atomic, until the block ends: it is not handed on."""
    database = tmp_path / "db.sqlite3"
    write_once_and_close(database, "a")
    request = site_like(database)
    with atomic_on(request):
        raw = request.connection
        request.close()
    with pytest.raises(sqlite3.ProgrammingError):
        raw.execute("SELECT 1")  # closed
    assert all(kept is not raw for kept, _ in pool_for(str(database), 10).idle)


def test_the_pool_keeps_at_most_max_size_idle_connections(tmp_path):
    database = tmp_path / "db.sqlite3"
    requests = [site_like(database, max_size=2) for _ in range(3)]
    raws = [raw_of(request) for request in requests]
    assert len({id(raw) for raw in raws}) == 3  # three at once: none idle, each opened its own
    for request in requests:
        request.close()
    idle = [kept for kept, _ in pool_for(str(database), 2).idle]
    assert idle == raws[:2]
    with pytest.raises(sqlite3.ProgrammingError):
        raws[2].execute("SELECT 1")  # the third found the pool full and was closed


def test_max_size_zero_still_keeps_one_connection(tmp_path):
    database = tmp_path / "db.sqlite3"
    request = site_like(database, max_size=0)
    raw = raw_of(request)
    request.close()
    assert raw_of(site_like(database, max_size=0)) is raw


def test_a_replaced_database_file_is_never_read_through_a_kept_connection(tmp_path):
    """A test database made again, or a backup restored, under the same name: the kept connection has the old file."""
    database = tmp_path / "db.sqlite3"
    write_once_and_close(database, "old")
    for suffix in ("", "-wal", "-shm"):
        Path(f"{database}{suffix}").unlink(missing_ok=True)
    with sqlite3.connect(database) as fresh:
        fresh.execute("CREATE TABLE answer (chosen TEXT)")
        fresh.execute("INSERT INTO answer VALUES ('new')")
    request = site_like(database)
    with request.cursor() as cursor:
        cursor.execute("SELECT chosen FROM answer")
        assert cursor.fetchall() == [("new",)]
    request.close()


def test_a_kept_connection_enforces_foreign_keys_again(tmp_path):
    database = tmp_path / "db.sqlite3"
    request = site_like(database)
    with request.cursor() as cursor:
        cursor.execute("CREATE TABLE parent (id INTEGER PRIMARY KEY)")
        cursor.execute("CREATE TABLE child (parent_id INTEGER REFERENCES parent(id))")
        cursor.execute("PRAGMA foreign_keys = OFF")  # as a schema change does while it runs
    request.close()
    nxt = site_like(database)
    with nxt.cursor() as cursor:
        cursor.execute("PRAGMA foreign_keys")
        assert cursor.fetchone() == (1,)
    nxt.close()


def test_closing_a_request_connection_keeps_the_wal(tmp_path):
    database = tmp_path / "db.sqlite3"
    write_once_and_close(database)
    write_once_and_close(database)
    assert Path(f"{database}-wal").exists()  # not checkpointed and deleted by the close
    assert chosen(database) == [("b",), ("b",)]  # both commits are there


def test_without_a_kept_connection_the_last_close_checkpoints_and_deletes_the_wal(tmp_path):
    """What the pool also prevents: every request's close was the last one, and paid a checkpoint for it."""
    database = tmp_path / "db.sqlite3"
    connection = sqlite3.connect(database)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("CREATE TABLE answer (chosen TEXT)")
    connection.commit()
    assert Path(f"{database}-wal").exists()
    connection.close()
    assert not Path(f"{database}-wal").exists()


def test_an_in_memory_database_is_not_pooled():
    """Each in-memory connection is a database of its own: handing one on would hand on its tables."""
    connection = ConnectionHandler({"default": {"ENGINE": "config.sqlite_pool", "NAME": ":memory:"}})["default"]
    connection.ensure_connection()
    assert connection.pool is None
    connection.close()
