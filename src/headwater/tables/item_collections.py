"""Item collections (ReturnItemCollectionMetrics=SIZE) of tables with local secondary indexes.

An item collection is every item of one partition key value in the table plus what the local
secondary indexes project of them; AWS reports, for each collection a write touched, its
partition key and an estimate of its size as a ``[lower, upper]`` range in GB. A table without
local secondary indexes has no item collections, and AWS returns no metrics for it.
Source: AWS's API Reference, "ItemCollectionMetrics" (docs.aws.amazon.com/amazondynamodb/latest/
APIReference/API_ItemCollectionMetrics.html) and the Developer Guide's "Item collections in
Local Secondary Indexes" (LSI.html#LSI.ItemCollections).

Measured only when asked, inside the writer job after its writes, so the size includes them.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from headwater.storage import index_rows, query_rows
from headwater.storage.store import Txn
from headwater.tables.catalog import TableInfo

Item = dict[str, Any]
GB = 1024**3


@dataclass(frozen=True)
class CollectionMetrics:
    """One item collection a write touched: its table, partition key and size range in GB."""

    table: str
    key: Item  # {partition key name: value}
    low_gb: float
    high_gb: float


def collection_bytes(txn: Txn, info: TableInfo, hk: bytes) -> int:
    """The stored size of one partition's items plus its local index rows."""
    conn = txn.conn
    size = sum(len(raw) for raw in query_rows.query_partition(conn, info.table_id, hk, b"", None))
    for index in info.local_indexes:
        rows = index_rows.query_index(conn, info.table_id, index.name, hk, b"", None)
        size += sum(len(row[0]) for row in rows)
    return size


def measure(txn: Txn, info: TableInfo, key: Item, hk: bytes) -> CollectionMetrics | None:
    """The metrics of the collection holding ``key`` (None: the table has no local indexes).

    INFERRED: AWS documents the range as an estimate not to be relied on for precision; its
    examples show a 1 GB wide range (``[0.0, 1.0]`` for a small collection), so the range here
    is the whole GB the stored size falls in."""
    if not info.local_indexes:
        return None
    low = float(math.floor(collection_bytes(txn, info, hk) / GB))
    partition = info.key_schema.hash_name
    return CollectionMetrics(info.name, {partition: key[partition]}, low, low + 1.0)


def measure_all(
    txn: Txn, writes: Iterable[tuple[TableInfo, Item, bytes]]
) -> list[CollectionMetrics]:
    """The metrics of every distinct collection among ``(table, key, hk)`` writes, in order of
    first write (tables without local indexes give none)."""
    seen: set[tuple[int, bytes]] = set()
    out: list[CollectionMetrics] = []
    for info, key, hk in writes:
        if not info.local_indexes or (info.table_id, hk) in seen:
            continue
        seen.add((info.table_id, hk))
        metrics = measure(txn, info, key, hk)
        if metrics is not None:
            out.append(metrics)
    return out
