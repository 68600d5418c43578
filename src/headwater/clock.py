"""One clock for everything time-based.

Engine code never calls ``time.time()`` directly: it asks the injected :class:`Clock`. The
server's clock is the system clock plus an offset that tests can move forward (``advance``),
so "24 hours later" takes microseconds. Waiters that sleep until a deadline register a
callback with :meth:`Clock.on_advance` so a jump wakes them at once.
"""

from __future__ import annotations

import heapq
import logging
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


class Timers:
    """Run callbacks at emulated times: "this table becomes ACTIVE 20 seconds from now".

    One daemon thread sleeps on a condition until the earliest due time and is woken early by
    a new timer or by the clock moving forward, so ``Clock.advance`` fires due timers at once.
    """

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._cond = threading.Condition()
        self._due: list[tuple[float, int, Callable[[], None]]] = []
        self._counter = 0
        self._stopped = False
        self._thread: threading.Thread | None = None
        clock.on_advance(self._poke)

    def call_at(self, when: float, callback: Callable[[], None]) -> None:
        with self._cond:
            if self._stopped:
                return
            self._counter += 1
            heapq.heappush(self._due, (when, self._counter, callback))
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="headwater-timers", daemon=True
                )
                self._thread.start()
            self._cond.notify_all()

    def call_later(self, seconds: float, callback: Callable[[], None]) -> None:
        self.call_at(self._clock.time() + seconds, callback)

    def _poke(self) -> None:
        with self._cond:
            self._cond.notify_all()

    def stop(self) -> None:
        self._clock.remove_listener(self._poke)
        with self._cond:
            self._stopped = True
            self._due.clear()
            self._cond.notify_all()
            thread = self._thread
        if thread is not None:
            thread.join(timeout=10)

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._stopped:
                    now = self._clock.time()
                    if self._due and self._due[0][0] <= now:
                        break
                    timeout = self._due[0][0] - now if self._due else None
                    self._cond.wait(timeout)
                if self._stopped:
                    return
                _when, _n, callback = heapq.heappop(self._due)
            try:
                callback()
            except Exception:
                logging.getLogger("headwater").exception("a timer callback failed")
