"""The single writer thread with group commit.

Every change to the database is a *job*: a function of a :class:`Txn` that the writer runs in
its own SAVEPOINT. The writer takes every job waiting in its queue, runs them one after another
inside ONE transaction, commits once (one fsync for the whole group) and only then resolves each
job's future and runs its after-commit callbacks (which is where stream readers get woken). A
job that raises rolls back to its savepoint only, so one failed condition never disturbs its
neighbours in the group. (A group of one job skips the savepoint: if it fails, the whole
transaction is rolled back, which comes to the same.)
"""

from __future__ import annotations

import contextlib
import logging
import queue
import sqlite3
import threading
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any, TypeVar

log = logging.getLogger("headwater.storage")

T = TypeVar("T")

MAX_GROUP = 512


class Txn:
    """What a job sees: the connection, plus a place to queue work for after the commit."""

    __slots__ = ("_after", "conn")

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        self._after: list[Callable[[], None]] = []

    def after_commit(self, callback: Callable[[], None]) -> None:
        self._after.append(callback)


@dataclass
class _Job:
    fn: Callable[[Txn], Any]
    future: Future[Any]
    after: list[Callable[[], None]] = field(default_factory=list)


_STOP = object()


class Writer:
    """Owns the only read-write connection; runs jobs in groups on one thread."""

    def __init__(self, conn: sqlite3.Connection, on_commit_failure: Callable[[], None]) -> None:
        self._conn = conn
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._on_commit_failure = on_commit_failure
        self._thread = threading.Thread(target=self._run, name="headwater-writer", daemon=True)
        self._closed = False
        self._gate = threading.Lock()
        self.groups_committed = 0
        self.jobs_committed = 0
        self._thread.start()

    def submit(self, fn: Callable[[Txn], T]) -> Future[T]:
        future: Future[T] = Future()
        with self._gate:  # close() cannot slip in between the check and the put
            if not self._closed:
                self._queue.put(_Job(fn, future))
                return future
        future.set_exception(RuntimeError("the database is closed"))
        return future

    def run(self, fn: Callable[[Txn], T]) -> T:
        """Submit and wait (for callers on plain threads)."""
        return self.submit(fn).result()

    def close(self) -> None:
        with self._gate:
            if self._closed:
                return
            self._closed = True
            self._queue.put(_STOP)
        self._thread.join(timeout=30)
        self._fail_pending()

    def _fail_pending(self) -> None:
        """Jobs that raced with close() get an error rather than waiting forever."""
        while True:
            try:
                job = self._queue.get_nowait()
            except queue.Empty:
                return
            if job is not _STOP and job.future.set_running_or_notify_cancel():
                job.future.set_exception(RuntimeError("the database is closed"))

    # -- the writer thread -------------------------------------------------------------------

    def _run(self) -> None:
        while True:
            first = self._queue.get()
            if first is _STOP:
                self._fail_pending()
                return
            group: list[_Job] = [first]
            stop = False
            while len(group) < MAX_GROUP:
                try:
                    nxt = self._queue.get_nowait()
                except queue.Empty:
                    break
                if nxt is _STOP:
                    stop = True
                    break
                group.append(nxt)
            self._run_group(group)
            if stop:
                self._fail_pending()
                return

    def _run_group(self, group: list[_Job]) -> None:
        # A job whose caller gave up (its future was cancelled, e.g. the HTTP client went away)
        # is dropped before it runs; once running, its future can no longer be cancelled, so
        # resolving it below can never fail and take the writer thread down.
        group = [job for job in group if job.future.set_running_or_notify_cancel()]
        if not group:
            return
        conn = self._conn
        outcomes: list[tuple[bool, Any]] = []
        try:
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            for job in group:
                job.future.set_exception(exc)
            return
        if len(group) == 1:
            # A group of one needs no savepoint: if its job fails, the transaction goes.
            (job,) = group
            txn = Txn(conn)
            try:
                result = job.fn(txn)
            except BaseException as exc:
                with contextlib.suppress(sqlite3.Error):
                    conn.execute("ROLLBACK")
                job.future.set_exception(exc)
                return
            job.after = txn._after
            outcomes.append((True, result))
        else:
            for job in group:
                txn = Txn(conn)
                conn.execute("SAVEPOINT job")
                try:
                    result = job.fn(txn)
                except BaseException as exc:
                    conn.execute("ROLLBACK TO job")
                    conn.execute("RELEASE job")
                    outcomes.append((False, exc))
                else:
                    conn.execute("RELEASE job")
                    job.after = txn._after
                    outcomes.append((True, result))
        try:
            conn.execute("COMMIT")
        except sqlite3.Error as exc:
            log.error("group commit failed: %s", exc)
            with contextlib.suppress(sqlite3.Error):
                conn.execute("ROLLBACK")
            self._on_commit_failure()
            for job in group:
                job.future.set_exception(exc)
            return
        self.groups_committed += 1
        self.jobs_committed += sum(1 for ok, _ in outcomes if ok)
        for job, (ok, value) in zip(group, outcomes, strict=True):
            if ok:
                for callback in job.after:
                    try:
                        callback()
                    except Exception:
                        log.exception("after-commit callback failed")
                job.future.set_result(value)
            else:
                job.future.set_exception(value)
