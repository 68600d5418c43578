"""The SQL of every entity Headwater keeps, as small functions over a connection.

Callers above ``storage/`` pass connections around opaquely (from a writer :class:`Txn` or a
read snapshot) and never write SQL themselves.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator

Conn = sqlite3.Connection

# -- tables and items ---------------------------------------------------------------------


def load_tables(conn: Conn) -> list[tuple[int, str, str, bytes]]:
    return list(conn.execute("SELECT table_id, region, name, definition FROM ddb_tables"))


def insert_table(conn: Conn, region: str, name: str, definition: bytes) -> int:
    cur = conn.execute(
        "INSERT INTO ddb_tables (region, name, definition) VALUES (?, ?, ?)",
        (region, name, definition),
    )
    assert cur.lastrowid is not None
    return cur.lastrowid


def update_table(conn: Conn, table_id: int, definition: bytes) -> None:
    conn.execute("UPDATE ddb_tables SET definition = ? WHERE table_id = ?", (definition, table_id))


def delete_table(conn: Conn, table_id: int) -> None:
    conn.execute("DELETE FROM items WHERE table_id = ?", (table_id,))
    conn.execute("DELETE FROM ddb_tables WHERE table_id = ?", (table_id,))


def get_item(conn: Conn, table_id: int, hk: bytes, rk: bytes) -> bytes | None:
    row = conn.execute(
        "SELECT item FROM items WHERE table_id = ? AND hk = ? AND rk = ?", (table_id, hk, rk)
    ).fetchone()
    return None if row is None else bytes(row[0])


def put_item(conn: Conn, table_id: int, hk: bytes, rk: bytes, item: bytes) -> None:
    conn.execute(
        "INSERT OR REPLACE INTO items (table_id, hk, rk, item) VALUES (?, ?, ?, ?)",
        (table_id, hk, rk, item),
    )


def delete_item(conn: Conn, table_id: int, hk: bytes, rk: bytes) -> None:
    conn.execute("DELETE FROM items WHERE table_id = ? AND hk = ? AND rk = ?", (table_id, hk, rk))


def count_items(conn: Conn, table_id: int) -> tuple[int, int]:
    row = conn.execute(
        "SELECT COUNT(*), COALESCE(SUM(LENGTH(item)), 0) FROM items WHERE table_id = ?",
        (table_id,),
    ).fetchone()
    return int(row[0]), int(row[1])


def scan_items(conn: Conn, table_id: int) -> Iterator[bytes]:
    for (item,) in conn.execute(
        "SELECT item FROM items WHERE table_id = ? ORDER BY hk, rk", (table_id,)
    ):
        yield bytes(item)


# -- streams, shards, records ----------------------------------------------------------------


def load_streams(conn: Conn) -> list[tuple[str, bytes]]:
    return list(conn.execute("SELECT arn, definition FROM streams"))


def upsert_stream(conn: Conn, arn: str, region: str, table_name: str, definition: bytes) -> None:
    conn.execute(
        "INSERT OR REPLACE INTO streams (arn, region, table_name, definition) VALUES (?, ?, ?, ?)",
        (arn, region, table_name, definition),
    )


def load_shards(
    conn: Conn,
) -> list[tuple[int, str, str, int, int | None, str | None, float, int, int]]:
    return list(
        conn.execute(
            "SELECT shard_key, stream_arn, shard_id, start_seq, end_seq, parent_shard_id, created,"
            " trimmed_seq, lane FROM shards ORDER BY shard_key"
        )
    )


def insert_shard(
    conn: Conn,
    stream_arn: str,
    shard_id: str,
    start_seq: int,
    parent_shard_id: str | None,
    created: float,
    lane: int = 0,
) -> int:
    cur = conn.execute(
        "INSERT INTO shards (stream_arn, shard_id, start_seq, parent_shard_id, created, lane)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        (stream_arn, shard_id, start_seq, parent_shard_id, created, lane),
    )
    assert cur.lastrowid is not None
    return cur.lastrowid


def open_shard_in_lane(conn: Conn, stream_arn: str, lane: int) -> int | None:
    """The shard_key of the stream's open shard for ``lane`` as this transaction sees it."""
    row = conn.execute(
        "SELECT shard_key FROM shards WHERE stream_arn = ? AND lane = ? AND end_seq IS NULL",
        (stream_arn, lane),
    ).fetchone()
    return None if row is None else int(row[0])


def shard_is_open(conn: Conn, shard_key: int) -> bool:
    row = conn.execute("SELECT end_seq FROM shards WHERE shard_key = ?", (shard_key,)).fetchone()
    return row is not None and row[0] is None


def close_shard(conn: Conn, shard_key: int, end_seq: int) -> None:
    conn.execute("UPDATE shards SET end_seq = ? WHERE shard_key = ?", (end_seq, shard_key))


def trim_records(conn: Conn, shard_key: int, cutoff: float, limit: int) -> int | None:
    """Delete up to ``limit`` of the shard's oldest records created before ``cutoff``; return
    the highest sequence number deleted (None when nothing was)."""
    row = conn.execute(
        "SELECT MAX(seq) FROM (SELECT seq FROM stream_records WHERE shard_key = ? AND created < ?"
        " ORDER BY seq LIMIT ?)",
        (shard_key, cutoff, limit),
    ).fetchone()
    if row[0] is None:
        return None
    high = int(row[0])
    conn.execute("DELETE FROM stream_records WHERE shard_key = ? AND seq <= ?", (shard_key, high))
    conn.execute(
        "UPDATE shards SET trimmed_seq = MAX(trimmed_seq, ?) WHERE shard_key = ?",
        (high, shard_key),
    )
    return high


def delete_shard(conn: Conn, shard_key: int) -> None:
    conn.execute("DELETE FROM stream_records WHERE shard_key = ?", (shard_key,))
    conn.execute("DELETE FROM shards WHERE shard_key = ?", (shard_key,))


def delete_stream(conn: Conn, arn: str) -> None:
    conn.execute("DELETE FROM streams WHERE arn = ?", (arn,))


def append_record(conn: Conn, shard_key: int, seq: int, created: float, record: bytes) -> None:
    conn.execute(
        "INSERT INTO stream_records (shard_key, seq, created, record) VALUES (?, ?, ?, ?)",
        (shard_key, seq, created, record),
    )


def read_records(
    conn: Conn, shard_key: int, from_seq: int, limit: int
) -> list[tuple[int, float, bytes]]:
    """Records of one shard with ``seq >= from_seq``, in order."""
    return [
        (int(seq), float(created), bytes(record))
        for seq, created, record in conn.execute(
            "SELECT seq, created, record FROM stream_records"
            " WHERE shard_key = ? AND seq >= ? ORDER BY seq LIMIT ?",
            (shard_key, from_seq, limit),
        )
    ]


def shard_bounds(conn: Conn, shard_key: int) -> tuple[int | None, int | None]:
    row = conn.execute(
        "SELECT MIN(seq), MAX(seq) FROM stream_records WHERE shard_key = ?", (shard_key,)
    ).fetchone()
    return row[0], row[1]


def max_sequence(conn: Conn) -> int:
    row = conn.execute(
        "SELECT MAX(m) FROM (SELECT MAX(seq) AS m FROM stream_records"
        " UNION ALL SELECT MAX(start_seq) FROM shards"
        " UNION ALL SELECT MAX(end_seq) FROM shards"
        " UNION ALL SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'sequence')"
    ).fetchone()
    return int(row[0] or 0)


def save_sequence(conn: Conn, seq: int) -> None:
    conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('sequence', ?)", (str(seq),))


# -- functions, mappings, checkpoints ---------------------------------------------------------


def load_functions(conn: Conn) -> list[tuple[str, str, bytes]]:
    return list(conn.execute("SELECT region, name, config FROM functions"))


def function_code(conn: Conn, region: str, name: str) -> bytes | None:
    row = conn.execute(
        "SELECT code FROM functions WHERE region = ? AND name = ?", (region, name)
    ).fetchone()
    return None if row is None else bytes(row[0])


def upsert_function(conn: Conn, region: str, name: str, config: bytes, code: bytes) -> None:
    conn.execute(
        "INSERT OR REPLACE INTO functions (region, name, config, code) VALUES (?, ?, ?, ?)",
        (region, name, config, code),
    )


def update_function_config(conn: Conn, region: str, name: str, config: bytes) -> None:
    conn.execute(
        "UPDATE functions SET config = ? WHERE region = ? AND name = ?", (config, region, name)
    )


def delete_function(conn: Conn, region: str, name: str) -> None:
    conn.execute("DELETE FROM functions WHERE region = ? AND name = ?", (region, name))


def load_mappings(conn: Conn) -> list[tuple[str, str, bytes]]:
    return list(conn.execute("SELECT uuid, region, config FROM mappings"))


def upsert_mapping(conn: Conn, uuid: str, region: str, config: bytes) -> None:
    conn.execute(
        "INSERT OR REPLACE INTO mappings (uuid, region, config) VALUES (?, ?, ?)",
        (uuid, region, config),
    )


def delete_mapping(conn: Conn, uuid: str) -> None:
    conn.execute("DELETE FROM mappings WHERE uuid = ?", (uuid,))
    conn.execute("DELETE FROM checkpoints WHERE mapping_uuid = ?", (uuid,))


def load_checkpoints(conn: Conn, uuid: str) -> dict[str, int]:
    return {
        shard_id: int(seq)
        for shard_id, seq in conn.execute(
            "SELECT shard_id, seq FROM checkpoints WHERE mapping_uuid = ?", (uuid,)
        )
    }


def save_checkpoint(conn: Conn, uuid: str, shard_id: str, seq: int) -> None:
    conn.execute(
        "INSERT OR REPLACE INTO checkpoints (mapping_uuid, shard_id, seq) VALUES (?, ?, ?)",
        (uuid, shard_id, seq),
    )


def delete_checkpoints(conn: Conn, uuid: str, shard_ids: list[str]) -> None:
    conn.executemany(
        "DELETE FROM checkpoints WHERE mapping_uuid = ? AND shard_id = ?",
        [(uuid, shard_id) for shard_id in shard_ids],
    )


def get_meta(conn: Conn, key: str) -> str | None:
    row = conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
    return None if row is None else str(row[0])


def set_meta(conn: Conn, key: str, value: str) -> None:
    conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))
