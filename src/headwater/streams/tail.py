"""The newest records of each shard, kept in memory so readers that keep up skip the database.

A poller that keeps pace with its shard asks, every time a commit wakes it, for the records
just written. Those are in memory already (the writer built them), so the stream log remembers
each shard's newest records as their commits complete and answers such reads from here.

Correctness rests on commit order: the single writer commits sequence numbers in increasing
order and runs after-commit callbacks in that order, so a shard's cached records are always
one unbroken run ``(floor, newest]`` of what the database holds. ``floor`` is the highest
sequence number that may be missing here (records from before the cache started, or evicted).
A read that starts above ``floor`` is answered from memory, completely; any other read goes to
the database. A record whose commit finished but whose callback has not yet run is missing
from both the answer and the notifier, and the callback that adds it also wakes the reader.
"""

from __future__ import annotations

import threading
from collections import deque

Row = tuple[int, float, bytes]

MAX_RECORDS = 1024  # per shard
MAX_BYTES = 2 * 1024 * 1024  # per shard


class _Shard:
    __slots__ = ("bytes", "floor", "rows")

    def __init__(self, floor: int) -> None:
        self.floor = floor
        self.rows: deque[Row] = deque()
        self.bytes = 0


class RecentRecords:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._shards: dict[int, _Shard] = {}

    def committed(self, shard_key: int, row: Row) -> None:
        """A record's commit is done (called in commit order, from the writer thread)."""
        with self._lock:
            shard = self._shards.get(shard_key)
            if shard is None:
                shard = self._shards[shard_key] = _Shard(row[0] - 1)
            shard.rows.append(row)
            shard.bytes += len(row[2])
            while len(shard.rows) > MAX_RECORDS or shard.bytes > MAX_BYTES:
                seq, _created, record = shard.rows.popleft()
                shard.bytes -= len(record)
                shard.floor = seq

    def read(self, shard_key: int, from_seq: int, limit: int) -> list[Row] | None:
        """Records with ``seq >= from_seq`` (at most ``limit``), or None when memory cannot
        answer completely (the caller reads the database)."""
        with self._lock:
            shard = self._shards.get(shard_key)
            if shard is None or from_seq <= shard.floor:
                return None
            rows = shard.rows
            if not rows or rows[-1][0] < from_seq:
                return []
            # Few records are usually left to read: walk back from the newest end.
            start = len(rows)
            while start > 0 and rows[start - 1][0] >= from_seq:
                start -= 1
            end = min(len(rows), start + limit)
            return [rows[i] for i in range(start, end)]

    def forget(self, shard_key: int) -> None:
        """Records of the shard were deleted (retention): memory must not outlive them."""
        with self._lock:
            self._shards.pop(shard_key, None)
