"""Fixed-window counters in the shared cache, so sign-ups and reset mails cannot be asked for without end."""

from __future__ import annotations

import hashlib
import time

from django.core.cache import cache
from django.http import HttpRequest

WINDOW_SECONDS = 3600


def client_address(request: HttpRequest) -> str:
    """The client's IP address (config/proxy.py puts the one nginx saw in REMOTE_ADDR)."""
    return str(request.META.get("REMOTE_ADDR", ""))


def seconds_until_allowed(scope: str, key: str, limit: int, window_seconds: int = WINDOW_SECONDS) -> int:
    """Count one request for `key` in this window (an hour unless told); 0 if it is within `limit`, else the seconds
    until the next window."""
    now = time.time()
    window = int(now // window_seconds)
    digest = hashlib.sha256(key.encode()).hexdigest()[:32]  # any key (an e-mail address) makes a valid cache key
    cache_key = f"throttle:{scope}:{digest}:{window}"
    cache.add(cache_key, 0, timeout=window_seconds)
    try:
        count = cache.incr(cache_key)
    except ValueError:  # expired between add and incr: this request opens a new window
        cache.add(cache_key, 1, timeout=window_seconds)
        count = 1
    if count <= limit:
        return 0
    return max(1, int((window + 1) * window_seconds - now))


def wait_phrase(seconds: int) -> str:
    """`seconds` as the words a person reads: "in 1 minute", "in 42 minutes"."""
    minutes = max(1, -(-seconds // 60))
    return f"in {minutes} minute{'s' if minutes != 1 else ''}"
