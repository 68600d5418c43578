"""The store: one database, one writer, many readers.

``Store(path)`` opens (or creates) the database at ``path``; ``Store.temporary()`` makes one in
a private temporary directory that disappears on close (``--in-memory``: fast, nothing kept).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sqlite3
import tempfile
from collections.abc import Callable
from concurrent.futures import Future
from pathlib import Path
from typing import TypeVar

from headwater.errors import HeadwaterError
from headwater.storage.db import connect, initialise, presize_wal
from headwater.storage.readers import Readers
from headwater.storage.writer import Txn, Writer

try:
    import fcntl
except ImportError:  # Windows: no advisory locks here; one server per data directory is on you
    fcntl = None  # type: ignore[assignment]

T = TypeVar("T")

__all__ = ["DataDirInUse", "Store", "Txn"]


class DataDirInUse(HeadwaterError):
    """Another process has this database open as its store."""


def _lock(path: Path) -> int | None:
    """Take the database's lock file (``<db>.lock``, holding the owner's pid) for this process:
    two servers on one database would each number stream records and run mappings on their
    own. The lock is the kernel's: it ends with the process, however that ends."""
    if fcntl is None:
        return None
    lock_path = path.with_name(path.name + ".lock")
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        owner = os.pread(fd, 32, 0).decode(errors="replace").strip() or "unknown"
        os.close(fd)
        raise DataDirInUse(
            f"another Headwater (pid {owner}) is using the data directory {path.parent}; "
            "stop it or choose another data directory"
        ) from None
    os.ftruncate(fd, 0)
    os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
    return fd


class Store:
    def __init__(self, path: Path, *, durable: bool = True, owned_dir: Path | None = None) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._lock_fd = _lock(path)
        self.path = path
        self._owned_dir = owned_dir
        try:
            self._conn = connect(path, durable=durable)
            initialise(self._conn)
            if durable:
                presize_wal(path)
        except BaseException:
            if self._lock_fd is not None:
                os.close(self._lock_fd)
            raise
        self.readers = Readers(path)
        self.commit_failures = 0
        self.writer = Writer(self._conn, self._note_commit_failure)
        self._closed = False

    @classmethod
    def temporary(cls) -> Store:
        directory = Path(tempfile.mkdtemp(prefix="headwater-"))
        return cls(directory / "headwater.db", durable=False, owned_dir=directory)

    def _note_commit_failure(self) -> None:
        self.commit_failures += 1

    def submit(self, fn: Callable[[Txn], T]) -> Future[T]:
        return self.writer.submit(fn)

    def write(self, fn: Callable[[Txn], T]) -> T:
        return self.writer.run(fn)

    def read(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        return self.readers.read(fn)

    def read_one(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """``read`` for a function that makes a single statement (no explicit transaction)."""
        return self.readers.read_one(fn)

    def startup_read(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """Read before anything else runs (loading state at start-up)."""
        return self.readers.read(fn)

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self.writer.close()
        self.readers.close()
        with contextlib.suppress(sqlite3.Error):
            self._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        self._conn.close()
        if self._lock_fd is not None:
            os.close(self._lock_fd)  # releases the lock
        if self._owned_dir is not None:
            shutil.rmtree(self._owned_dir, ignore_errors=True)
