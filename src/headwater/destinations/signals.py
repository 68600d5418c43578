"""Wake-ups for long polls: "something changed in this queue" after a commit.

Listeners are plain callables run on the committing thread (the writer's after-commit step, or
a clock advance); the API layer's listener hands the news to its event loop thread-safely, so
nothing here knows about asyncio. A listener must be quick and must not raise.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Hashable

log = logging.getLogger("headwater.destinations")

Listener = Callable[[], None]


class Signals:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._listeners: dict[Hashable, list[Listener]] = {}

    def subscribe(self, key: Hashable, listener: Listener) -> Callable[[], None]:
        """Call ``listener`` on every :meth:`notify` of ``key``; returns the unsubscribe."""
        with self._lock:
            self._listeners.setdefault(key, []).append(listener)

        def unsubscribe() -> None:
            with self._lock:
                listeners = self._listeners.get(key)
                if listeners is None:
                    return
                for i, known in enumerate(listeners):
                    if known is listener:
                        del listeners[i]
                        break
                if not listeners:
                    del self._listeners[key]

        return unsubscribe

    def notify(self, key: Hashable) -> None:
        with self._lock:
            listeners = list(self._listeners.get(key, ()))
        for listener in listeners:
            try:
                listener()
            except Exception:
                log.exception("queue listener failed")

    def waiting(self, key: Hashable) -> int:
        with self._lock:
            return len(self._listeners.get(key, ()))
