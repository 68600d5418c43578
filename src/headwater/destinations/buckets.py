"""S3 buckets backed by a directory: object bytes are files, their metadata rows in the store.

Bucket names are global, as on AWS; a bucket's objects live under
``<s3 root>/<bucket region>/<bucket>/``, at the path their key spells where the file system
allows (``aws/lambda/<uuid>/...`` is browsable as folders). A key that cannot be a path there
(an empty, ``.`` or ``..`` segment, a segment too long, or a clash between a key and another
key's folder, such as ``a`` beside ``a/b``) is kept under ``.headwater/<sha256 of key>``; the
row records which, so reads never guess.

A put writes a temporary file first (fsynced when durable), then one writer job moves it into
place and records the row, so concurrent puts of one key are ordered by the writer and the row
always describes the file.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path

from headwater.clock import Clock
from headwater.destinations.errors import NoSuchBucket, S3Error
from headwater.storage import s3_rows
from headwater.storage.s3_rows import BucketRow, Conn, ObjectRow
from headwater.storage.store import Store, Txn

_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_IP = re.compile(r"^\d+\.\d+\.\d+\.\d+$")
_RESERVED = ".headwater"
MAX_KEY_BYTES = 1024


@dataclass(frozen=True)
class StoredObject:
    bucket: str
    key: str
    size: int
    etag: str  # the MD5 of the bytes, hex
    modified: float
    headers: dict[str, str]  # content-type, user metadata (x-amz-meta-*) and the like
    path: Path


@dataclass(frozen=True)
class Listing:
    objects: list[StoredObject]
    common_prefixes: list[str]
    truncated: bool
    last: str | None  # the key or common prefix to continue after


def check_bucket_name(name: str) -> None:
    if not _BUCKET.match(name) or ".." in name or _IP.match(name):
        raise S3Error("InvalidBucketName", "The specified bucket is not valid.", name)


def no_such_key(key: str) -> S3Error:
    return S3Error("NoSuchKey", "The specified key does not exist.", key)


class Buckets:
    def __init__(self, store: Store, clock: Clock, root: Path, *, durable: bool = True) -> None:
        self.store = store
        self.clock = clock
        self.root = root
        self.durable = durable

    # -- buckets ------------------------------------------------------------------------------

    def create(self, name: str, region: str) -> None:
        check_bucket_name(name)

        def job(txn: Txn) -> None:
            existing = s3_rows.get_bucket(txn.conn, name)
            if existing is None:
                s3_rows.insert_bucket(txn.conn, name, region, self.clock.time())
            elif region != "us-east-1" or existing.region != "us-east-1":
                # us-east-1 answers a repeated create with 200 (a legacy AWS quirk)
                raise S3Error(
                    "BucketAlreadyOwnedByYou",
                    "Your previous request to create the named bucket succeeded and you already "
                    "own it.",
                    name,
                )

        self.store.write(job)

    def get(self, name: str) -> BucketRow:
        return self.store.read(lambda conn: self._require(conn, name))

    def list_buckets(self) -> list[BucketRow]:
        return self.store.read(s3_rows.list_buckets)

    def delete(self, name: str) -> None:
        def job(txn: Txn) -> BucketRow:
            bucket = self._require(txn.conn, name)
            if not s3_rows.bucket_is_empty(txn.conn, name):
                raise S3Error("BucketNotEmpty", "The bucket you tried to delete is not empty", name)
            s3_rows.delete_bucket(txn.conn, name)
            return bucket

        bucket = self.store.write(job)
        shutil.rmtree(self._bucket_dir(bucket), ignore_errors=True)

    @staticmethod
    def _require(conn: Conn, name: str) -> BucketRow:
        bucket = s3_rows.get_bucket(conn, name)
        if bucket is None:
            raise NoSuchBucket(name)
        return bucket

    def _bucket_dir(self, bucket: BucketRow) -> Path:
        return self.root / bucket.region / bucket.name

    # -- objects ------------------------------------------------------------------------------

    def put(self, bucket: str, key: str, data: bytes, headers: dict[str, str]) -> StoredObject:
        if not key or len(key.encode()) > MAX_KEY_BYTES:
            raise S3Error("KeyTooLongError", "Your key is too long", key)
        etag = hashlib.md5(data, usedforsecurity=False).hexdigest()
        staging = self.root / ".staging"
        staging.mkdir(parents=True, exist_ok=True)
        temporary = staging / uuid.uuid4().hex
        with open(temporary, "wb") as out:
            out.write(data)
            if self.durable:
                out.flush()
                os.fsync(out.fileno())

        def job(txn: Txn) -> StoredObject:
            row = self._require(txn.conn, bucket)
            base = self._bucket_dir(row)
            old = s3_rows.get_object(txn.conn, bucket, key)
            target = self._natural_path(base, key) or base / _RESERVED / _hashed(key)
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(temporary, target)
            relative = str(target.relative_to(self.root))
            if old is not None and old.path != relative:
                self._remove_file(base, self.root / old.path)
            obj = ObjectRow(
                key, relative, len(data), etag, self.clock.time(), json.dumps(headers).encode()
            )
            s3_rows.put_object(txn.conn, bucket, obj)
            return _stored(bucket, obj, self.root)

        try:
            return self.store.write(job)
        finally:
            with contextlib.suppress(FileNotFoundError):
                temporary.unlink()

    def head(self, bucket: str, key: str) -> StoredObject:
        def read(conn: Conn) -> StoredObject:
            self._require(conn, bucket)
            row = s3_rows.get_object(conn, bucket, key)
            if row is None:
                raise no_such_key(key)
            return _stored(bucket, row, self.root)

        return self.store.read(read)

    def read(self, bucket: str, key: str, start: int = 0, end: int | None = None) -> bytes:
        """The object's bytes from ``start`` to ``end`` inclusive (the whole object by default)."""
        obj = self.head(bucket, key)
        try:
            with open(obj.path, "rb") as source:
                source.seek(start)
                return source.read(-1 if end is None else end - start + 1)
        except FileNotFoundError:  # deleted between the row and the file
            raise no_such_key(key) from None

    def delete_object(self, bucket: str, key: str) -> None:
        """Deleting a key that is not there succeeds, as on AWS."""

        def job(txn: Txn) -> None:
            row = self._require(txn.conn, bucket)
            old = s3_rows.get_object(txn.conn, bucket, key)
            if old is not None:
                s3_rows.delete_object(txn.conn, bucket, key)
                self._remove_file(self._bucket_dir(row), self.root / old.path)

        self.store.write(job)

    def list_objects(
        self,
        bucket: str,
        prefix: str = "",
        delimiter: str = "",
        max_keys: int = 1000,
        after: str | None = None,
    ) -> Listing:
        def read(conn: Conn) -> Listing:
            self._require(conn, bucket)
            objects: list[StoredObject] = []
            prefixes: list[str] = []
            last: str | None = None
            for row in s3_rows.objects_after(conn, bucket, prefix, after):
                common = _common_prefix(row.key, prefix, delimiter)
                if common is not None and (
                    (prefixes and prefixes[-1] == common) or (after is not None and common <= after)
                ):
                    continue
                if len(objects) + len(prefixes) >= max_keys:
                    return Listing(objects, prefixes, True, last)
                if common is not None:
                    prefixes.append(common)
                    last = common
                else:
                    objects.append(_stored(bucket, row, self.root))
                    last = row.key
            return Listing(objects, prefixes, False, last)

        return self.store.read(read)

    # -- files --------------------------------------------------------------------------------

    @staticmethod
    def _natural_path(base: Path, key: str) -> Path | None:
        parts = key.split("/")
        if parts[0] == _RESERVED or any(
            part in ("", ".", "..") or "\x00" in part or len(part.encode()) > 255 for part in parts
        ):
            return None
        path = base.joinpath(*parts)
        ancestor = base
        for part in parts[:-1]:
            ancestor = ancestor / part
            if ancestor.exists() and not ancestor.is_dir():
                return None  # another key's file is where this key needs a folder
        if path.is_dir():
            return None  # other keys' folder is where this key needs a file
        return path

    @staticmethod
    def _remove_file(base: Path, path: Path) -> None:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
        parent = path.parent
        while parent != base and base in parent.parents:
            try:
                parent.rmdir()
            except OSError:
                return  # not empty
            parent = parent.parent


def _hashed(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def _common_prefix(key: str, prefix: str, delimiter: str) -> str | None:
    if not delimiter:
        return None
    at = key.find(delimiter, len(prefix))
    return None if at < 0 else key[: at + len(delimiter)]


def _stored(bucket: str, row: ObjectRow, root: Path) -> StoredObject:
    return StoredObject(
        bucket, row.key, row.size, row.etag, row.modified, json.loads(row.headers), root / row.path
    )
