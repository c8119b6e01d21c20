"""One instance per running event loop: a server process's loop, or each test's own."""

from __future__ import annotations

import asyncio
import weakref
from typing import Any, ClassVar, Self


class OnePerEventLoop:
    """A process-wide helper (one task serving every socket) that must not outlive or cross its event loop."""

    _instances: ClassVar[weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Any]]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._instances = weakref.WeakKeyDictionary()  # each subclass its own

    @classmethod
    def of_this_loop(cls) -> Self:
        loop = asyncio.get_running_loop()
        instance: Self | None = cls._instances.get(loop)
        if instance is None:
            instance = cls._instances[loop] = cls()
        return instance
