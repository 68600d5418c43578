"""The stream log: streams, their shards, sequence numbers, and appending records.

Appending happens inside the writer job that changes the item, so the record commits (or rolls
back) with it. Metadata lives in memory for speed and in SQLite for restarts; in-memory state is
changed only after the commit that made it true.
"""

from __future__ import annotations

import logging
import threading
import zlib
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import partial
from typing import Any

import orjson

from headwater.clock import Clock
from headwater.model.keys import encode_key
from headwater.storage import rows
from headwater.storage.store import Store, Txn
from headwater.streams import ids
from headwater.streams.notify import ShardNotifier
from headwater.streams.records import build_record
from headwater.streams.tail import RecentRecords


@dataclass(frozen=True)
class StreamInfo:
    arn: str
    region: str
    account: str
    table_name: str
    label: str
    view_type: str
    status: str
    created: float
    key_schema: tuple[tuple[str, str], ...]
    lanes: int = 1  # open shards at a time; a partition key always maps to the same lane

    def to_json(self) -> bytes:
        return orjson.dumps(
            {
                "region": self.region,
                "account": self.account,
                "table_name": self.table_name,
                "label": self.label,
                "view_type": self.view_type,
                "status": self.status,
                "created": self.created,
                "key_schema": [list(k) for k in self.key_schema],
                "lanes": self.lanes,
            }
        )

    @classmethod
    def from_json(cls, arn: str, data: bytes) -> StreamInfo:
        d = orjson.loads(data)
        return cls(
            arn=arn,
            region=d["region"],
            account=d["account"],
            table_name=d["table_name"],
            label=d["label"],
            view_type=d["view_type"],
            status=d["status"],
            created=d["created"],
            key_schema=tuple((k[0], k[1]) for k in d["key_schema"]),
            lanes=d.get("lanes", 1),
        )


@dataclass(frozen=True)
class ShardInfo:
    shard_key: int
    stream_arn: str
    shard_id: str
    start_seq: int
    end_seq: int | None
    parent_shard_id: str | None
    created: float
    trimmed_seq: int = 0  # every record with seq <= this is gone (retention)
    lane: int = 0

    @property
    def is_open(self) -> bool:
        return self.end_seq is None


def partition_hash(value: Any) -> int:
    """The hash a partition key's value (an AttributeValue) is spread by: a stream's shards, a
    mapping's ParallelizationFactor lanes and the notifier's per-lane wake-ups all use it, so
    they agree on where a record belongs."""
    return zlib.crc32(encode_key(value))


def lane_of(keys: dict[str, Any], info: StreamInfo) -> int:
    """Which lane (open shard) an item's records go to: by its partition key, so one item's
    records always share a shard and keep their order."""
    return partition_hash(keys[info.key_schema[0][0]]) % info.lanes


class StreamLog:
    def __init__(
        self, store: Store, clock: Clock, notifier: ShardNotifier, shards_per_stream: int = 1
    ) -> None:
        self.store = store
        self.clock = clock
        self.notifier = notifier
        self.shards_per_stream = max(1, shards_per_stream)
        self._listeners: list[Callable[[str], None]] = []
        self._lock = threading.Lock()
        self._streams: dict[str, StreamInfo] = {}
        self._shards: dict[str, list[ShardInfo]] = {}
        self._next_seq = 1  # touched only by the writer thread (and at load)
        self.recent = RecentRecords()

    # -- start-up ------------------------------------------------------------------------

    def load(self) -> None:
        def read(conn: Any) -> None:
            for arn, definition in rows.load_streams(conn):
                self._streams[arn] = StreamInfo.from_json(arn, definition)
            for key, arn, shard_id, start, end, parent, created, trimmed, lane in rows.load_shards(
                conn
            ):
                self._shards.setdefault(arn, []).append(
                    ShardInfo(key, arn, shard_id, start, end, parent, created, trimmed, lane)
                )
                _low, high = rows.shard_bounds(conn, key)
                if high is not None:
                    self.notifier.published(key, high)
            self._next_seq = rows.max_sequence(conn) + 1

        self.store.startup_read(read)

    # -- lookups -------------------------------------------------------------------------

    def stream(self, arn: str) -> StreamInfo | None:
        return self._streams.get(arn)

    def streams(self) -> list[StreamInfo]:
        with self._lock:
            return sorted(self._streams.values(), key=lambda s: (s.created, s.arn))

    def shards(self, arn: str) -> list[ShardInfo]:
        with self._lock:
            return list(self._shards.get(arn, ()))

    def shard(self, arn: str, shard_id: str) -> ShardInfo | None:
        for shard in self.shards(arn):
            if shard.shard_id == shard_id:
                return shard
        return None

    def open_shard(self, arn: str) -> ShardInfo | None:
        for shard in self.shards(arn):
            if shard.is_open:
                return shard
        return None

    # -- changes (called inside writer jobs) ---------------------------------------------

    def _allocate(self) -> int:
        seq = self._next_seq
        self._next_seq += 1
        return seq

    def create_stream(
        self,
        txn: Txn,
        *,
        region: str,
        account: str,
        table_name: str,
        view_type: str,
        key_schema: tuple[tuple[str, str], ...],
    ) -> StreamInfo:
        now = self.clock.time()
        label = ids.stream_label(now)
        arn = ids.stream_arn(region, account, table_name, label)
        while arn in self._streams:  # two enables within one millisecond
            now += 0.001
            label = ids.stream_label(now)
            arn = ids.stream_arn(region, account, table_name, label)
        lanes = self.shards_per_stream
        info = StreamInfo(
            arn, region, account, table_name, label, view_type, "ENABLED", now, key_schema, lanes
        )
        rows.upsert_stream(txn.conn, arn, region, table_name, info.to_json())
        shards = [self._new_shard(txn, arn, None, lane, now) for lane in range(lanes)]

        def publish() -> None:
            with self._lock:
                self._streams[arn] = info
                self._shards[arn] = shards
            self._changed(arn)

        txn.after_commit(publish)
        return info

    def _new_shard(
        self, txn: Txn, arn: str, parent: str | None, lane: int, now: float
    ) -> ShardInfo:
        start = self._allocate()
        shard_id = ids.shard_id(now)
        key = rows.insert_shard(txn.conn, arn, shard_id, start, parent, now, lane)
        return ShardInfo(key, arn, shard_id, start, None, parent, now, 0, lane)

    def _close(self, txn: Txn, shard: ShardInfo) -> ShardInfo:
        last = rows.shard_bounds(txn.conn, shard.shard_key)[1]
        end = last if last is not None else shard.start_seq
        rows.close_shard(txn.conn, shard.shard_key, end)
        return replace(shard, end_seq=end)

    def on_shards_changed(self, listener: Callable[[str], None]) -> None:
        """``listener(stream_arn)`` runs after a commit that added or closed shards."""
        self._listeners.append(listener)

    def _changed(self, arn: str) -> None:
        for listener in list(self._listeners):
            try:
                listener(arn)
            except Exception:
                logging.getLogger("headwater.streams").exception("shard listener failed")

    def resize(self, lanes: int) -> int:
        """Apply a changed shard count to existing streams. A one-shard stream is split: its
        shard closes and ``lanes`` children name it as their parent, so consumers that follow
        lineage keep per-key order. Streams with several shards keep their count (DynamoDB
        Streams lineage has one parent per shard, so shards cannot be merged). Returns how many
        streams were split."""
        split = 0
        for info in self.streams():
            if info.status != "ENABLED" or info.lanes != 1 or lanes <= 1:
                continue
            open_shards = [s for s in self.shards(info.arn) if s.is_open]
            if len(open_shards) == 1:
                self.store.write(partial(self._split, info, open_shards[0], lanes))
                split += 1
        return split

    def _split(self, info: StreamInfo, shard: ShardInfo, lanes: int, txn: Txn) -> None:
        now = self.clock.time()
        closed = self._close(txn, shard)
        children = [
            self._new_shard(txn, info.arn, shard.shard_id, lane, now) for lane in range(lanes)
        ]
        resized = replace(info, lanes=lanes)
        rows.upsert_stream(txn.conn, info.arn, info.region, info.table_name, resized.to_json())

        def publish() -> None:
            with self._lock:
                self._streams[info.arn] = resized
                current = [
                    closed if s.shard_id == shard.shard_id else s
                    for s in self._shards.get(info.arn, [])
                ]
                self._shards[info.arn] = current + children
            self.notifier.wake_all()
            self._changed(info.arn)

        txn.after_commit(publish)

    def rollover(self, older_than: float) -> int:
        """Close every open shard created before ``older_than`` and open its child (AWS rolls
        shards over every ~4 hours). Returns how many shards were rolled over."""
        rolled = 0
        for info in self.streams():
            if info.status != "ENABLED":
                continue
            due = [s for s in self.shards(info.arn) if s.is_open and s.created < older_than]
            if due:
                rolled += self.store.write(partial(self._roll, info.arn, due))
        return rolled

    def _roll(self, arn: str, due: list[ShardInfo], txn: Txn) -> int:
        now = self.clock.time()
        closed = [self._close(txn, shard) for shard in due]
        children = [self._new_shard(txn, arn, s.shard_id, s.lane, now) for s in due]

        def publish() -> None:
            by_id = {s.shard_id: s for s in closed}
            with self._lock:
                current = [by_id.get(s.shard_id, s) for s in self._shards.get(arn, [])]
                self._shards[arn] = current + children
            self.notifier.wake_all()
            self._changed(arn)

        txn.after_commit(publish)
        return len(due)

    def disable_stream(self, txn: Txn, arn: str) -> None:
        """Close the stream's open shards; its records stay readable until trimmed."""
        info = self._streams.get(arn)
        if info is None or info.status == "DISABLED":
            return
        closed = [self._close(txn, shard) for shard in self.shards(arn) if shard.is_open]
        disabled = replace(info, status="DISABLED")
        rows.upsert_stream(txn.conn, arn, info.region, info.table_name, disabled.to_json())

        def publish() -> None:
            with self._lock:
                self._streams[arn] = disabled
                by_id = {s.shard_id: s for s in closed}
                self._shards[arn] = [by_id.get(s.shard_id, s) for s in self._shards.get(arn, [])]
            self.notifier.wake_all()
            self._changed(arn)

        txn.after_commit(publish)

    def append(
        self,
        txn: Txn,
        info: StreamInfo,
        *,
        name: str,
        keys: dict[str, Any],
        old: dict[str, Any] | None,
        new: dict[str, Any] | None,
        user_identity: dict[str, str] | None = None,
    ) -> int:
        # The transaction, not memory, says which shard is open: a rollover or a disable
        # earlier in the same commit group is visible to it before it is to anyone else.
        lane = lane_of(keys, info) if info.lanes > 1 else 0
        shard_key = rows.open_shard_in_lane(txn.conn, info.arn, lane)
        if shard_key is None:
            return -1
        seq = self._allocate()
        now = self.clock.time()
        record = build_record(
            name=name,
            view_type=info.view_type,
            keys=keys,
            old=old,
            new=new,
            region=info.region,
            sequence_number=ids.format_sequence(seq),
            created=now,
            event_id=ids.event_id(),
            user_identity=user_identity,
        )
        data = orjson.dumps(record)
        rows.append_record(txn.conn, shard_key, seq, now, data)

        def publish() -> None:
            self.recent.committed(shard_key, (seq, now, data))
            key_hash = None
            if self.notifier.lanes_waiting(shard_key):  # they sleep through others' records
                key_hash = partition_hash(keys[info.key_schema[0][0]])
            self.notifier.published(shard_key, seq, key_hash)

        txn.after_commit(publish)
        return seq

    # -- retention (called by the trimmer) ----------------------------------------------

    def trim(self, cutoff: float, *, chunk: int = 1000) -> int:
        """Delete records created before ``cutoff``; drop closed shards with nothing left and
        disabled streams with no shards left. Returns how many shards changed."""
        changed = 0
        for info in self.streams():
            for shard in self.shards(info.arn):
                changed += self._trim_shard(info, shard, cutoff, chunk)
            if info.status == "DISABLED" and not self.shards(info.arn) and info.created < cutoff:
                self.store.write(partial(self._forget_stream, info.arn))
        return changed

    def _trim_shard(self, info: StreamInfo, shard: ShardInfo, cutoff: float, chunk: int) -> int:
        """Trim one shard in chunks (one writer job each, so writes are never held up long)."""
        changed = 0
        current: ShardInfo | None = shard
        while current is not None:
            after = self.store.write(partial(self._trim_chunk, current, cutoff, chunk))
            if after == current:
                break
            changed = 1
            current = after
        return changed

    def _trim_chunk(
        self, shard: ShardInfo, cutoff: float, chunk: int, txn: Txn
    ) -> ShardInfo | None:
        high = rows.trim_records(txn.conn, shard.shard_key, cutoff, chunk)
        if high is not None:
            txn.after_commit(lambda: self.recent.forget(shard.shard_key))
        remaining = rows.shard_bounds(txn.conn, shard.shard_key)[1]
        if shard.end_seq is not None and remaining is None and shard.created < cutoff:
            # A closed shard whose records are all gone disappears, as on AWS.
            rows.delete_shard(txn.conn, shard.shard_key)
            txn.after_commit(lambda: self._drop_shard(shard))
            return None
        if high is None:
            return shard
        updated = replace(shard, trimmed_seq=max(shard.trimmed_seq, high))
        txn.after_commit(lambda: self._replace_shard(updated))
        return updated

    def _replace_shard(self, shard: ShardInfo) -> None:
        with self._lock:
            group = self._shards.get(shard.stream_arn, [])
            self._shards[shard.stream_arn] = [
                shard if s.shard_key == shard.shard_key else s for s in group
            ]

    def _drop_shard(self, shard: ShardInfo) -> None:
        self.recent.forget(shard.shard_key)
        with self._lock:
            group = self._shards.get(shard.stream_arn, [])
            self._shards[shard.stream_arn] = [s for s in group if s.shard_key != shard.shard_key]

    def _forget_stream(self, arn: str, txn: Txn) -> None:
        rows.delete_stream(txn.conn, arn)

        def forget() -> None:
            for shard in self.shards(arn):
                self.recent.forget(shard.shard_key)
            with self._lock:
                self._streams.pop(arn, None)
                self._shards.pop(arn, None)

        txn.after_commit(forget)

    # -- reads ---------------------------------------------------------------------------

    def read(self, shard_key: int, from_seq: int, limit: int) -> list[tuple[int, float, bytes]]:
        recent = self.recent.read(shard_key, from_seq, limit)
        if recent is not None:
            return recent
        return self.store.read(lambda conn: rows.read_records(conn, shard_key, from_seq, limit))

    def latest_seq(self, shard: ShardInfo) -> int:
        """The newest committed sequence number in the shard (start - 1 when empty)."""
        latest = self.notifier.latest(shard.shard_key)
        return latest if latest >= shard.start_seq else shard.start_seq - 1
