"""The SQL of per-table settings kept beside a table: its Time to Live setting and its tags.

Both are keyed by ``table_id``. SQLite may hand a deleted table's id to the next table created,
so the rows must go when their table goes: :func:`install` adds a trigger that deletes them in
the same transaction as the ``ddb_tables`` row (whoever deletes it), and drops any rows left
over from before the trigger existed.
"""

from __future__ import annotations

import sqlite3

Conn = sqlite3.Connection

_INSTALL = (
    """CREATE TRIGGER IF NOT EXISTS ddb_table_settings_cleanup AFTER DELETE ON ddb_tables
    BEGIN
        DELETE FROM ddb_ttl WHERE table_id = OLD.table_id;
        DELETE FROM ddb_tags WHERE table_id = OLD.table_id;
    END""",
    "DELETE FROM ddb_ttl WHERE table_id NOT IN (SELECT table_id FROM ddb_tables)",
    "DELETE FROM ddb_tags WHERE table_id NOT IN (SELECT table_id FROM ddb_tables)",
)


def install(conn: Conn) -> None:
    """Run inside a writer job at start-up (idempotent)."""
    for statement in _INSTALL:
        conn.execute(statement)


def table_matches(conn: Conn, table_id: int, region: str, name: str) -> bool:
    """Whether ``table_id`` is (still) the table ``region``/``name`` in this transaction."""
    row = conn.execute(
        "SELECT 1 FROM ddb_tables WHERE table_id = ? AND region = ? AND name = ?",
        (table_id, region, name),
    ).fetchone()
    return row is not None


# -- Time to Live -----------------------------------------------------------------------------


def get_ttl(conn: Conn, table_id: int) -> tuple[bool, str, float] | None:
    """(enabled, attribute name, time of the last change) or None if never set."""
    row = conn.execute(
        "SELECT enabled, attribute, changed FROM ddb_ttl WHERE table_id = ?", (table_id,)
    ).fetchone()
    return None if row is None else (bool(row[0]), str(row[1]), float(row[2]))


def set_ttl(
    conn: Conn,
    table_id: int,
    region: str,
    name: str,
    *,
    enabled: bool,
    attribute: str,
    changed: float,
) -> None:
    conn.execute(
        "INSERT OR REPLACE INTO ddb_ttl (table_id, region, name, enabled, attribute, changed)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        (table_id, region, name, int(enabled), attribute, changed),
    )


def enabled_ttls(conn: Conn) -> list[tuple[int, str, str, str]]:
    """(table_id, region, table name, attribute) of every table with TTL enabled."""
    return [
        (int(table_id), str(region), str(name), str(attribute))
        for table_id, region, name, attribute in conn.execute(
            "SELECT table_id, region, name, attribute FROM ddb_ttl WHERE enabled = 1"
            " ORDER BY table_id"
        )
    ]


def items_after(
    conn: Conn, table_id: int, after: tuple[bytes, bytes] | None, limit: int
) -> list[tuple[bytes, bytes, bytes]]:
    """(hk, rk, item) of up to ``limit`` items in key order, starting after ``after``."""
    if after is None:
        cursor = conn.execute(
            "SELECT hk, rk, item FROM items WHERE table_id = ? ORDER BY hk, rk LIMIT ?",
            (table_id, limit),
        )
    else:
        cursor = conn.execute(
            "SELECT hk, rk, item FROM items WHERE table_id = ? AND (hk, rk) > (?, ?)"
            " ORDER BY hk, rk LIMIT ?",
            (table_id, after[0], after[1], limit),
        )
    return [(bytes(hk), bytes(rk), bytes(item)) for hk, rk, item in cursor]


# -- tags ----------------------------------------------------------------------------------


def get_tags(conn: Conn, table_id: int) -> list[tuple[str, str]]:
    """(key, value) pairs in the order the keys were first set."""
    return [
        (str(key), str(value))
        for key, value in conn.execute(
            "SELECT key, value FROM ddb_tags WHERE table_id = ? ORDER BY rowid", (table_id,)
        )
    ]


def put_tags(conn: Conn, table_id: int, tags: list[tuple[str, str]]) -> None:
    conn.executemany(
        "INSERT INTO ddb_tags (table_id, key, value) VALUES (?, ?, ?)"
        " ON CONFLICT (table_id, key) DO UPDATE SET value = excluded.value",
        [(table_id, key, value) for key, value in tags],
    )


def delete_tags(conn: Conn, table_id: int, keys: list[str]) -> None:
    conn.executemany(
        "DELETE FROM ddb_tags WHERE table_id = ? AND key = ?", [(table_id, key) for key in keys]
    )
