"""Time to Live: the per-table setting (UpdateTimeToLive / DescribeTimeToLive) and the reaper.

An item expires when its TTL attribute is a Number of epoch seconds earlier than the clock's
now; values more than five years in the past are ignored, as on AWS, and so is an attribute of
any other type. Expired items stay readable until the reaper deletes them.

The reaper is one background thread. It sweeps every ``interval`` seconds (0 turns the timer
off) and at once whenever the clock is moved forward, so tests step time instead of waiting.
A sweep scans each TTL-enabled table on a read connection and deletes what it found in small
writer jobs; each job checks the item again (a write since the scan may have extended it) and
deletes it together with its REMOVE stream record, marked as the DynamoDB service's doing.
"""

from __future__ import annotations

import logging
import threading
from concurrent.futures import Future
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

import orjson

from headwater.clock import Clock
from headwater.errors import ResourceNotFound, ValidationError
from headwater.storage import rows, ttl_rows
from headwater.storage.store import Store, Txn
from headwater.streams.log import StreamLog
from headwater.tables import indexes
from headwater.tables.catalog import Catalog, TableInfo

log = logging.getLogger("headwater.ttl")

Item = dict[str, Any]
StorageKey = tuple[bytes, bytes]

SERVICE_IDENTITY = {"type": "Service", "principalId": "dynamodb.amazonaws.com"}
MODIFY_WINDOW = 3600.0  # a second UpdateTimeToLive within this many seconds is refused
IGNORED_AGE = 5 * 365 * 86400.0  # TTL values further in the past than this are ignored


def expiry(item: Item, attribute: str) -> Decimal | None:
    """The item's expiry time, or None when its TTL attribute is absent or not a Number."""
    value = item.get(attribute)
    if not isinstance(value, dict) or set(value) != {"N"}:
        return None
    try:
        number = Decimal(value["N"])
    except (InvalidOperation, TypeError):
        return None
    return number if number.is_finite() else None


def is_expired(item: Item, attribute: str, now: float) -> bool:
    at = expiry(item, attribute)
    if at is None:
        return False
    now_d = Decimal(repr(now))
    return now_d - Decimal(repr(IGNORED_AGE)) <= at < now_d


@dataclass(frozen=True)
class TtlSetting:
    enabled: bool
    attribute: str | None
    changed: float | None = None  # when UpdateTimeToLive last changed it (None: never)


class TimeToLive:
    def __init__(self, store: Store, catalog: Catalog, streams: StreamLog, clock: Clock) -> None:
        self.store = store
        self.catalog = catalog
        self.streams = streams
        self.clock = clock

    def install(self) -> None:
        """At start-up: the trigger that drops a deleted table's settings (storage/ttl_rows)."""
        self.store.write(lambda txn: ttl_rows.install(txn.conn))

    def _require(self, region: str, name: str) -> TableInfo:
        info = self.catalog.get(region, name)
        if info is None:
            raise ResourceNotFound(f"Requested resource not found: Table: {name} not found")
        return info

    # -- DescribeTimeToLive / UpdateTimeToLive ---------------------------------------------

    def describe(self, region: str, name: str) -> TtlSetting:
        info = self._require(region, name)
        row = self.store.read(lambda conn: ttl_rows.get_ttl(conn, info.table_id))
        if row is None:
            return TtlSetting(False, None)
        return TtlSetting(row[0], row[1], row[2])

    def update(self, region: str, name: str, *, enabled: bool, attribute: str) -> None:
        info = self._require(region, name)

        def job(txn: Txn) -> None:
            if not ttl_rows.table_matches(txn.conn, info.table_id, region, name):
                raise ResourceNotFound(f"Requested resource not found: Table: {name} not found")
            row = ttl_rows.get_ttl(txn.conn, info.table_id)
            active = row is not None and row[0]
            # What the request asks is checked before the once-an-hour rule, as AWS does.
            if row is not None and active and row[1] != attribute:
                raise ValidationError(
                    "TimeToLive is active on a different AttributeName: current AttributeName is "
                    f"{row[1]}"
                )
            if active and enabled:
                raise ValidationError("TimeToLive is already enabled")
            if not active and not enabled:
                raise ValidationError("TimeToLive is already disabled")
            now = self.clock.time()
            if row is not None and now - row[2] < MODIFY_WINDOW:
                raise ValidationError(
                    "Time to live has been modified multiple times within a fixed interval"
                )
            ttl_rows.set_ttl(
                txn.conn,
                info.table_id,
                region,
                name,
                enabled=enabled,
                attribute=attribute,
                changed=now,
            )

        self.store.write(job)

    # -- what the reaper uses ------------------------------------------------------------

    def enabled_tables(self) -> list[tuple[TableInfo, str]]:
        """Each live table with TTL enabled, with its TTL attribute."""
        found = []
        for table_id, region, name, attribute in self.store.read(ttl_rows.enabled_ttls):
            info = self.catalog.get(region, name)
            if info is not None and info.table_id == table_id:
                found.append((info, attribute))
        return found

    def expired_page(
        self, info: TableInfo, attribute: str, now: float, after: StorageKey | None, limit: int
    ) -> tuple[list[StorageKey], StorageKey | None]:
        """Keys of expired items among the next ``limit`` items after ``after``, and where to
        continue (None when the table has been read to its end)."""
        page = self.store.read(lambda conn: ttl_rows.items_after(conn, info.table_id, after, limit))
        keys = [(hk, rk) for hk, rk, raw in page if is_expired(orjson.loads(raw), attribute, now)]
        following = (page[-1][0], page[-1][1]) if len(page) == limit else None
        return keys, following

    def delete_expired(
        self, info: TableInfo, attribute: str, keys: list[StorageKey]
    ) -> Future[int]:
        """One writer job: delete those of ``keys`` whose items are still expired."""

        def job(txn: Txn) -> int:
            if not ttl_rows.table_matches(txn.conn, info.table_id, info.region, info.name):
                return 0
            row = ttl_rows.get_ttl(txn.conn, info.table_id)
            if row is None or not row[0] or row[1] != attribute:
                return 0  # disabled (or moved to another attribute) since the scan
            current = self.catalog.get(info.region, info.name) or info
            stream = None
            if current.stream_enabled and current.latest_stream_arn is not None:
                stream = self.streams.stream(current.latest_stream_arn)
            now = self.clock.time()
            deleted = 0
            for hk, rk in keys:
                raw = rows.get_item(txn.conn, info.table_id, hk, rk)
                if raw is None:
                    continue
                item = orjson.loads(raw)
                if not is_expired(item, attribute, now):
                    continue
                rows.delete_item(txn.conn, info.table_id, hk, rk)
                indexes.maintain(txn, current, (hk, rk), item, None)
                if stream is not None:
                    self.streams.append(
                        txn,
                        stream,
                        name="REMOVE",
                        keys=current.key_schema.extract_key(item),
                        old=item,
                        new=None,
                        user_identity=dict(SERVICE_IDENTITY),
                    )
                deleted += 1
            return deleted

        return self.store.submit(job)


class TtlReaper:
    """The background thread that deletes expired items (see the module docstring)."""

    def __init__(
        self,
        ttl: TimeToLive,
        clock: Clock,
        interval: float,
        *,
        page_size: int = 500,
        chunk_size: int = 100,
    ) -> None:
        self.ttl = ttl
        self.clock = clock
        self.interval = interval
        self.page_size = page_size
        self.chunk_size = chunk_size
        self.sweeps = 0
        self.deleted = 0
        self._cond = threading.Condition()
        self._pending = False
        self._stopping = False
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is not None:
            return
        self.clock.on_advance(self.wake)
        self._thread = threading.Thread(target=self._run, name="headwater-ttl", daemon=True)
        self._thread.start()

    def wake(self) -> None:
        """Sweep as soon as possible (the clock moved, or a test asks)."""
        with self._cond:
            self._pending = True
            self._cond.notify_all()

    def stop(self) -> None:
        self.clock.remove_listener(self.wake)
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join(timeout=30)

    def _run(self) -> None:
        timeout = self.interval if self.interval > 0 else None
        while True:
            with self._cond:
                self._cond.wait_for(lambda: self._pending or self._stopping, timeout)
                if self._stopping:
                    return
                self._pending = False
            try:
                self.sweep()
            except Exception:
                log.exception("TTL sweep failed")

    def sweep(self) -> int:
        """Delete every item expired by now; returns how many went. Runs on the caller's
        thread (the reaper's, or a unit test's)."""
        deleted = 0
        for info, attribute in self.ttl.enabled_tables():
            after: tuple[bytes, bytes] | None = None
            while not self._stopping:
                keys, after = self.ttl.expired_page(
                    info, attribute, self.clock.time(), after, self.page_size
                )
                for start in range(0, len(keys), self.chunk_size):
                    if self._stopping:
                        break
                    chunk = keys[start : start + self.chunk_size]
                    deleted += self.ttl.delete_expired(info, attribute, chunk).result()
                if after is None:
                    break
        self.sweeps += 1
        self.deleted += deleted
        return deleted
