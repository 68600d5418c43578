"""The SQL of secondary indexes: one row per (index, item) in ``index_items``.

A row is addressed by the index key and then the table key, both in the order-preserving byte
form of ``model.keys.encode_key``: ``(table_id, index_name, hk, rk, pk_hk, pk_rk)``. So a Query
on an index is one range read on the primary key, ordered by the index sort key and, for the
duplicate index keys a global index may hold, by the table key. ``rk`` is ``b""`` for an index
without a sort key. The row holds the *projected* item (the attributes the index keeps).

Reads return lazy iterators over one read transaction's cursor, as ``query_rows`` does.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from typing import Final

Conn = sqlite3.Connection
TableKey = tuple[bytes, bytes]
Position = tuple[bytes, bytes, bytes]  # (rk, pk_hk, pk_rk) inside one index partition
ScanPosition = tuple[bytes, bytes, bytes, bytes]  # (hk, rk, pk_hk, pk_rk)

_PARTITION: Final = (
    "SELECT item, pk_hk, pk_rk FROM index_items WHERE table_id = ? AND index_name = ? AND hk = ?"
)
_ORDER: Final = {
    True: " ORDER BY rk, pk_hk, pk_rk",
    False: " ORDER BY rk DESC, pk_hk DESC, pk_rk DESC",
}
_SCAN: Final = (
    "SELECT hk, item, pk_hk, pk_rk FROM index_items WHERE table_id = ? AND index_name = ?"
)
_SCAN_ORDER: Final = " ORDER BY hk, rk, pk_hk, pk_rk LIMIT ?"


def put_entry(
    conn: Conn, table_id: int, index: str, key: TableKey, table_key: TableKey, item: bytes
) -> None:
    conn.execute(
        "INSERT OR REPLACE INTO index_items (table_id, index_name, hk, rk, pk_hk, pk_rk, item)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        (table_id, index, key[0], key[1], table_key[0], table_key[1], item),
    )


def delete_entry(conn: Conn, table_id: int, index: str, key: TableKey, table_key: TableKey) -> None:
    conn.execute(
        "DELETE FROM index_items WHERE table_id = ? AND index_name = ? AND hk = ? AND rk = ?"
        " AND pk_hk = ? AND pk_rk = ?",
        (table_id, index, key[0], key[1], table_key[0], table_key[1]),
    )


def delete_some(conn: Conn, table_id: int, index: str, limit: int) -> int:
    """Delete up to ``limit`` rows of one index (dropping it in chunks); returns how many."""
    cur = conn.execute(
        "DELETE FROM index_items WHERE table_id = ? AND index_name = ?"
        " AND (hk, rk, pk_hk, pk_rk) IN (SELECT hk, rk, pk_hk, pk_rk FROM index_items"
        " WHERE table_id = ? AND index_name = ? LIMIT ?)",
        (table_id, index, table_id, index, limit),
    )
    return cur.rowcount


def delete_table(conn: Conn, table_id: int) -> None:
    conn.execute("DELETE FROM index_items WHERE table_id = ?", (table_id,))


def stats(conn: Conn, table_id: int) -> dict[str, tuple[int, int]]:
    """``{index name: (item count, stored bytes)}`` for the indexes that hold rows."""
    return {
        str(name): (int(count), int(size))
        for name, count, size in conn.execute(
            "SELECT index_name, COUNT(*), COALESCE(SUM(LENGTH(item)), 0) FROM index_items"
            " WHERE table_id = ? GROUP BY index_name",
            (table_id,),
        )
    }


def query_index(
    conn: Conn,
    table_id: int,
    index: str,
    hk: bytes,
    low: bytes,
    high: bytes | None,
    *,
    after: Position | None = None,
    forward: bool = True,
    limit: int | None = None,
) -> Iterator[tuple[bytes, bytes, bytes]]:
    """``(item, pk_hk, pk_rk)`` of one index partition with ``rk`` in ``[low, high)``, in index
    order (descending when ``forward`` is false), resuming past the position ``after``."""
    sql = _PARTITION
    params: list[object] = [table_id, index, hk]
    # A resumed read bounds the range by its position instead of ``low`` (which the position
    # is past going forward), so SQLite seeks straight to it rather than stepping up to it.
    if after is not None and forward and after[0] >= low:
        sql += " AND (rk, pk_hk, pk_rk) > (?, ?, ?)"
        params.extend(after)
    else:
        sql += " AND rk >= ?"
        params.append(low)
        if after is not None:
            sql += " AND (rk, pk_hk, pk_rk) " + (">" if forward else "<") + " (?, ?, ?)"
            params.extend(after)
    if high is not None:
        sql += " AND rk < ?"
        params.append(high)
    sql += _ORDER[forward] + " LIMIT ?"
    params.append(-1 if limit is None else limit)
    yield from conn.execute(sql, params)


def scan_index(
    conn: Conn,
    table_id: int,
    index: str,
    *,
    after: ScanPosition | None = None,
    limit: int | None = None,
) -> Iterator[tuple[bytes, bytes, bytes, bytes]]:
    """``(hk, item, pk_hk, pk_rk)`` for every row of one index in index order."""
    bound = -1 if limit is None else limit
    if after is None:
        rows = conn.execute(_SCAN + _SCAN_ORDER, (table_id, index, bound))
    else:
        rows = conn.execute(
            _SCAN + " AND (hk, rk, pk_hk, pk_rk) > (?, ?, ?, ?)" + _SCAN_ORDER,
            (table_id, index, *after, bound),
        )
    yield from rows


def items_after(
    conn: Conn, table_id: int, after: TableKey | None, limit: int
) -> list[tuple[bytes, bytes, bytes]]:
    """The next ``limit`` ``(hk, rk, item)`` rows of the items table after ``after`` (a
    backfill's cursor), read inside the writer's transaction."""
    if after is None:
        rows = conn.execute(
            "SELECT hk, rk, item FROM items WHERE table_id = ? ORDER BY hk, rk LIMIT ?",
            (table_id, limit),
        )
    else:
        rows = conn.execute(
            "SELECT hk, rk, item FROM items WHERE table_id = ? AND (hk, rk) > (?, ?)"
            " ORDER BY hk, rk LIMIT ?",
            (table_id, after[0], after[1], limit),
        )
    return [(bytes(hk), bytes(rk), bytes(item)) for hk, rk, item in rows]


def get_item(conn: Conn, table_id: int, key: TableKey) -> bytes | None:
    """The table's item at a row address (an index read fetching what it does not project)."""
    row = conn.execute(
        "SELECT item FROM items WHERE table_id = ? AND hk = ? AND rk = ?", (table_id, *key)
    ).fetchone()
    return None if row is None else bytes(row[0])


def table_definition(conn: Conn, table_id: int) -> bytes | None:
    """A table's stored definition as this transaction sees it (newer than the catalog while
    a commit group is still running)."""
    row = conn.execute(
        "SELECT definition FROM ddb_tables WHERE table_id = ?", (table_id,)
    ).fetchone()
    return None if row is None else bytes(row[0])
