"""Opening the SQLite database: file layout, pragmas and the schema.

One database file holds everything that must survive a restart: tables and their items, stream
metadata and records, functions, the asynchronous invocation queue, event source mappings and
their checkpoints. A table added since a data directory was made is created when it is opened
(``CREATE TABLE IF NOT EXISTS``); a column added since, by ``_add_missing_columns``. WAL mode lets
readers run beside the single writer; every commit's log is synced before the write is
acknowledged (by SQLite, or by the store itself: ``store.py``).
"""

from __future__ import annotations

import mmap
import os
import sqlite3
import struct
from pathlib import Path

SCHEMA_VERSION = 1

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS ddb_tables (
    table_id INTEGER PRIMARY KEY,
    region TEXT NOT NULL,
    name TEXT NOT NULL,
    definition BLOB NOT NULL,
    UNIQUE (region, name)
);
CREATE TABLE IF NOT EXISTS items (
    table_id INTEGER NOT NULL,
    hk BLOB NOT NULL,
    rk BLOB NOT NULL,
    item BLOB NOT NULL,
    PRIMARY KEY (table_id, hk, rk)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS index_items (
    table_id INTEGER NOT NULL,
    index_name TEXT NOT NULL,
    hk BLOB NOT NULL,
    rk BLOB NOT NULL,
    pk_hk BLOB NOT NULL,
    pk_rk BLOB NOT NULL,
    item BLOB NOT NULL,
    PRIMARY KEY (table_id, index_name, hk, rk, pk_hk, pk_rk)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS streams (
    arn TEXT PRIMARY KEY,
    region TEXT NOT NULL,
    table_name TEXT NOT NULL,
    definition BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS shards (
    shard_key INTEGER PRIMARY KEY,
    stream_arn TEXT NOT NULL,
    shard_id TEXT NOT NULL,
    start_seq INTEGER NOT NULL,
    end_seq INTEGER,
    parent_shard_id TEXT,
    created REAL NOT NULL,
    trimmed_seq INTEGER NOT NULL DEFAULT 0,
    lane INTEGER NOT NULL DEFAULT 0,
    UNIQUE (stream_arn, shard_id)
);
CREATE TABLE IF NOT EXISTS stream_records (
    shard_key INTEGER NOT NULL,
    seq INTEGER NOT NULL,
    created REAL NOT NULL,
    record BLOB NOT NULL,
    PRIMARY KEY (shard_key, seq)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS functions (
    region TEXT NOT NULL,
    name TEXT NOT NULL,
    config BLOB NOT NULL,
    code BLOB NOT NULL,
    PRIMARY KEY (region, name)
);
CREATE TABLE IF NOT EXISTS function_versions (
    region TEXT NOT NULL,
    name TEXT NOT NULL,
    version INTEGER NOT NULL,
    config BLOB NOT NULL,
    PRIMARY KEY (region, name, version)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS function_code (
    region TEXT NOT NULL,
    name TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    code BLOB NOT NULL,
    PRIMARY KEY (region, name, sha256)
);
CREATE TABLE IF NOT EXISTS function_aliases (
    region TEXT NOT NULL,
    name TEXT NOT NULL,
    alias TEXT NOT NULL,
    config BLOB NOT NULL,
    PRIMARY KEY (region, name, alias)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS function_event_configs (
    region TEXT NOT NULL,
    name TEXT NOT NULL,
    qualifier TEXT NOT NULL,
    config BLOB NOT NULL,
    PRIMARY KEY (region, name, qualifier)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS async_events (
    request_id TEXT PRIMARY KEY,
    invoked_arn TEXT NOT NULL,
    payload BLOB NOT NULL,
    received REAL NOT NULL,
    next_attempt REAL NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    executed_version TEXT,
    function_error TEXT,
    response BLOB
);
CREATE TABLE IF NOT EXISTS mappings (
    uuid TEXT PRIMARY KEY,
    region TEXT NOT NULL,
    config BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS checkpoints (
    mapping_uuid TEXT NOT NULL,
    shard_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    PRIMARY KEY (mapping_uuid, shard_id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS tx_tokens (
    region TEXT NOT NULL,
    token TEXT NOT NULL,
    digest TEXT NOT NULL,
    created REAL NOT NULL,
    PRIMARY KEY (region, token)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS ddb_ttl (
    table_id INTEGER PRIMARY KEY,
    region TEXT NOT NULL,
    name TEXT NOT NULL,
    enabled INTEGER NOT NULL,
    attribute TEXT NOT NULL,
    changed REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS ddb_tags (
    table_id INTEGER NOT NULL,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    UNIQUE (table_id, key)
);
CREATE TABLE IF NOT EXISTS sqs_queues (
    queue_id INTEGER PRIMARY KEY AUTOINCREMENT,
    region TEXT NOT NULL,
    name TEXT NOT NULL,
    attributes BLOB NOT NULL,
    tags BLOB NOT NULL,
    created REAL NOT NULL,
    modified REAL NOT NULL,
    UNIQUE (region, name)
);
CREATE TABLE IF NOT EXISTS sqs_messages (
    queue_id INTEGER NOT NULL,
    seq INTEGER NOT NULL,
    message_id TEXT NOT NULL,
    body BLOB NOT NULL,
    attributes BLOB,
    sent REAL NOT NULL,
    visible_at REAL NOT NULL,
    receive_count INTEGER NOT NULL DEFAULT 0,
    first_received REAL,
    receipt TEXT,
    PRIMARY KEY (queue_id, seq)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS sqs_messages_visible ON sqs_messages (queue_id, visible_at, seq);
CREATE TABLE IF NOT EXISTS sns_topics (
    arn TEXT PRIMARY KEY,
    region TEXT NOT NULL,
    name TEXT NOT NULL,
    attributes BLOB NOT NULL,
    created REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS sns_subscriptions (
    arn TEXT PRIMARY KEY,
    topic_arn TEXT NOT NULL,
    protocol TEXT NOT NULL,
    endpoint TEXT NOT NULL,
    attributes BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS sns_subscriptions_topic ON sns_subscriptions (topic_arn, arn);
CREATE TABLE IF NOT EXISTS s3_buckets (
    name TEXT PRIMARY KEY,
    region TEXT NOT NULL,
    created REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS s3_objects (
    bucket TEXT NOT NULL,
    key TEXT NOT NULL,
    path TEXT NOT NULL,
    size INTEGER NOT NULL,
    etag TEXT NOT NULL,
    modified REAL NOT NULL,
    headers BLOB NOT NULL,
    PRIMARY KEY (bucket, key)
) WITHOUT ROWID;
"""


def connect(
    path: Path, *, durable: bool = True, own_fsync: bool = False, readonly: bool = False
) -> sqlite3.Connection:
    """Open a connection with Headwater's pragmas. ``check_same_thread`` is off because each
    connection is owned by exactly one thread by construction (the writer, or one reader).
    ``own_fsync``: a commit only writes the log, the caller syncs it (see ``store.py``)."""
    if readonly:
        conn = sqlite3.connect(
            f"file:{path}?mode=ro", uri=True, isolation_level=None, check_same_thread=False
        )
    else:
        conn = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA busy_timeout = 10000")
    if not readonly:
        conn.execute("PRAGMA journal_mode = WAL")
        sync = ("NORMAL" if own_fsync else "FULL") if durable else "OFF"
        conn.execute(f"PRAGMA synchronous = {sync}")
    conn.execute("PRAGMA temp_store = MEMORY")
    conn.execute("PRAGMA cache_size = -32000")
    return conn


# What the write-ahead log grows to between checkpoints: SQLite checkpoints at 1,000 pages
# (4 KiB pages plus a 24-byte frame header each), then writes the log again from its start.
WAL_WORKING_BYTES = 8 * 1024 * 1024


def presize_wal(path: Path, size: int = WAL_WORKING_BYTES) -> bool:
    """Give the write-ahead log its working size up front, written with zeros and synced.

    A commit that appends past the end of the log file also changes the file's size, so its
    fsync has to commit the file system's journal too: on ext4 that costs about 2.5 times the
    fsync of a commit that overwrites blocks the file already has (0.7 ms against 0.27 ms here,
    and 2.5 times the CPU). The log only reaches its working size after its first thousand
    pages, and closing the database truncates it again, so without this every restarted server
    paid the dear fsync for its first few hundred writes. Zeros past the last valid frame are
    never taken for frames (their salts do not match the log's header), so SQLite reads the
    log as before. Call it before any other connection or thread uses the database. Returns
    whether the file grew."""
    wal = path.with_name(path.name + "-wal")
    try:
        current = wal.stat().st_size
    except FileNotFoundError:
        return False
    if current >= size:
        return False
    zeros = bytes(1024 * 1024)
    with open(wal, "r+b") as file:
        file.seek(current)
        remaining = size - current
        while remaining > 0:
            remaining -= file.write(zeros[: min(remaining, len(zeros))])
        file.flush()
        os.fsync(file.fileno())
    return True


# SQLite's own automatic checkpoint runs at this many log frames, inside the commit that crosses
# it; the store asks for its checkpoints at the same size, after that commit (``writer.py``).
CHECKPOINT_FRAMES = 1000


class LogFrames:
    """How many frames the database's write-ahead log holds now, cheaply: ``mxFrame`` of the
    WAL-index header, a native-order 32-bit integer at byte 16 of ``<db>-shm``
    (https://www.sqlite.org/walformat.html, "The WAL-Index Header"), read from a mapping of
    that file without SQLite's locks: a good estimate, never a decision that matters for
    correctness. :meth:`open` gives None when the index cannot be mapped."""

    def __init__(self, mapped: mmap.mmap) -> None:
        self._mapped = mapped

    @classmethod
    def open(cls, path: Path) -> LogFrames | None:
        shm = path.with_name(path.name + "-shm")
        try:
            with open(shm, "rb") as file:
                return cls(mmap.mmap(file.fileno(), 4096, access=mmap.ACCESS_READ))
        except (OSError, ValueError):
            return None

    def count(self) -> int:
        return int(struct.unpack_from("=I", self._mapped, 16)[0])

    def close(self) -> None:
        self._mapped.close()


def _add_missing_columns(conn: sqlite3.Connection) -> None:
    """Databases made by an earlier version get the columns added since."""
    shard_columns = {row[1] for row in conn.execute("PRAGMA table_info(shards)")}
    if "trimmed_seq" not in shard_columns:
        conn.execute("ALTER TABLE shards ADD COLUMN trimmed_seq INTEGER NOT NULL DEFAULT 0")
    if "lane" not in shard_columns:
        conn.execute("ALTER TABLE shards ADD COLUMN lane INTEGER NOT NULL DEFAULT 0")


def initialise(conn: sqlite3.Connection) -> None:
    conn.executescript(SCHEMA)
    _add_missing_columns(conn)
    conn.execute(
        "INSERT OR IGNORE INTO meta (key, value) VALUES ('schema_version', ?)",
        (str(SCHEMA_VERSION),),
    )
