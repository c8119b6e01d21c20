"""Redis addresses derived from REDIS_URL, without Django: settings and the benchmarks both need them."""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit


def next_redis_database(url: str) -> str:
    """The same Redis server's next database (redis://h:6379/0 -> /1): the cache's, so clearing it spares the layer."""
    parts = urlsplit(url)
    number = int(parts.path.strip("/") or 0)
    return urlunsplit(parts._replace(path=f"/{number + 1}"))
