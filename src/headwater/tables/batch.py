"""BatchGetItem and BatchWriteItem: many keys, one read snapshot or one writer job.

Checks follow AWS's order (errors.md §6): attribute values, sizes and counts first, then the
tables, then key schemas and duplicates. A batch write is ONE writer job: each put or delete
reads the old item, writes, and appends its stream record in the same transaction (none for a
put of an identical item or a delete of a missing one). Headwater never throttles, so nothing is
left unprocessed, except what BatchGetItem's 16 MB response limit leaves over.
"""

from __future__ import annotations

from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

import orjson

from headwater.errors import ValidationError
from headwater.expressions import Projection, apply_projection
from headwater.model.capacity import Capacity, item_write_units, read_units
from headwater.model.keys import key_string
from headwater.model.size import item_size
from headwater.model.values import validate_item
from headwater.storage import rows
from headwater.storage.store import Txn
from headwater.tables import item_collections
from headwater.tables.catalog import TableInfo
from headwater.tables.item_collections import CollectionMetrics
from headwater.tables.items import ITEM_TOO_BIG, MAX_ITEM_BYTES, ItemOps, storage_key

Item = dict[str, Any]

MAX_GET_KEYS = 100
MAX_WRITES = 25
MAX_RESPONSE_BYTES = 16 * 1024 * 1024
TOO_MANY_KEYS = "Too many items requested for the BatchGetItem call"
DUPLICATE_KEYS = "Provided list of item keys contains duplicates"
# INFERRED: BatchGetItem's wording for the same limit across tables (errors.md L-14).
TOO_MANY_WRITES = "Too many items requested for the BatchWriteItem call"


# -- BatchGetItem -----------------------------------------------------------------------------


@dataclass(frozen=True)
class GetSpec:
    """One table's part of a BatchGetItem (expressions already parsed by the adapter)."""

    table: str
    keys: list[Any]
    projection: Projection | None = None
    consistent: bool = False


@dataclass
class GetResult:
    """What one table's part returned: items found, keys left for a later call, units read."""

    table: str
    items: list[Item] = field(default_factory=list)
    unprocessed: list[Item] = field(default_factory=list)
    units: float = 0.0


# -- BatchWriteItem ---------------------------------------------------------------------------


@dataclass(frozen=True)
class WriteSpec:
    """One table's part of a BatchWriteItem: ``("put", item)`` or ``("delete", key)`` each."""

    table: str
    requests: list[tuple[str, Any]]


@dataclass(frozen=True)
class WriteOutcome:
    """What a BatchWriteItem consumed, by table (only when asked: ``measure``), and the item
    collections it touched (only when asked: ``metrics``; tables with LSIs)."""

    capacity: dict[str, Capacity] = field(default_factory=dict)
    collections: list[CollectionMetrics] = field(default_factory=list)


@dataclass(frozen=True)
class _Write:
    key: Item
    hk: bytes
    rk: bytes
    new: Item | None


class BatchOps:
    def __init__(self, items: ItemOps) -> None:
        self.items = items

    # -- BatchGetItem ----------------------------------------------------------------------

    def batch_get(self, region: str, specs: list[GetSpec]) -> list[GetResult]:
        """Blocking: run it off the event loop. One read snapshot serves every key."""
        count = 0
        for spec in specs:
            seen: set[str] = set()
            for raw in spec.keys:
                identity = key_string(validate_item(raw, path="key"))
                if identity in seen:
                    raise ValidationError(DUPLICATE_KEYS)
                seen.add(identity)
                count += 1
                if count > MAX_GET_KEYS:
                    raise ValidationError(TOO_MANY_KEYS)
        tables = [self.items.table(region, spec.table) for spec in specs]
        plans: list[list[tuple[Item, bytes, bytes]]] = []
        for spec, info in zip(specs, tables, strict=True):
            keys = [info.key_schema.validate_key(raw) for raw in spec.keys]
            plans.append([(key, *storage_key(info, key)) for key in keys])

        def read(conn: Any) -> list[list[bytes | None]]:
            return [
                [rows.get_item(conn, info.table_id, hk, rk) for _key, hk, rk in plan]
                for info, plan in zip(tables, plans, strict=True)
            ]

        found = self.items.store.read(read)
        results: list[GetResult] = []
        total = 0
        for spec, plan, raws in zip(specs, plans, found, strict=True):
            result = GetResult(spec.table)
            for (key, _hk, _rk), raw in zip(plan, raws, strict=True):
                item = orjson.loads(raw) if raw is not None else None
                shown = item
                if item is not None and spec.projection is not None:
                    shown = apply_projection(item, spec.projection)
                size = _size(shown)
                if total + size > MAX_RESPONSE_BYTES:
                    result.unprocessed.append(key)
                    continue
                total += size
                result.units += read_units(_size(item), consistent=spec.consistent)
                if shown is not None:
                    result.items.append(shown)
            results.append(result)
        return results

    # -- BatchWriteItem --------------------------------------------------------------------

    def batch_write(
        self,
        region: str,
        specs: list[WriteSpec],
        *,
        measure: bool = False,
        metrics: bool = False,
    ) -> Future[WriteOutcome]:
        """One writer job for the whole batch; the future gives the units per table (when
        ``measure``) and the item collections written (when ``metrics``)."""
        if sum(len(spec.requests) for spec in specs) > MAX_WRITES:
            raise ValidationError(TOO_MANY_WRITES)
        checked: list[list[tuple[str, Item]]] = []
        for spec in specs:
            part: list[tuple[str, Item]] = []
            for kind, raw in spec.requests:
                if kind == "put":
                    item = validate_item(raw)
                    if item_size(item) > MAX_ITEM_BYTES:
                        raise ValidationError(ITEM_TOO_BIG)
                    part.append((kind, item))
                else:
                    part.append((kind, validate_item(raw, path="key")))
            checked.append(part)
        tables = [self.items.table(region, spec.table) for spec in specs]
        plan: list[tuple[TableInfo, list[_Write]]] = []
        for info, part in zip(tables, checked, strict=True):
            ks = info.key_schema
            seen: set[str] = set()
            writes: list[_Write] = []
            for kind, value in part:
                if kind == "put":
                    key = ks.validate_item_keys(value, batch=True)
                    new: Item | None = value
                else:
                    key = ks.validate_key(value)
                    new = None
                identity = key_string(key)
                if identity in seen:
                    raise ValidationError(DUPLICATE_KEYS)
                seen.add(identity)
                writes.append(_Write(key, *storage_key(info, key), new))
            plan.append((info, writes))

        def job(txn: Txn) -> WriteOutcome:
            outcome = WriteOutcome()
            written: list[tuple[TableInfo, Item, bytes]] = []
            for info, writes in plan:
                cur = self.items.current(info)
                spent = (
                    outcome.capacity.setdefault(cur.name, Capacity(cur.name)) if measure else None
                )
                for w in writes:
                    old = self.items.load(txn, cur, w.hk, w.rk)
                    self.items.save(txn, cur, w.key, w.hk, w.rk, old, w.new, spent=spent)
                    if spent is not None:
                        spent.write += item_write_units(old, w.new)
                    if metrics:
                        written.append((cur, w.key, w.hk))
            if metrics:
                outcome.collections.extend(item_collections.measure_all(txn, written))
            return outcome

        return self.items.store.submit(job)


def _size(item: Item | None) -> int:
    return item_size(item) if item is not None else 0
