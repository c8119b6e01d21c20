"""Django's SQLite backend with each process's connections kept open and handed from request to request.

Under ASGI a Django connection belongs to its request's context, so one Django kept open (CONN_MAX_AGE) would be left
behind when the request ends; the site closes each request's connection instead (CONN_MAX_AGE 0). For SQLite a new
connection is a large part of a page: the file opened, Django's SQL functions and pragmas set up, the schema read again
and every statement prepared again (bench/request_profile_RESULTS.md, "new connection"). Here a closed connection goes
back to its process's pool, outside any transaction, and the next request takes it, as psycopg's pool does for
PostgreSQL. OPTIONS["pool"]["max_size"] is how many idle connections a process keeps (at least one); a request finding
none opens one. The kept connections also keep the WAL in place: when the last connection to a WAL database closes,
SQLite checkpoints the whole log into the file (an fsync) and deletes it, and a request's close was that last one every
time.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from typing import Any

from django.db.backends.sqlite3 import base

FileIdentity = tuple[int, int]


def file_identity(path: str) -> FileIdentity | None:
    """The device and inode of the database file, to tell a file replaced under the same name (a test database made
    again, a restored backup) from the one a kept connection has open."""
    try:
        status = os.stat(path)
    except OSError:
        return None
    return (status.st_dev, status.st_ino)


class ConnectionPool:
    """One database file's idle connections, the most recently used handed out first."""

    def __init__(self, path: str, max_size: int) -> None:
        self.path = path
        self.max_size = max(1, max_size)
        self.idle: list[tuple[sqlite3.Connection, FileIdentity]] = []
        self.lock = threading.Lock()

    def take(self) -> tuple[sqlite3.Connection, FileIdentity] | None:
        """An idle connection to the file now at the path, or None; a connection to a replaced file is closed."""
        current = file_identity(self.path)
        while True:
            with self.lock:
                if not self.idle:
                    return None
                connection, identity = self.idle.pop()
            if current is not None and identity == current:
                return connection, identity
            connection.close()

    def give(self, connection: sqlite3.Connection, identity: FileIdentity | None) -> bool:
        """Keep a connection a request has finished with; False if it must be closed instead (the pool is full, or
        its transaction would not roll back)."""
        if identity is None:
            return False
        try:
            if connection.in_transaction:
                connection.rollback()
        except sqlite3.Error:
            return False
        with self.lock:
            if len(self.idle) >= self.max_size:
                return False
            self.idle.append((connection, identity))
        return True


_pools: dict[str, ConnectionPool] = {}
_pools_lock = threading.Lock()


def pool_for(path: str, max_size: int) -> ConnectionPool:
    """The process's pool for one database file, made on first use."""
    with _pools_lock:
        if path not in _pools:
            _pools[path] = ConnectionPool(path, max_size)
        return _pools[path]


class DatabaseWrapper(base.DatabaseWrapper):
    """Takes its connection from the process's pool and gives it back on close; an in-memory database is not pooled
    (each connection is a database of its own)."""

    pool: ConnectionPool | None = None
    identity: FileIdentity | None = None

    def get_connection_params(self) -> dict[str, Any]:
        params: dict[str, Any] = super().get_connection_params()
        options = params.pop("pool", None) or {}
        self.pool = None if self.is_in_memory_db() else pool_for(str(params["database"]), options.get("max_size", 1))
        return params

    def get_new_connection(self, conn_params: dict[str, Any]) -> sqlite3.Connection:
        kept = self.pool.take() if self.pool is not None else None
        if kept is not None:
            connection, self.identity = kept
            connection.execute("PRAGMA foreign_keys = ON")  # as a new connection has it, whatever the last user did
            return connection
        connection = super().get_new_connection(conn_params)
        self.identity = file_identity(str(conn_params["database"]))
        return connection

    def _close(self) -> None:
        kept = (
            self.connection is not None
            and self.pool is not None
            and not self.in_atomic_block
            and self.pool.give(self.connection, self.identity)
        )
        if not kept:
            super()._close()  # type: ignore[misc]  # BaseDatabaseWrapper's, which the stubs leave out
