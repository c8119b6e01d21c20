"""Inside the sandbox: notices a handler that holds the event loop (time.sleep, a long loop) and where it stood."""

from __future__ import annotations

import asyncio
import os
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

from .tracing import HARNESS_DIRS

BLOCKING_THRESHOLD_SECONDS = 0.1  # a handler that runs this long without awaiting gets a note
TICK_SECONDS = 0.025  # how often the loop beats (and the watcher looks) while a handler runs
SAMPLE_AFTER_SECONDS = BLOCKING_THRESHOLD_SECONDS / 2  # a late beat this late: note where the loop thread stands
HELD_NOTICE_SECONDS = 1.0  # a hold this long is reported while it lasts (an endless loop, a long sleep)

# (consumer or None, method, line, seconds the loop was held)
Report = Callable[[Any, "str | None", "int | None", float], None]


class LagMonitor:
    """Beats on the loop while a handler runs; a watcher thread samples late beats to report the holding line."""

    def __init__(self, filename: str, running: Callable[[], bool], report: Report, still_held: Report) -> None:
        self.filename = filename
        self.running = running  # is some handler running (not held by pause)?
        self.report = report  # a hold that has ended, from the loop
        self.still_held = still_held  # a hold still going on, from the watcher thread
        self.noticed = -1.0  # the `expected` whose ongoing hold was already reported by the watcher
        self.loop_thread = threading.get_ident()
        self.beating = False
        self.expected = 0.0  # monotonic time of the next beat
        self.reported = -1.0  # the `expected` whose hold was already reported
        self.sample: tuple[float, Any, str | None, int | None] | None = None
        self.armed = threading.Event()
        self.thread: threading.Thread | None = None
        self.broken = False  # the watcher thread could not start (e.g. the process limit)

    def arm(self) -> None:
        """A handler started: beat until no handler runs (the watcher thread starts on first use)."""
        if self.beating:
            return
        self.beating = True
        self.expected = time.monotonic() + TICK_SECONDS
        asyncio.get_running_loop().call_later(TICK_SECONDS, self.beat)
        self.armed.set()
        if self.thread is None and not self.broken:
            try:
                self.thread = threading.Thread(target=self.watch, name="playground-lag", daemon=True)
                self.thread.start()
            except RuntimeError:  # can't start new thread: keep beating, report without a line
                self.broken = True

    def catch_up(self) -> None:
        """Report a hold that just ended before the handler's next Channels call, so the note precedes its row."""
        if self.beating and self.reported != self.expected:
            late = time.monotonic() - self.expected
            sample = self.sample
            if late < BLOCKING_THRESHOLD_SECONDS:
                return
            held = late + TICK_SECONDS  # the loop last ran a beat one tick before it was expected again
            self.reported = self.expected
            if sample is not None and sample[0] == self.expected:
                self.report(sample[1], sample[2], sample[3], held)
            elif self.broken:
                self.report(None, None, None, held)

    def beat(self) -> None:
        """On the loop: how late is this beat? Report a long hold, then beat again while handlers run."""
        self.catch_up()
        now = time.monotonic()
        self.sample = None
        if self.running():
            self.expected = now + TICK_SECONDS
            asyncio.get_running_loop().call_later(TICK_SECONDS, self.beat)
        else:
            self.beating = False
            self.armed.clear()

    def watch(self) -> None:
        """Watcher thread: while armed, look at the loop thread's stack whenever a beat is overdue."""
        while True:
            self.armed.wait()
            time.sleep(TICK_SECONDS)
            expected = self.expected
            if not self.beating or time.monotonic() - expected < SAMPLE_AFTER_SECONDS:
                continue
            if self.sample is None or self.sample[0] != expected:
                found = self.where()
                if found is not None:
                    self.sample = (expected, *found)
            late = time.monotonic() - expected
            sample = self.sample
            if (
                late >= HELD_NOTICE_SECONDS
                and self.noticed != expected
                and sample is not None
                and sample[0] == expected
            ):
                self.noticed = expected
                self.still_held(sample[1], sample[2], sample[3], late + TICK_SECONDS)

    def holding(self) -> tuple[Any, str | None, int | None, float] | None:
        """From any thread: (consumer, method, line, seconds) of a handler holding the loop right now, else None."""
        expected = self.expected
        late = time.monotonic() - expected
        if not self.beating or late < BLOCKING_THRESHOLD_SECONDS:
            return None
        sample = self.sample
        found = sample[1:] if sample is not None and sample[0] == expected else self.where()
        if found is None:
            return None
        return found[0], found[1], found[2], late + TICK_SECONDS

    def where(self) -> tuple[Any, str, int] | None:
        """(consumer, method, line) of the learner code the loop thread runs; None when the harness holds it."""
        frame = sys._current_frames().get(self.loop_thread)
        while frame is not None:
            filename = frame.f_code.co_filename
            if filename == self.filename:
                try:
                    consumer = frame.f_locals.get("self")
                except Exception:  # noqa: BLE001 - a frame that vanished mid-read: no consumer then
                    consumer = None
                return consumer, frame.f_code.co_name, frame.f_lineno
            if os.path.dirname(filename) in HARNESS_DIRS:
                return None
            frame = frame.f_back
        return None
