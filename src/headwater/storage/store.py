"""The store: one database, one writer, many readers.

``Store(path)`` opens (or creates) the database at ``path``; ``Store.temporary()`` makes one in
a private temporary directory that disappears on close (``--in-memory``: fast, nothing kept).

When a durable commit becomes visible. By default the store syncs the write-ahead log itself
(SQLite commits with ``synchronous=NORMAL``: the log is written, not synced): the commit's
after-commit callbacks run first — readers and stream pollers see the commit, which is in the
operating system's hands and so survives a crash of Headwater — then the log is synced, and
only then are the jobs' futures resolved, which is when a client gets its answer. An
acknowledged write is as durable as with ``synchronous=FULL``; a handler just starts one fsync
sooner (the fsync is most of a delivery's latency on a slow disk). The one difference: if the
*machine* fails in that fsync's window, a write nobody was told about is lost after the restart
although a handler may have seen it. ``publish_after_fsync=True`` closes that window: SQLite
syncs inside the commit, before anyone sees it.
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
from headwater.storage.db import (
    CHECKPOINT_FRAMES,
    LogFrames,
    connect,
    initialise,
    presize_wal,
)
from headwater.storage.readers import Readers
from headwater.storage.writer import Txn, Writer

try:
    import fcntl
except ImportError:  # Windows: no advisory locks here; one server per data directory is on you
    fcntl = None  # type: ignore[assignment]

T = TypeVar("T")

_fdatasync: Callable[[int], None] = getattr(os, "fdatasync", os.fsync)  # macOS has no fdatasync

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
    def __init__(
        self,
        path: Path,
        *,
        durable: bool = True,
        publish_after_fsync: bool = False,
        owned_dir: Path | None = None,
        checkpoint_frames: int = CHECKPOINT_FRAMES,
    ) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._lock_fd = _lock(path)
        self.path = path
        self._owned_dir = owned_dir
        self._wal_fd: int | None = None
        self._synced_frames: int | None = None
        own_fsync = durable and not publish_after_fsync
        try:
            self._conn = connect(path, durable=durable, own_fsync=own_fsync)
            initialise(self._conn)
            if durable:
                presize_wal(path)
            if own_fsync:
                # SQLite keeps this file (the same inode) while its connection is open: it
                # rewinds the log from the start, and only removes it when the last one closes.
                wal = path.with_name(path.name + "-wal")
                self._wal_fd = os.open(wal, os.O_RDWR | os.O_CREAT, 0o644)
        except BaseException:
            if self._lock_fd is not None:
                os.close(self._lock_fd)
            raise
        self.readers = Readers(path)
        self.commit_failures = 0
        self.log_frames = LogFrames.open(path)
        checkpoint_due = None
        if self.log_frames is not None:
            frames = self.log_frames
            self._conn.execute("PRAGMA wal_autocheckpoint = 0")  # the writer asks instead
            checkpoint_due = lambda: frames.count() >= checkpoint_frames  # noqa: E731
        self.writer = Writer(
            self._conn,
            self._note_commit_failure,
            sync=self._sync_log if self._wal_fd is not None else None,
            checkpoint_due=checkpoint_due,
        )
        self._closed = False

    def _sync_log(self, rows_changed: bool) -> None:
        """Sync the log after a commit, unless the commit wrote nothing to it: no row changed
        and the log holds as many frames as at the last sync (SQLite, committing a transaction
        that changed nothing, writes nothing; it would not sync either)."""
        assert self._wal_fd is not None
        frames = self.log_frames.count() if self.log_frames is not None else None
        if not rows_changed and frames is not None and frames == self._synced_frames:
            return
        _fdatasync(self._wal_fd)
        self._synced_frames = frames

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
        if self.log_frames is not None:
            self.log_frames.close()
        if self._wal_fd is not None:
            os.close(self._wal_fd)
        if self._lock_fd is not None:
            os.close(self._lock_fd)  # releases the lock
        if self._owned_dir is not None:
            shutil.rmtree(self._owned_dir, ignore_errors=True)
