"""One idle SQLite connection per process, so closing a request's connection never checkpoints and drops the WAL.

Every request opens its own connection and closes it at the end (CONN_MAX_AGE 0: Daphne's threads come and go). When
the last connection to a WAL database closes, SQLite checkpoints the whole log into the database (an fsync), deletes
it, and the next request creates it again: about 8-16 ms of a quiz answer on a quiet disk, 28 ms on a loaded one, most
of the time the answer took (bench/request_profile_RESULTS.md, "quiz answer POST, new connection"). A connection
that stays open and idle (it has read the schema once, so SQLite has opened the file, the log and its index, and holds
no transaction) means the request's close is never the last one; SQLite still checkpoints as the log fills
(wal_autocheckpoint), on a commit, and once more when the process exits.
"""

from __future__ import annotations

import sqlite3
import threading
from typing import Any

_keepers: dict[str, sqlite3.Connection] = {}
_lock = threading.Lock()


def keep_wal_open(path: str) -> None:
    """Open this process's idle connection to the database file at `path`, once."""
    with _lock:
        if path in _keepers:
            return
        keeper = sqlite3.connect(path, check_same_thread=False)
        keeper.execute("SELECT count(*) FROM sqlite_master").fetchall()  # opens the file, the WAL and its index
        _keepers[path] = keeper


def keep_wal_of_new_connection(sender: Any, connection: Any, **kwargs: Any) -> None:
    """Receiver of connection_created: a file-backed SQLite database gets its process's idle connection."""
    if connection.vendor != "sqlite" or connection.is_in_memory_db():
        return
    keep_wal_open(str(connection.settings_dict["NAME"]))
