"""One clock for everything time-based.

Engine code never calls ``time.time()`` directly: it asks the injected :class:`Clock`. The
server's clock is the system clock plus an offset that tests can move forward (``advance``),
so "24 hours later" takes microseconds. Waiters that sleep until a deadline register a
callback with :meth:`Clock.on_advance` so a jump wakes them at once.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class Clock:
    """Wall-clock time (epoch seconds) with a movable offset."""

    def __init__(self, offset: float = 0.0) -> None:
        self._offset = offset
        self._lock = threading.Lock()
        self._listeners: list[Callable[[], None]] = []

    def time(self) -> float:
        """Seconds since the epoch, as the emulated world sees them."""
        return time.time() + self._offset

    def time_ms(self) -> int:
        return int(self.time() * 1000)

    @property
    def offset(self) -> float:
        return self._offset

    def advance(self, seconds: float) -> float:
        """Move emulated time forward; wakes every registered waiter. Returns the new offset."""
        if seconds < 0:
            raise ValueError("the clock only moves forward")
        with self._lock:
            self._offset += seconds
            listeners = list(self._listeners)
        for listener in listeners:
            listener()
        return self._offset

    def on_advance(self, listener: Callable[[], None]) -> None:
        with self._lock:
            self._listeners.append(listener)

    def remove_listener(self, listener: Callable[[], None]) -> None:
        with self._lock:
            if listener in self._listeners:
                self._listeners.remove(listener)


SYSTEM_CLOCK = Clock()
