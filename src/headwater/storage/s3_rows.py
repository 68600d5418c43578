"""The SQL of S3 buckets and the metadata of their objects.

An object's bytes are a file under the S3 root (``path`` is relative to it); its row holds
what S3 answers about it: size, ETag, last modified and the stored headers (content type,
user metadata) as JSON. Keys compare as UTF-8 bytes (SQLite's BINARY collation), which is the
order ListObjects returns.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass

Conn = sqlite3.Connection


@dataclass(frozen=True)
class BucketRow:
    name: str
    region: str
    created: float


@dataclass(frozen=True)
class ObjectRow:
    key: str
    path: str
    size: int
    etag: str
    modified: float
    headers: bytes


def get_bucket(conn: Conn, name: str) -> BucketRow | None:
    row = conn.execute(
        "SELECT name, region, created FROM s3_buckets WHERE name = ?", (name,)
    ).fetchone()
    return None if row is None else BucketRow(*row)


def list_buckets(conn: Conn) -> list[BucketRow]:
    return [
        BucketRow(*row)
        for row in conn.execute("SELECT name, region, created FROM s3_buckets ORDER BY name")
    ]


def insert_bucket(conn: Conn, name: str, region: str, created: float) -> None:
    conn.execute(
        "INSERT INTO s3_buckets (name, region, created) VALUES (?, ?, ?)", (name, region, created)
    )


def delete_bucket(conn: Conn, name: str) -> None:
    conn.execute("DELETE FROM s3_buckets WHERE name = ?", (name,))


def bucket_is_empty(conn: Conn, name: str) -> bool:
    return (
        conn.execute("SELECT 1 FROM s3_objects WHERE bucket = ? LIMIT 1", (name,)).fetchone()
        is None
    )


_OBJECT = "SELECT key, path, size, etag, modified, headers FROM s3_objects"


def _object(row: tuple[str, str, int, str, float, bytes]) -> ObjectRow:
    key, path, size, etag, modified, headers = row
    return ObjectRow(key, path, size, etag, modified, bytes(headers))


def get_object(conn: Conn, bucket: str, key: str) -> ObjectRow | None:
    row = conn.execute(f"{_OBJECT} WHERE bucket = ? AND key = ?", (bucket, key)).fetchone()
    return None if row is None else _object(row)


def put_object(conn: Conn, bucket: str, obj: ObjectRow) -> None:
    conn.execute(
        "INSERT OR REPLACE INTO s3_objects (bucket, key, path, size, etag, modified, headers) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        (bucket, obj.key, obj.path, obj.size, obj.etag, obj.modified, obj.headers),
    )


def delete_object(conn: Conn, bucket: str, key: str) -> None:
    conn.execute("DELETE FROM s3_objects WHERE bucket = ? AND key = ?", (bucket, key))


def objects_after(conn: Conn, bucket: str, prefix: str, after: str | None) -> Iterator[ObjectRow]:
    """Objects whose key starts with ``prefix`` and sorts after ``after``, in key order."""
    start = max(prefix, after) if after is not None else prefix
    op = ">" if after is not None and after >= prefix else ">="
    for row in conn.execute(
        f"{_OBJECT} WHERE bucket = ? AND key {op} ? ORDER BY key", (bucket, start)
    ):
        obj = _object(row)
        if not obj.key.startswith(prefix):
            return
        yield obj
