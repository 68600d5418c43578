"""Finishing index changes in the background: backfilling a new global secondary index and
dropping a deleted one.

UpdateTable only marks the index CREATING (or DELETING) in its own writer job; this builder then
works through the table a chunk per writer job, so other writes interleave and are never held
up for long. While an index is CREATING every write keeps it up to date (``indexes.maintain``),
and each chunk reads the items as they are at that moment, so the result is exact whatever runs
in between; the last chunk marks the index ACTIVE in the same job. A DELETING index is no longer
written; its rows go a chunk at a time, then its definition. Both are idempotent, so after a
restart ``resume`` simply starts them again.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from dataclasses import dataclass, replace
from functools import partial

from headwater.storage import index_rows, rows
from headwater.storage.store import Store, Txn
from headwater.tables import index_rules, indexes
from headwater.tables.catalog import Catalog, TableInfo

log = logging.getLogger("headwater.indexes")

Cursor = tuple[bytes, bytes]


@dataclass(frozen=True)
class _Task:
    table_id: int
    region: str
    table: str
    index: str


class IndexBuilder:
    def __init__(self, store: Store, catalog: Catalog, *, chunk: int = 500) -> None:
        self.store = store
        self.catalog = catalog
        self.chunk = chunk
        self._tasks: deque[_Task] = deque()
        self._cond = threading.Condition()
        self._thread: threading.Thread | None = None

    def schedule(self, info: TableInfo, index: str) -> None:
        """Finish the change of ``index`` (safe to call from an after-commit callback)."""
        with self._cond:
            self._tasks.append(_Task(info.table_id, info.region, info.name, index))
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="headwater-indexes", daemon=True
                )
                self._thread.start()

    def resume(self) -> None:
        """At start-up: pick up every change a stop interrupted."""
        for info in self.catalog.tables():
            for index in info.indexes:
                if index.status in (indexes.CREATING, indexes.DELETING):
                    self.schedule(info, index.name)

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Wait until nothing is left to do (tests); False on timeout."""
        with self._cond:
            return self._cond.wait_for(lambda: self._thread is None, timeout)

    def _run(self) -> None:
        while True:
            with self._cond:
                if not self._tasks:
                    self._thread = None
                    self._cond.notify_all()
                    return
                task = self._tasks.popleft()
            try:
                self._finish(task)
            except RuntimeError:
                log.debug("index build stopped: the database is closed")
                with self._cond:
                    self._tasks.clear()
            except Exception:
                log.exception("index build of %s on %s failed", task.index, task.table)

    def _finish(self, task: _Task) -> None:
        after: Cursor | None = None
        while True:
            done, after = self.store.write(partial(self._step, task=task, after=after))
            if done:
                return

    def _step(self, txn: Txn, *, task: _Task, after: Cursor | None) -> tuple[bool, Cursor | None]:
        """One chunk; returns whether the change is complete and where to continue."""
        raw = index_rows.table_definition(txn.conn, task.table_id)
        if raw is None:
            return True, None  # the table went away
        info = TableInfo.from_json(task.table_id, task.region, task.table, raw)
        index = indexes.find(info, task.index)
        if index is None:
            return True, None
        if index.status == indexes.CREATING:
            page = index_rows.items_after(txn.conn, task.table_id, after, self.chunk)
            indexes.backfill(txn, info, index, page)
            if len(page) == self.chunk:
                return False, (page[-1][0], page[-1][1])
            kept = tuple(
                index_rules.finished(i) if i.name == task.index else i for i in info.indexes
            )
        elif index.status == indexes.DELETING:
            if index_rows.delete_some(txn.conn, task.table_id, task.index, self.chunk) == (
                self.chunk
            ):
                return False, None
            kept = tuple(i for i in info.indexes if i.name != task.index)
        else:
            return True, None
        new = replace(info, indexes=kept)
        rows.update_table(txn.conn, task.table_id, new.to_json())
        txn.after_commit(lambda: self._publish(new))
        return True, None

    def _publish(self, new: TableInfo) -> None:
        current = self.catalog.get(new.region, new.name)
        if current is not None and current.table_id == new.table_id:
            self.catalog.put(replace(new, status=current.status))
