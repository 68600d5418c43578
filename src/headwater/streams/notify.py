"""Waking stream readers when a commit adds records (push, not poll).

The writer calls :meth:`ShardNotifier.published` after each commit for every shard that grew;
readers block in :meth:`ShardNotifier.wait` until their shard has a record past their position,
until someone calls :meth:`wake_all` (a mapping changed, the server stops), or until a deadline.
"""

from __future__ import annotations

import threading
from collections.abc import Callable


class ShardNotifier:
    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._latest: dict[int, int] = {}
        self._generation = 0

    def latest(self, shard_key: int) -> int:
        return self._latest.get(shard_key, -1)

    def published(self, shard_key: int, seq: int) -> None:
        with self._cond:
            if seq > self._latest.get(shard_key, -1):
                self._latest[shard_key] = seq
            self._cond.notify_all()

    def wake_all(self) -> None:
        with self._cond:
            self._generation += 1
            self._cond.notify_all()

    def wait(
        self,
        shard_key: int,
        after_seq: int,
        timeout: float | None,
        cancelled: Callable[[], bool] = lambda: False,
    ) -> bool:
        """Block until ``shard_key`` has a record with seq > ``after_seq``, ``cancelled()`` turns
        true (checked under the lock, so a stop is never missed), someone calls ``wake_all``, or
        the timeout passes. True when there is a new record."""
        with self._cond:
            generation = self._generation
            self._cond.wait_for(
                lambda: (
                    self._latest.get(shard_key, -1) > after_seq
                    or self._generation != generation
                    or cancelled()
                ),
                timeout,
            )
            return self._latest.get(shard_key, -1) > after_seq
