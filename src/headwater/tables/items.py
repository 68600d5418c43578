"""Single-item operations: PutItem, GetItem, DeleteItem, UpdateItem.

Each write is ONE writer job that reads the current item, checks the condition, writes the new
item and appends its stream record, so the item and its record commit (or vanish) together.
Writes return futures: the HTTP layer awaits them without blocking its event loop.

Capacity units and item collection metrics are computed only when the request asks for them
(``measure`` / ``metrics``): without them a write sizes nothing it does not have to.
A write whose condition fails consumes write capacity on AWS too (the Developer Guide's
"Condition expressions": the units of the existing item, at least one), but AWS's
ConditionalCheckFailedException carries no ConsumedCapacity (botocore's model gives it only
``message`` and ``Item``), so there is nothing to report for it.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any

import orjson

from headwater.errors import ConditionalCheckFailed, ResourceNotFound, ValidationError
from headwater.expressions import evaluate_condition
from headwater.model.capacity import Capacity, item_write_units
from headwater.model.keys import encode_key
from headwater.model.size import item_size
from headwater.model.values import validate_sized_item
from headwater.storage import rows
from headwater.storage.store import Store, Txn
from headwater.streams.log import StreamLog
from headwater.streams.records import event_name
from headwater.tables import indexes, item_collections
from headwater.tables.catalog import Catalog, TableInfo
from headwater.tables.item_collections import CollectionMetrics

Item = dict[str, Any]
MAX_ITEM_BYTES = 400 * 1024
ITEM_TOO_BIG = "Item size has exceeded the maximum allowed size"
UPDATE_TOO_BIG = "Item size to update has exceeded the maximum allowed size"


@dataclass(slots=True)
class WriteResult:
    """What a write did (not frozen: built on every PutItem, and a frozen dataclass costs
    several times as much to build; nothing changes one once made)."""

    old: Item | None
    new: Item | None
    capacity: Capacity | None = None  # only when the request asked for units
    collection: CollectionMetrics | None = None  # only when asked, for tables with LSIs


def storage_key(info: TableInfo, key: Item) -> tuple[bytes, bytes]:
    """The order-preserving byte form of a (validated) key: the item's row address."""
    ks = info.key_schema
    hk = encode_key(key[ks.hash_name])
    rk = encode_key(key[ks.range_name]) if ks.range_name is not None else b""
    return hk, rk


_storage_key = storage_key  # its name before batch writes and transactions shared it


class ItemOps:
    def __init__(self, store: Store, catalog: Catalog, streams: StreamLog) -> None:
        self.store = store
        self.catalog = catalog
        self.streams = streams

    def table(self, region: str, name: str) -> TableInfo:
        info = self.catalog.get(region, name)
        if info is None:
            raise ResourceNotFound("Requested resource not found")
        return info

    # -- pieces of a write job, shared with batch writes and transactions -----------------

    def current(self, info: TableInfo) -> TableInfo:
        """Re-check inside the job: the table may have been deleted since the request began."""
        cur = self.catalog.get(info.region, info.name)
        if cur is None or cur.table_id != info.table_id:
            raise ResourceNotFound("Requested resource not found")
        return cur

    def load(self, txn: Txn, info: TableInfo, hk: bytes, rk: bytes) -> Item | None:
        """The item stored at a row address, inside the job's transaction."""
        raw = rows.get_item(txn.conn, info.table_id, hk, rk)
        return orjson.loads(raw) if raw is not None else None

    def emit(
        self, txn: Txn, info: TableInfo, key: Item, old: Item | None, new: Item | None
    ) -> None:
        """Append the stream record of a change (none when nothing changed or no stream)."""
        if not info.stream_enabled or info.latest_stream_arn is None:
            return
        name = event_name(old, new)
        if name is None:
            return
        stream = self.streams.stream(info.latest_stream_arn)
        if stream is not None:
            self.streams.append(txn, stream, name=name, keys=key, old=old, new=new)

    def save(
        self,
        txn: Txn,
        info: TableInfo,
        key: Item,
        hk: bytes,
        rk: bytes,
        old: Item | None,
        new: Item | None,
        stored: bytes | None = None,
        spent: Capacity | None = None,
    ) -> bool:
        """Make the row hold ``new`` (None: delete it), keep the table's secondary indexes in
        step and append its stream record, in the job's transaction. A write that changes
        nothing touches none of them; returns whether the item changed. A ``new`` item whose
        index key values no index may hold raises AWS's ValidationError before anything is
        written. ``stored`` is ``new`` as JSON, when the caller has it already. ``spent`` (only
        when the request asked for units) is charged the index writes; the caller charges the
        table's own write."""
        if event_name(old, new) is None:
            return False
        if new is not None and info.indexes:
            indexes.check_item(info, new)
        if new is None:
            rows.delete_item(txn.conn, info.table_id, hk, rk)
        else:
            data = stored if stored is not None else orjson.dumps(new)
            rows.put_item(txn.conn, info.table_id, hk, rk, data)
        if info.indexes:
            indexes.maintain(txn, info, (hk, rk), old, new, spent)
        self.emit(txn, info, key, old, new)
        return True

    # The names these pieces had before batch writes and transactions shared them.
    _current = current
    _emit = emit

    def _reported(
        self,
        txn: Txn,
        info: TableInfo,
        key: Item,
        hk: bytes,
        old: Item | None,
        new: Item | None,
        spent: Capacity | None,
        metrics: bool,
        new_size: int | None = None,
    ) -> WriteResult:
        """The result of a write asked for units (``spent``: it holds the index writes already;
        the table's own write is added here) or item collection metrics (``metrics``)."""
        if spent is not None:
            spent.write += item_write_units(old, new, new_size=new_size)
        collection = item_collections.measure(txn, info, key, hk) if metrics else None
        return WriteResult(old, new, spent, collection)

    def _check(self, condition: Any, old: Item | None, return_old_on_fail: bool) -> None:
        if condition is not None and not evaluate_condition(condition, old):
            raise ConditionalCheckFailed(
                "The conditional request failed", old if return_old_on_fail else None
            )

    # -- PutItem --------------------------------------------------------------------------

    def put_item(
        self,
        region: str,
        name: str,
        item: Item,
        *,
        condition: Any = None,
        return_old_on_fail: bool = False,
        measure: bool = False,
        metrics: bool = False,
    ) -> Future[WriteResult]:
        """``measure``: report capacity units; ``metrics``: item collection metrics."""
        item, size = validate_sized_item(item)
        info = self.table(region, name)
        ks = info.key_schema
        ks.validate_item_keys(item)
        if info.indexes:
            indexes.check_item(info, item)
        if size > MAX_ITEM_BYTES:
            raise ValidationError(ITEM_TOO_BIG)
        key = ks.extract_key(item)
        hk, rk = storage_key(info, key)

        def job(txn: Txn) -> WriteResult:
            cur = self.current(info)
            stored = orjson.dumps(item)
            raw = rows.get_item(txn.conn, cur.table_id, hk, rk)
            if raw == stored:
                # The same item again (validated items are canonical, so equal JSON is an equal
                # item): the old item is this one, and there is nothing to write or record.
                self._check(condition, item, return_old_on_fail)
                if measure or metrics:  # AWS still charges the write
                    spent = Capacity(cur.name) if measure else None
                    return self._reported(txn, cur, key, hk, item, item, spent, metrics, size)
                return WriteResult(item, item)
            old = orjson.loads(raw) if raw is not None else None
            self._check(condition, old, return_old_on_fail)
            if not (measure or metrics):
                self.save(txn, cur, key, hk, rk, old, item, stored)
                return WriteResult(old, item)
            spent = Capacity(cur.name) if measure else None
            self.save(txn, cur, key, hk, rk, old, item, stored, spent)
            return self._reported(txn, cur, key, hk, old, item, spent, metrics, size)

        return self.store.submit(job)

    # -- GetItem --------------------------------------------------------------------------

    def get_item(self, region: str, name: str, key: Item) -> Item | None:
        raw = self.get_item_json(region, name, key)
        return orjson.loads(raw) if raw is not None else None

    def get_item_json(self, region: str, name: str, key: Item) -> bytes | None:
        """The item as its stored JSON (what a response carries), or None."""
        info = self.table(region, name)
        key = info.key_schema.validate_key(key)
        hk, rk = storage_key(info, key)
        return self.store.read_one(lambda conn: rows.get_item(conn, info.table_id, hk, rk))

    # -- DeleteItem -----------------------------------------------------------------------

    def delete_item(
        self,
        region: str,
        name: str,
        key: Item,
        *,
        condition: Any = None,
        return_old_on_fail: bool = False,
        measure: bool = False,
        metrics: bool = False,
    ) -> Future[WriteResult]:
        info = self.table(region, name)
        key = info.key_schema.validate_key(key)
        hk, rk = storage_key(info, key)

        def job(txn: Txn) -> WriteResult:
            cur = self.current(info)
            old = self.load(txn, cur, hk, rk)
            self._check(condition, old, return_old_on_fail)
            spent = Capacity(cur.name) if measure else None
            self.save(txn, cur, key, hk, rk, old, None, spent=spent)
            if measure or metrics:
                return self._reported(txn, cur, key, hk, old, None, spent, metrics)
            return WriteResult(old, None)

        return self.store.submit(job)

    # -- UpdateItem -----------------------------------------------------------------------

    def update_item(
        self,
        region: str,
        name: str,
        key: Item,
        *,
        apply: Callable[[Item | None, Item], Item | None],
        condition: Any = None,
        return_old_on_fail: bool = False,
        measure: bool = False,
        metrics: bool = False,
    ) -> Future[WriteResult]:
        """``apply(old, key)`` returns the new item (None: no update expression and no item)."""
        info = self.table(region, name)
        key = info.key_schema.validate_key(key)
        hk, rk = storage_key(info, key)

        def job(txn: Txn) -> WriteResult:
            cur = self.current(info)
            old = self.load(txn, cur, hk, rk)
            self._check(condition, old, return_old_on_fail)
            new = apply(old, key)
            spent = Capacity(cur.name) if measure else None
            if new is None:
                if measure or metrics:
                    return self._reported(txn, cur, key, hk, old, None, spent, metrics)
                return WriteResult(old, None)
            if cur.indexes:
                indexes.check_item(cur, new, update=True)
            size = item_size(new)
            if size > MAX_ITEM_BYTES:
                raise ValidationError(UPDATE_TOO_BIG)
            self.save(txn, cur, key, hk, rk, old, new, spent=spent)
            if measure or metrics:
                return self._reported(txn, cur, key, hk, old, new, spent, metrics, size)
            return WriteResult(old, new)

        return self.store.submit(job)
