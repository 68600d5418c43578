"""The SQL of Query and Scan: range reads on the items table's primary key.

Both return lazy iterators over one read transaction's cursor, so a caller that stops early
(a Limit, the 1 MB page) never makes SQLite step past the rows it used. Every statement is a
``SEARCH ... USING PRIMARY KEY`` (no sort, no full scan): rows come back in key order.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from typing import Final

Conn = sqlite3.Connection

_PARTITION: Final = "SELECT item FROM items WHERE table_id = ? AND hk = ? AND rk >= ?"
_QUERY: Final = {
    (True, False): _PARTITION + " ORDER BY rk LIMIT ?",
    (True, True): _PARTITION + " AND rk < ? ORDER BY rk LIMIT ?",
    (False, False): _PARTITION + " ORDER BY rk DESC LIMIT ?",
    (False, True): _PARTITION + " AND rk < ? ORDER BY rk DESC LIMIT ?",
}
_SCAN_FROM_START: Final = "SELECT hk, item FROM items WHERE table_id = ? ORDER BY hk, rk LIMIT ?"
_SCAN_AFTER: Final = (
    "SELECT hk, item FROM items WHERE table_id = ? AND (hk, rk) > (?, ?) ORDER BY hk, rk LIMIT ?"
)


def query_partition(
    conn: Conn,
    table_id: int,
    hk: bytes,
    low: bytes,
    high: bytes | None,
    *,
    forward: bool = True,
    limit: int | None = None,
) -> Iterator[bytes]:
    """Items of one partition whose encoded sort key is in ``[low, high)``, in key order
    (descending when ``forward`` is false), at most ``limit`` of them."""
    params: tuple[object, ...] = (table_id, hk, low)
    if high is not None:
        params += (high,)
    sql = _QUERY[(forward, high is not None)]
    for (item,) in conn.execute(sql, (*params, -1 if limit is None else limit)):
        yield item


def scan_table(
    conn: Conn,
    table_id: int,
    *,
    after: tuple[bytes, bytes] | None = None,
    limit: int | None = None,
) -> Iterator[tuple[bytes, bytes]]:
    """``(hk, item)`` for the table's items in key order, starting after the key ``after``."""
    bound = -1 if limit is None else limit
    if after is None:
        rows = conn.execute(_SCAN_FROM_START, (table_id, bound))
    else:
        rows = conn.execute(_SCAN_AFTER, (table_id, after[0], after[1], bound))
    yield from rows
