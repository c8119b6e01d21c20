"""config.sqlite_wal: closing a request's SQLite connection leaves the WAL in place instead of checkpointing it away."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from django.db.utils import ConnectionHandler

from config import sqlite_wal


def site_like_connections(path: Path) -> ConnectionHandler:
    """A Django connection to a fresh file with the site's SQLite options (WAL, IMMEDIATE, busy timeout)."""
    options = {"timeout": 20, "transaction_mode": "IMMEDIATE", "init_command": "PRAGMA journal_mode=WAL;"}
    return ConnectionHandler(
        {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": str(path), "OPTIONS": options}}
    )


def write_once_and_close(path: Path) -> None:
    """What one request does: open, write in a transaction, close (CONN_MAX_AGE 0)."""
    connection = site_like_connections(path)["default"]
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE IF NOT EXISTS answer (chosen TEXT)")
    connection.set_autocommit(False)
    with connection.cursor() as cursor:
        cursor.execute("INSERT INTO answer VALUES ('b')")
    connection.commit()
    connection.close()


@pytest.mark.django_db
def test_the_site_keeps_its_sqlite_wal_when_a_request_closes_the_last_connection(tmp_path):
    database = tmp_path / "db.sqlite3"
    write_once_and_close(database)
    write_once_and_close(database)
    assert str(database) in sqlite_wal._keepers
    assert Path(f"{database}-wal").exists()  # not checkpointed and deleted by the close
    with sqlite3.connect(database) as reader:
        assert reader.execute("SELECT chosen FROM answer").fetchall() == [("b",), ("b",)]  # both commits are there


def test_without_an_idle_connection_the_last_close_checkpoints_and_deletes_the_wal(tmp_path):
    """What config.sqlite_wal prevents: every request's close was the last one, and paid a checkpoint for it."""
    database = tmp_path / "db.sqlite3"
    connection = sqlite3.connect(database)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("CREATE TABLE answer (chosen TEXT)")
    connection.commit()
    assert Path(f"{database}-wal").exists()
    connection.close()
    assert not Path(f"{database}-wal").exists()


@pytest.mark.django_db
def test_an_in_memory_database_gets_no_idle_connection():
    connection = ConnectionHandler({"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}})["default"]
    connection.ensure_connection()
    try:
        assert ":memory:" not in sqlite_wal._keepers
    finally:
        connection.close()
