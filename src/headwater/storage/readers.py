"""Read connections: a small pool, borrowed for one read at a time.

WAL lets any number of readers see the last committed state while the writer works. A reader
borrows a connection for one read transaction and gives it back, so connections are few and
bounded however many threads come and go (pollers start and stop with every mapping change),
and no connection is ever used by two threads at once.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from headwater.storage.db import connect

T = TypeVar("T")

MAX_CONNECTIONS = 8


class Readers:
    def __init__(self, path: Path, max_connections: int = MAX_CONNECTIONS) -> None:
        self._path = path
        self._max = max_connections
        self._cond = threading.Condition()
        self._idle: list[sqlite3.Connection] = []
        self._all: list[sqlite3.Connection] = []
        self._opening = 0
        self._closed = False
        # One connection of its own for one thread (the event loop, which reads small pages
        # inline): it never waits for the pool, so busy pollers cannot stall every request.
        self._owner: int | None = None
        self._owned: sqlite3.Connection | None = None
        self._owned_busy = False  # touched by the owner thread only

    def reserve_for_this_thread(self) -> None:
        """Give the calling thread a connection outside the pool (nested reads of that thread
        still borrow from the pool)."""
        conn = connect(self._path)
        conn.execute("PRAGMA query_only = ON")
        with self._cond:
            if self._closed:
                conn.close()
                return
            self._owner, self._owned = threading.get_ident(), conn

    def _borrow(self) -> sqlite3.Connection:
        owned = self._owned
        if owned is not None and not self._owned_busy and threading.get_ident() == self._owner:
            self._owned_busy = True
            return owned
        with self._cond:
            while True:
                if self._closed:
                    raise RuntimeError("the database is closed")
                if self._idle:
                    return self._idle.pop()
                if len(self._all) + self._opening < self._max:
                    self._opening += 1
                    break
                self._cond.wait()
        try:
            conn = connect(self._path)
            conn.execute("PRAGMA query_only = ON")
        finally:
            with self._cond:
                self._opening -= 1
        with self._cond:
            self._all.append(conn)
        return conn

    def _give_back(self, conn: sqlite3.Connection) -> None:
        if conn is self._owned:
            self._owned_busy = False
            return
        with self._cond:
            if self._closed:
                conn.close()
                return
            self._idle.append(conn)
            self._cond.notify()

    def read(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """Run ``fn`` in one read transaction, so it sees a single consistent snapshot."""
        conn = self._borrow()
        try:
            conn.execute("BEGIN")
            try:
                return fn(conn)
            finally:
                if conn.in_transaction:
                    conn.execute("COMMIT")
        finally:
            self._give_back(conn)

    def read_one(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """Run ``fn``, which makes ONE statement, without an explicit transaction: a statement
        is its own consistent snapshot (a point read saves its BEGIN and COMMIT)."""
        conn = self._borrow()
        try:
            return fn(conn)
        finally:
            self._give_back(conn)

    @property
    def open_connections(self) -> int:
        with self._cond:
            return len(self._all)

    def close(self) -> None:
        with self._cond:
            self._closed = True
            idle, self._idle = self._idle, []
            owned, self._owned = self._owned, None
            self._cond.notify_all()
        for conn in idle:
            conn.close()
        if owned is not None:
            owned.close()
