"""The single writer with group commit.

Every change to the database is a *job*: a function of a :class:`Txn` that the writer runs in
its own SAVEPOINT. The writer takes every job waiting, runs them one after another inside ONE
transaction, commits once (one fsync for the whole group), runs the jobs' after-commit callbacks
(which is where stream readers get woken) and resolves each job's future. With a ``sync`` (see
``store.py``) the commit itself only writes the log: the callbacks run, then ``sync`` makes it
durable, then the futures are resolved. A job
that raises rolls back to its savepoint only, so one failed condition never disturbs its
neighbours in the group. (A group of one job skips the savepoint: if it fails, the whole
transaction is rolled back, which comes to the same.)

*Riders* (:meth:`Writer.add_rider`) are given every transaction that is about to commit, after
its jobs: state that may be written late (a mapping's positions) rides along in a commit that
happens anyway, instead of paying an fsync of its own.

Groups run on one of two threads, never both at once (``_lock`` is held from BEGIN until the
last after-commit callback has run, so commits and their callbacks stay in commit order):

- the writer thread, for jobs submitted from any thread but the event loop's;
- the event loop's own thread, for jobs submitted there once :meth:`Writer.attach` was called.
  Those are collected while the loop handles one turn's requests and run as one group at the
  start of its next turn (``call_soon``), so an item write costs no hand-off to another thread
  and back. If the writer thread holds the connection just then, the group is handed to it
  instead: the loop never waits for a long job.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import sqlite3
import threading
from collections.abc import Callable
from concurrent.futures import CancelledError, Future
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

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
_CHECKPOINT = object()  # queued by a group that found the log due for a checkpoint


class EventLoop(Protocol):
    """What the writer needs of an event loop (``asyncio``'s or uvloop's) to run groups on it."""

    def call_soon(self, callback: Callable[[], None], /) -> object: ...


_PENDING, _RUNNING, _CANCELLED, _FINISHED = range(4)
_HERE_LOCK = threading.Lock()  # guards the state and callbacks of every _HereFuture


class _HereFuture(Future[Any]):
    """The future of a job held for the event loop's next group: a ``Future`` without the
    per-future ``threading.Condition`` (it is made and resolved on the loop's thread, unless
    the group is handed to the writer thread). Waiting for it on the loop's own thread (a
    blocking ``result()``) runs the group at once instead of deadlocking.

    It overrides every public method of ``Future`` and never calls ``Future.__init__``, so
    ``concurrent.futures.wait`` / ``as_completed`` (which use its private condition) do not
    apply; ``asyncio.wrap_future`` and ``add_done_callback`` do."""

    def __init__(self, writer: Writer) -> None:  # no super().__init__(): see above
        self._writer = writer
        self._phase = _PENDING
        self._value: Any = None
        self._error: BaseException | None = None
        self._callbacks: list[Callable[[Future[Any]], object]] = []
        self._event: threading.Event | None = None

    def __repr__(self) -> str:
        return f"<_HereFuture state={self._phase}>"

    # -- the caller's side --

    def cancel(self) -> bool:
        with _HERE_LOCK:
            if self._phase == _RUNNING or self._phase == _FINISHED:
                return False
            if self._phase == _CANCELLED:
                return True
            self._phase = _CANCELLED
        self._settled()
        return True

    def cancelled(self) -> bool:
        return self._phase == _CANCELLED

    def running(self) -> bool:
        return self._phase == _RUNNING

    def done(self) -> bool:
        return self._phase >= _CANCELLED

    def add_done_callback(self, fn: Callable[[Future[Any]], object]) -> None:
        with _HERE_LOCK:
            if self._phase < _CANCELLED:
                self._callbacks.append(fn)
                return
        self._call(fn)

    def result(self, timeout: float | None = None) -> Any:
        self._wait(timeout)
        if self._phase == _CANCELLED:
            raise CancelledError()
        if self._error is not None:
            raise self._error
        return self._value

    def exception(self, timeout: float | None = None) -> BaseException | None:
        self._wait(timeout)
        if self._phase == _CANCELLED:
            raise CancelledError()
        return self._error

    def _wait(self, timeout: float | None) -> None:
        if self._phase >= _CANCELLED:
            return
        if threading.get_ident() == self._writer._here_thread:
            self._writer._flush_here()  # still held for the next group: run it now
        with _HERE_LOCK:
            if self._phase >= _CANCELLED:
                return
            if self._event is None:
                self._event = threading.Event()
            event = self._event
        if not event.wait(timeout):
            raise TimeoutError()

    # -- the writer's side --

    def set_running_or_notify_cancel(self) -> bool:
        with _HERE_LOCK:
            if self._phase == _CANCELLED:
                return False
            self._phase = _RUNNING
            return True

    def set_result(self, result: Any) -> None:
        self._value = result
        with _HERE_LOCK:
            self._phase = _FINISHED
        self._settled()

    def set_exception(self, exception: BaseException | None) -> None:
        self._error = exception
        with _HERE_LOCK:
            self._phase = _FINISHED
        self._settled()

    def _settled(self) -> None:
        with _HERE_LOCK:
            callbacks, self._callbacks = self._callbacks, []
            event = self._event
        if event is not None:
            event.set()
        for fn in callbacks:
            self._call(fn)

    def _call(self, fn: Callable[[Future[Any]], object]) -> None:
        try:
            fn(self)
        except Exception:
            log.exception("a future's done callback failed")


class Writer:
    """Owns the only read-write connection; runs jobs in groups on one thread."""

    def __init__(
        self,
        conn: sqlite3.Connection,
        on_commit_failure: Callable[[], None],
        sync: Callable[[bool], None] | None = None,
        checkpoint_due: Callable[[], bool] | None = None,
    ) -> None:
        """``sync``: makes the last commit durable (SQLite's commit did not); called after the
        group's after-commit callbacks and before its futures are resolved, with whether the
        group changed any row (a group that changed none, such as a PutItem of the item as it
        is, may have written nothing at all).
        ``checkpoint_due``: asked after each group (its writers answered, its readers woken)
        whether the log wants a checkpoint, which then runs on the writer thread before the
        next group (the connection's automatic checkpoint being off): SQLite's own runs inside
        the commit that crosses its size, and holds that write back from everyone for the whole
        checkpoint (3-9 ms here)."""
        self._conn = conn
        self._sync = sync
        self._checkpoint_due = checkpoint_due
        self._checkpoint_queued = False
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._on_commit_failure = on_commit_failure
        self._thread = threading.Thread(target=self._run, name="headwater-writer", daemon=True)
        self._closed = False
        self._gate = threading.Lock()
        self._lock = threading.Lock()  # held while a group runs (see the module's text)
        self._loop: EventLoop | None = None
        self._here_thread: int | None = None
        self._here: list[_Job] = []
        self._running_here = False
        self._riders: list[Callable[[Txn], None]] = []
        self.groups_committed = 0
        self.jobs_committed = 0
        self._thread.start()

    def attach(self, loop: EventLoop) -> None:
        """Run the jobs submitted on ``loop``'s thread on that thread (call it there)."""
        self._loop = loop
        self._here_thread = threading.get_ident()

    def detach(self) -> None:
        """The loop is ending: run what it holds now, and send later jobs to the writer thread
        (call it on the loop's thread)."""
        if self._here_thread != threading.get_ident():
            return
        self._flush_here()
        self._here_thread = None
        self._loop = None

    def add_rider(self, rider: Callable[[Txn], None]) -> None:
        """Call ``rider`` inside every transaction about to commit, after its jobs. It must be
        quick, must not wait for another write, and should do nothing when it has nothing to
        write; its own failure is logged and leaves the group's jobs alone."""
        self._riders.append(rider)

    def submit(self, fn: Callable[[Txn], T]) -> Future[T]:
        if self._here_thread == threading.get_ident() and not self._closed:
            return self._submit_here(fn)
        future: Future[T] = Future()
        with self._gate:  # close() cannot slip in between the check and the put
            if not self._closed:
                self._queue.put(_Job(fn, future))
                return future
        future.set_exception(RuntimeError("the database is closed"))
        return future

    def run(self, fn: Callable[[Txn], T]) -> T:
        """Submit and wait."""
        return self.submit(fn).result()

    def close(self) -> None:
        with self._gate:
            if self._closed:
                return
            self._closed = True
            self._queue.put(_STOP)
        self._thread.join(timeout=30)
        self._fail_pending()
        with self._lock:  # a group running on the loop's thread finishes first
            held, self._here = self._here, []
        for job in held:
            if job.future.set_running_or_notify_cancel():
                job.future.set_exception(RuntimeError("the database is closed"))

    # -- groups on the event loop's thread ---------------------------------------------------

    def _submit_here(self, fn: Callable[[Txn], T]) -> Future[T]:
        future = _HereFuture(self)
        if not self._here:
            assert self._loop is not None
            self._loop.call_soon(self._flush_here)
        self._here.append(_Job(fn, future))
        return future

    def _flush_here(self) -> None:
        group = self._here
        if not group:
            return
        if self._running_here:
            raise RuntimeError("a job or after-commit callback waited for another write")
        self._here = []
        if not self._lock.acquire(blocking=False):
            # The writer thread is busy with a group: it takes these next.
            with self._gate:
                if not self._closed:
                    for job in group:
                        self._queue.put(job)
                    return
            for job in group:
                if job.future.set_running_or_notify_cancel():
                    job.future.set_exception(RuntimeError("the database is closed"))
            return
        self._running_here = True
        try:
            self._run_group(group)
        finally:
            self._running_here = False
            self._lock.release()

    def _fail_pending(self) -> None:
        """Jobs that raced with close() get an error rather than waiting forever."""
        while True:
            try:
                job = self._queue.get_nowait()
            except queue.Empty:
                return
            if job in (_STOP, _CHECKPOINT):
                continue
            if job.future.set_running_or_notify_cancel():
                job.future.set_exception(RuntimeError("the database is closed"))

    # -- the writer thread -------------------------------------------------------------------

    def _run(self) -> None:
        while True:
            first = self._queue.get()
            if first is _STOP:
                self._fail_pending()
                return
            if first is _CHECKPOINT:
                with self._lock:
                    self._checkpoint()
                continue
            group: list[_Job] = [first]
            stop = checkpoint = False
            while len(group) < MAX_GROUP:
                try:
                    nxt = self._queue.get_nowait()
                except queue.Empty:
                    break
                if nxt is _STOP:
                    stop = True
                    break
                if nxt is _CHECKPOINT:
                    checkpoint = True
                    continue
                group.append(nxt)
            with self._lock:
                self._run_group(group)
                if checkpoint:
                    self._checkpoint()
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
        changes = conn.total_changes
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
        riders = Txn(conn)
        for rider in self._riders:
            try:
                rider(riders)
            except Exception:
                log.exception("a rider of the commit failed")
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
        _call_all(riders._after)
        for job, (ok, _value) in zip(group, outcomes, strict=True):
            if ok:
                _call_all(job.after)
        if self._sync is not None:
            try:
                self._sync(conn.total_changes != changes)
            except OSError as exc:
                log.error("syncing the committed log failed: %s", exc)
                self._on_commit_failure()
                outcomes = [(False, exc)] * len(group)
        for job, (ok, value) in zip(group, outcomes, strict=True):
            if ok:
                job.future.set_result(value)
            else:
                job.future.set_exception(value)
        due = self._checkpoint_due
        if due is not None and not self._checkpoint_queued and due():
            with self._gate:
                if not self._closed:
                    self._checkpoint_queued = True
                    self._queue.put(_CHECKPOINT)

    def _checkpoint(self) -> None:
        """Under the lock, between groups: copy the log into the database (PASSIVE: readers
        keep reading); the next commit then writes the log from its start again."""
        self._checkpoint_queued = False
        try:
            self._conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
        except sqlite3.Error as exc:
            log.warning("checkpoint of the write-ahead log failed: %s", exc)


def _call_all(callbacks: list[Callable[[], None]]) -> None:
    """After-commit callbacks, in order; one that raises is logged and the rest still run."""
    for callback in callbacks:
        try:
            callback()
        except Exception:
            log.exception("after-commit callback failed")
