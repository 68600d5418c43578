"""Waking stream readers when a commit adds records (push, not poll).

The writer calls :meth:`ShardNotifier.published` after each commit for every shard that grew;
readers block in :meth:`ShardNotifier.wait` until their shard has a record past their position,
until someone calls :meth:`wake_all` (a mapping changed, the server stops), or until a deadline.

Only the readers of the shard that grew are woken, not every reader in the server, and a lane
of a ParallelizationFactor mapping (``lane=(i, n)``) only for records of its own lane: the
publisher passes the hash of the record's partition key (the same hash the lanes sort records
by, ``mapping/lanes.py``), and a lane sleeps through its neighbours' records. Each wait has a
condition of its own over one shared lock, so a publish wakes exactly the waiters it concerns.
While lanes wait on a shard, its recent publishes are remembered with their hashes, so a
lane's condition is decided from what was published, never from what a wake-up happened to
carry; when that memory does not reach back to a lane's position (or a record came without a
hash), the lane is woken anyway and reads for itself: a wake-up too many, never one too few.
The same happens once a lane has slept through more records than are remembered, so a quiet
lane's saved position trails its shard by at most that many records.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable
from typing import Final

Lane = tuple[int, int]  # (lane, lanes): this lane of a shard's ``lanes``
WHOLE_SHARD: Final[Lane] = (0, 1)
HISTORY: Final = 256  # publishes remembered per shard, with their partition-key hashes


def _may_belong(key_hash: int | None, lane: int, lanes: int) -> bool:
    """Whether a record may be the lane's (no hash: it may be anyone's)."""
    return key_hash is None or key_hash % lanes == lane


class _Waiter:
    __slots__ = ("after_seq", "cond", "lane", "lanes")

    def __init__(self, cond: threading.Condition, after_seq: int, lane: Lane) -> None:
        self.cond = cond
        self.after_seq = after_seq
        self.lane, self.lanes = lane

    def wants(self, key_hash: int | None) -> bool:
        return self.lanes == 1 or _may_belong(key_hash, self.lane, self.lanes)


class _Recent:
    """One shard's latest publishes: (seq, partition-key hash or None)."""

    __slots__ = ("dropped", "entries")

    def __init__(self) -> None:
        self.entries: deque[tuple[int, int | None]] = deque()
        self.dropped = -1  # the highest seq forgotten so far

    def add(self, seq: int, key_hash: int | None) -> None:
        self.entries.append((seq, key_hash))
        if len(self.entries) > HISTORY:
            self.dropped = max(self.dropped, self.entries.popleft()[0])

    def forget(self, seq: int) -> None:
        """Nobody waits by lane: remember only how far the shard went."""
        self.entries.clear()
        self.dropped = max(self.dropped, seq)

    def has_for(self, after_seq: int, lane: int, lanes: int) -> bool:
        """Whether a record past ``after_seq`` may belong to the lane (True when unsure)."""
        if self.dropped > after_seq:
            return True
        for seq, key_hash in reversed(self.entries):
            if seq <= after_seq:
                break
            if _may_belong(key_hash, lane, lanes):
                return True
        return False


class ShardNotifier:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._latest: dict[int, int] = {}
        self._recent: dict[int, _Recent] = {}
        self._waiters: dict[int, list[_Waiter]] = {}
        self._lane_waiters: dict[int, int] = {}  # shard → waiters of one lane among several
        self._generation = 0

    def latest(self, shard_key: int) -> int:
        return self._latest.get(shard_key, -1)

    def lanes_waiting(self, shard_key: int) -> bool:
        """Whether a lane of a ParallelizationFactor mapping waits on the shard (then a publisher
        should pass the record's partition-key hash). A read without the lock: a lane that
        starts waiting just after is woken by the record anyway (no hash: every lane)."""
        return self._lane_waiters.get(shard_key, 0) > 0

    def published(self, shard_key: int, seq: int, key_hash: int | None = None) -> None:
        with self._lock:
            if seq > self._latest.get(shard_key, -1):
                self._latest[shard_key] = seq
            recent = self._recent.get(shard_key)
            if recent is None:
                recent = self._recent[shard_key] = _Recent()
            if self._lane_waiters.get(shard_key, 0) > 0:
                recent.add(seq, key_hash)
            else:  # no lane waits: nothing to remember but the shard's end (memory stays small)
                recent.forget(seq)
            for waiter in self._waiters.get(shard_key, ()):
                # A lane that slept through more records than are remembered is woken too:
                # it reads past them and saves its position, so positions stay recent.
                if waiter.wants(key_hash) or recent.dropped > waiter.after_seq:
                    waiter.cond.notify()

    def wake_all(self) -> None:
        with self._lock:
            self._generation += 1
            for waiters in self._waiters.values():
                for waiter in waiters:
                    waiter.cond.notify()

    def _has_new(self, shard_key: int, after_seq: int, lane: Lane) -> bool:
        if self._latest.get(shard_key, -1) <= after_seq:
            return False
        index, lanes = lane
        if lanes == 1:
            return True
        recent = self._recent.get(shard_key)
        return recent is None or recent.has_for(after_seq, index, lanes)

    def wait(
        self,
        shard_key: int,
        after_seq: int,
        timeout: float | None,
        cancelled: Callable[[], bool] = lambda: False,
        lane: Lane = WHOLE_SHARD,
    ) -> bool:
        """Block until ``shard_key`` has a record with seq > ``after_seq`` (of ``lane``, for a
        lane of several), ``cancelled()`` turns true (checked under the lock, so a stop is never
        missed), someone calls ``wake_all``, or the timeout passes. True when there is a new
        record (for the lane: possibly, see the module's text)."""
        with self._lock:
            generation = self._generation

            def ready() -> bool:
                return (
                    self._has_new(shard_key, after_seq, lane)
                    or self._generation != generation
                    or cancelled()
                )

            if not ready():
                waiter = _Waiter(threading.Condition(self._lock), after_seq, lane)
                waiters = self._waiters.setdefault(shard_key, [])
                waiters.append(waiter)
                several = lane[1] > 1
                if several:
                    self._lane_waiters[shard_key] = self._lane_waiters.get(shard_key, 0) + 1
                try:
                    waiter.cond.wait_for(ready, timeout)
                finally:
                    waiters.remove(waiter)
                    if not waiters:
                        del self._waiters[shard_key]
                    if several:
                        self._lane_waiters[shard_key] -= 1
            return self._has_new(shard_key, after_seq, lane)
