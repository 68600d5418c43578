"""ParallelizationFactor: the lanes of a shard, and one scan of the shard that feeds them all.

With ParallelizationFactor N a shard has N lane pollers. A record belongs to the lane its
partition key hashes to (``lane_of_record``), as on AWS, so the records of one partition key
(every item in it, whatever its sort key) go to the same lane and keep their order there.
Each lane keeps its own durable position (``lane_key``): every record of the
lane up to it has been processed; the records of other lanes in between are not its business.

A lane must not read and parse the whole shard for itself: that would multiply the work by N.
``ShardLanes`` is shared by the lane pollers of one (mapping, shard). It reads the shard once,
works out each record's lane once, and keeps each lane's records until that lane has read past
them. A lane that falls behind (its handler keeps failing, say) has its oldest records dropped
from memory once they pass a byte limit; it then reads that stretch from the log by itself,
which is slower but gives the same records. So memory is bounded and the answer to a read never
depends on what is in memory.
"""

from __future__ import annotations

import threading
from collections import deque
from typing import Final

import orjson

from headwater.streams.log import StreamLog, partition_hash

Row = tuple[int, float, bytes]
Rows = list[Row]

MAX_BATCH_BYTES: Final = 6 * 1024 * 1024  # one invocation's payload
ROW_OVERHEAD: Final = 100  # bytes counted per record besides its JSON (the event's framing)
MAX_LANE_BYTES: Final = 8 * 1024 * 1024  # records kept in memory for one lane, at most
MIN_CHUNK: Final = 100  # records read from the log at a time, at least


def lane_key(shard_id: str, lane: int, lanes: int) -> str:
    """Where a lane keeps its position (the shard id itself when there is one lane). The
    ``pk`` marks lanes chosen by partition key: positions saved under an older choice (the
    whole item key, ``shard#i/n``) do not belong to these lanes (see ``lane_starts``)."""
    return shard_id if lanes == 1 else f"{shard_id}#pk{lane}/{lanes}"


def lane_of_record(record: bytes, lanes: int, hash_name: str) -> int:
    """The lane a stream record (its stored JSON) belongs to: by its partition key's value
    (``hash_name``), in the same canonical byte form the table stores keys in."""
    keys = orjson.loads(record)["dynamodb"]["Keys"]
    return partition_hash(keys[hash_name]) % lanes


def lane_starts(
    checkpoints: dict[str, int], shard_id: str, lanes: int
) -> tuple[list[int | None], dict[str, int]]:
    """Where each of a shard's ``lanes`` lanes resumes: its own saved position, else the lowest
    position saved for that shard under any other setting (a ParallelizationFactor changed,
    or the position a mapping at LATEST was created with), else None (the shard's start).

    The lowest is the one safe choice: under the old setting, every record up to it was done
    by every lane; the records between it and an old lane's position are delivered again
    (at-least-once), none is skipped. Also returns those other positions (key → position):
    once the new lanes have positions of their own, they can go."""
    own = [lane_key(shard_id, lane, lanes) for lane in range(lanes)]
    others = {
        key: seq
        for key, seq in checkpoints.items()
        if (key == shard_id or key.startswith(shard_id + "#")) and key not in own
    }
    fallback = min(others.values()) if others else None
    return [checkpoints.get(key, fallback) for key in own], others


class _Batch:
    """A lane's records being gathered for one read: up to ``limit`` of them, and no more once
    they pass MAX_BATCH_BYTES (the record that passes it is kept, so the caller can tell)."""

    __slots__ = ("full", "limit", "rows", "size")

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.rows: Rows = []
        self.size = 0
        self.full = limit <= 0

    def add(self, row: Row) -> None:
        self.rows.append(row)
        self.size += len(row[2]) + ROW_OVERHEAD
        self.full = len(self.rows) >= self.limit or self.size > MAX_BATCH_BYTES


class ShardLanes:
    """One shard's records sorted into ``lanes`` lanes, for the lane pollers that share it.

    Invariant: every record of lane ``i`` with a sequence number in ``[base[i], frontier)`` is
    in ``buffers[i]``, in order (and nothing below ``frontier`` is unsorted). Reads never remove
    records a lane has not read past, so a lane can read the same stretch again (a batching
    window does).
    """

    def __init__(self, log: StreamLog, shard_key: int, lanes: int, hash_name: str) -> None:
        self._log = log
        self.shard_key = shard_key
        self.lanes = lanes
        self.hash_name = hash_name
        self.max_lane_bytes = MAX_LANE_BYTES
        self._lock = threading.Lock()
        self._frontier: int | None = None  # set by the first read
        self._base = [0] * lanes
        self._buffers: list[deque[Row]] = [deque() for _ in range(lanes)]
        self._bytes = [0] * lanes

    def read(self, lane: int, from_seq: int, limit: int) -> tuple[Rows, int]:
        """Lane ``lane``'s records with ``seq >= from_seq``, in order: at most ``limit`` of them,
        ending early after the one that takes them past 6 MB. Also returns how far the read
        looked: every record of the lane with a sequence number from ``from_seq`` up to it is
        in the list (it is at least ``from_seq - 1``, and past the list's end when the other
        lanes' records came after it)."""
        batch = _Batch(limit)
        budget = max(limit, MIN_CHUNK) * self.lanes * 4  # log records one read may look at
        with self._lock:
            if self._frontier is None:
                self._frontier = from_seq
                self._base = [from_seq] * self.lanes
            if from_seq > self._frontier:
                # Ahead of the shared scan (lanes resumed from different positions): alone.
                return batch.rows, self._alone(lane, from_seq, None, batch, budget)
            seq = from_seq
            base = self._base[lane]
            if seq < base:
                # Behind what memory holds for it: that stretch comes from the log.
                looked = self._alone(lane, seq, base, batch, budget)
                if looked < base - 1:
                    return batch.rows, looked
                seq = base
            buffer = self._buffers[lane]
            while buffer and buffer[0][0] < seq:  # read past: no longer needed
                self._bytes[lane] -= len(buffer.popleft()[2]) + ROW_OVERHEAD
            for row in buffer:
                if batch.full:
                    return batch.rows, batch.rows[-1][0]
                batch.add(row)
            self._scan(lane, batch, budget)
            if batch.full:
                return batch.rows, batch.rows[-1][0]
            return batch.rows, self._frontier - 1

    def _scan(self, lane: int, batch: _Batch, budget: int) -> None:
        """Read on from the frontier, sorting records into every lane's buffer, until ``lane``
        has a full batch, the log has no more, or ``budget`` records were read."""
        assert self._frontier is not None
        chunk_size = max(batch.limit, MIN_CHUNK)
        buffers, sizes, lanes = self._buffers, self._bytes, self.lanes
        hash_name = self.hash_name
        while not batch.full and budget > 0:
            chunk = self._log.read(self.shard_key, self._frontier, chunk_size)
            for row in chunk:
                record = row[2]
                owner = lane_of_record(record, lanes, hash_name)
                buffers[owner].append(row)
                sizes[owner] += len(record) + ROW_OVERHEAD
                if owner == lane and not batch.full:
                    batch.add(row)
            if chunk:
                self._frontier = chunk[-1][0] + 1
                self._bound()
            if len(chunk) < chunk_size:
                return
            budget -= len(chunk)

    def _bound(self) -> None:
        """Keep each lane's buffer under the byte limit by dropping its oldest records; the
        lane reads those from the log if it still needs them."""
        for lane, buffer in enumerate(self._buffers):
            while self._bytes[lane] > self.max_lane_bytes and buffer:
                row = buffer.popleft()
                self._bytes[lane] -= len(row[2]) + ROW_OVERHEAD
                self._base[lane] = row[0] + 1

    def _alone(self, lane: int, seq: int, stop: int | None, batch: _Batch, budget: int) -> int:
        """Gather ``lane``'s records from the log itself, from ``seq`` up to ``stop``
        (exclusive; None: no bound). Returns the last sequence number looked at."""
        chunk_size = max(batch.limit, MIN_CHUNK)
        looked = seq - 1
        while budget > 0:
            chunk = self._log.read(self.shard_key, seq, chunk_size)
            for row in chunk:
                if stop is not None and row[0] >= stop:
                    return stop - 1
                if lane_of_record(row[2], self.lanes, self.hash_name) == lane:
                    batch.add(row)
                    if batch.full:
                        return row[0]
                looked = row[0]
            if len(chunk) < chunk_size:
                # Nothing more now. (Reaching a record at ``stop`` or past it would have shown
                # that nothing more can come below it: commits come in sequence order.)
                return looked
            seq = chunk[-1][0] + 1
            budget -= len(chunk)
        return looked
