"""Read connections: one per thread, each read one snapshot of committed data."""

from __future__ import annotations

import gc
import os
import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import pytest

from headwater.storage import rows
from headwater.storage.readers import Readers
from headwater.storage.store import Store, Txn

WAIT = 5.0
T = TypeVar("T")


def in_thread(fn: Callable[[], T]) -> T:
    result: list[T] = []
    thread = threading.Thread(target=lambda: result.append(fn()))
    thread.start()
    thread.join(WAIT)
    assert result, "the thread did not finish"
    return result[0]


def test_a_connection_is_reused_between_reads(store: Store) -> None:
    first = store.read(lambda conn: conn)
    assert store.read(lambda conn: conn) is first


def test_concurrent_reads_use_different_connections(store: Store) -> None:
    inside = threading.Event()
    release = threading.Event()

    def hold(conn: sqlite3.Connection) -> sqlite3.Connection:
        inside.set()
        assert release.wait(WAIT)
        return conn

    holder: list[sqlite3.Connection] = []
    thread = threading.Thread(target=lambda: holder.append(store.read(hold)))
    thread.start()
    assert inside.wait(WAIT)
    try:
        mine = store.read(lambda conn: conn)
    finally:
        release.set()
    thread.join(WAIT)
    assert holder and holder[0] is not mine


def test_reads_beyond_the_pool_size_wait_for_a_connection(tmp_path: Path) -> None:
    Store(tmp_path / "r.db").close()  # create the schema
    readers = Readers(tmp_path / "r.db", max_connections=1)
    inside, release = threading.Event(), threading.Event()

    def hold(conn: sqlite3.Connection) -> int:
        inside.set()
        assert release.wait(WAIT)
        return 1

    thread = threading.Thread(target=lambda: readers.read(hold))
    thread.start()
    assert inside.wait(WAIT)
    results: list[int] = []
    waiter = threading.Thread(target=lambda: results.append(readers.read(lambda c: 2)))
    waiter.start()
    waiter.join(0.2)
    assert waiter.is_alive() and not results  # no second connection: it waits
    release.set()
    thread.join(WAIT)
    waiter.join(WAIT)
    assert results == [2]
    assert readers.open_connections == 1
    readers.close()


def test_a_reader_does_not_see_an_uncommitted_write(store: Store) -> None:
    written = threading.Event()
    release = threading.Event()

    def job(txn: Txn) -> None:
        rows.set_meta(txn.conn, "pending", "1")
        written.set()
        assert release.wait(WAIT)

    future = store.submit(job)
    assert written.wait(WAIT)
    try:
        assert store.read(lambda conn: rows.get_meta(conn, "pending")) is None
    finally:
        release.set()
    future.result(WAIT)
    assert store.read(lambda conn: rows.get_meta(conn, "pending")) == "1"


def test_a_rolled_back_write_is_never_visible(store: Store) -> None:
    def job(txn: Txn) -> None:
        rows.set_meta(txn.conn, "ghost", "1")
        raise ValueError("no")

    with pytest.raises(ValueError):
        store.write(job)
    assert store.read(lambda conn: rows.get_meta(conn, "ghost")) is None


def test_one_read_is_one_snapshot_even_across_a_commit(store: Store) -> None:
    store.write(lambda txn: rows.set_meta(txn.conn, "n", "1"))

    def read(conn: sqlite3.Connection) -> tuple[str | None, str | None]:
        first = rows.get_meta(conn, "n")
        store.write(lambda txn: rows.set_meta(txn.conn, "n", "2"))  # commits meanwhile
        return first, rows.get_meta(conn, "n")

    assert store.read(read) == ("1", "1")
    assert store.read(lambda conn: rows.get_meta(conn, "n")) == "2"


def test_a_failing_read_ends_its_transaction(store: Store) -> None:
    def read(conn: sqlite3.Connection) -> None:
        conn.execute("SELECT 1").fetchone()
        raise LookupError("reader failed")

    with pytest.raises(LookupError):
        store.read(read)
    assert not store.read(lambda conn: conn).in_transaction
    assert store.read(lambda conn: conn.execute("SELECT 7").fetchone()[0]) == 7


def test_a_single_statement_read_opens_no_transaction(store: Store) -> None:
    store.write(lambda txn: rows.set_meta(txn.conn, "one", "1"))

    def read(conn: sqlite3.Connection) -> tuple[str | None, bool]:
        return rows.get_meta(conn, "one"), conn.in_transaction

    assert store.read_one(read) == ("1", False)
    assert store.read_one(lambda conn: conn) is store.read(lambda conn: conn)  # same pool


def test_a_single_statement_read_sees_the_latest_commit(store: Store) -> None:
    store.write(lambda txn: rows.set_meta(txn.conn, "two", "1"))
    assert store.read_one(lambda conn: rows.get_meta(conn, "two")) == "1"
    store.write(lambda txn: rows.set_meta(txn.conn, "two", "2"))
    assert store.read_one(lambda conn: rows.get_meta(conn, "two")) == "2"


def test_read_connections_cannot_write(store: Store) -> None:
    with pytest.raises(sqlite3.OperationalError):
        store.read(lambda conn: rows.set_meta(conn, "sneaky", "1"))
    assert store.read(lambda conn: rows.get_meta(conn, "sneaky")) is None


def test_a_read_after_close_is_refused(tmp_path: Path) -> None:
    store = Store(tmp_path / "r.db")
    store.close()
    with pytest.raises(RuntimeError, match="closed"):
        store.read(lambda conn: None)


def test_close_closes_the_pooled_connections(tmp_path: Path) -> None:
    Store(tmp_path / "r.db").close()  # create the schema
    readers = Readers(tmp_path / "r.db")
    conn = readers.read(lambda c: c)
    readers.close()
    with pytest.raises(sqlite3.ProgrammingError):
        conn.execute("SELECT 1")


def _open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="needs /proc")
def test_threads_that_end_do_not_leak_read_connections(store: Store) -> None:
    store.read(lambda conn: None)  # warm up this thread's connection
    gc.collect()
    before = _open_fds()
    for _ in range(20):
        in_thread(lambda: store.read(lambda conn: conn.execute("SELECT 1").fetchone()))
    gc.collect()
    assert _open_fds() - before < 10


def test_a_reserved_connection_serves_its_thread_without_the_pool(tmp_path: Path) -> None:
    store = Store(tmp_path / "db.sqlite")
    try:
        readers = store.readers
        readers.reserve_for_this_thread()
        ids: list[int] = []

        def outer(conn: sqlite3.Connection) -> int:
            ids.append(id(conn))
            # A nested read on the same thread cannot share the busy connection: pool.
            return readers.read_one(lambda inner: ids.append(id(inner)) or 1)

        assert readers.read(outer) == 1
        assert readers.read(lambda conn: ids.append(id(conn))) is None
        assert ids[0] == ids[2] != ids[1]  # the reserved one, a pooled one, the reserved again
        assert readers.open_connections == 1  # only the nested read used the pool

        other: list[int] = []
        thread = threading.Thread(target=lambda: readers.read(lambda c: other.append(id(c))))
        thread.start()
        thread.join()
        assert other and other[0] != ids[0]  # other threads never get it
    finally:
        store.close()
