"""Finishing index changes in the background: backfilling a new global secondary index and
dropping a deleted one.

UpdateTable only marks the index CREATING (or DELETING) in its own writer job; this builder then
works through the table a chunk per writer job, so other writes interleave and are never held
up for long. While an index is CREATING every write keeps it up to date (``indexes.maintain``),
and each chunk reads the items as they are at that moment, so the result is exact whatever runs
in between; the last chunk marks the index ACTIVE in the same job. A DELETING index is no longer
written; its rows go a chunk at a time, then its definition. Both are idempotent, so after a
restart ``resume`` simply starts them again.

In realism mode (``--table-transition-seconds``) the change is also held until the table's
UPDATING window ends: the rows are done at once, but the definition changes (the index turns
ACTIVE, or a deleted one leaves DescribeTable) in the same job that ends the window, so a
client polling DescribeTable sees the table UPDATING with the index CREATING (or DELETING), then
both settled, and never an ACTIVE index on a table still UPDATING for it.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from dataclasses import dataclass, replace
from functools import partial
from typing import Final

from headwater.clock import Clock, Timers
from headwater.storage import index_rows, rows
from headwater.storage.store import Store, Txn
from headwater.tables import index_rules, indexes
from headwater.tables.catalog import Catalog, TableInfo

log = logging.getLogger("headwater.indexes")

Cursor = tuple[bytes, bytes]

_MORE: Final = "more"  # rows left to do
# rows done, the definition waits for the window to end; the index's status follows the colon
_HELD: Final = "held:"
_DONE: Final = "done"


@dataclass(frozen=True)
class _Task:
    table_id: int
    region: str
    table: str
    index: str
    # Realism mode: the clock time the table's UPDATING window ends (0: no window). The change
    # completes, and the table turns ACTIVE with it, no earlier.
    ready_at: float = 0.0
    rows_done: bool = False  # the rows are already built (or dropped); only the definition is left
    # The index status the held change was finishing: if the index moved on meanwhile (an
    # index deleted during its backfill), the held change has nothing left to do.
    expect: str = ""


class IndexBuilder:
    def __init__(
        self,
        store: Store,
        catalog: Catalog,
        *,
        chunk: int = 500,
        clock: Clock | None = None,
        timers: Timers | None = None,
    ) -> None:
        self.store = store
        self.catalog = catalog
        self.chunk = chunk
        self.clock = clock
        self.timers = timers
        self._tasks: deque[_Task] = deque()
        self._cond = threading.Condition()
        self._thread: threading.Thread | None = None

    def schedule(self, info: TableInfo, index: str, *, ready_at: float = 0.0) -> None:
        """Finish the change of ``index`` (safe to call from an after-commit callback); with
        ``ready_at``, not before that clock time, ending the table's UPDATING window then."""
        self._enqueue(_Task(info.table_id, info.region, info.name, index, ready_at))

    def _enqueue(self, task: _Task) -> None:
        with self._cond:
            self._tasks.append(task)
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
            state, after = self.store.write(partial(self._step, task=task, after=after))
            if state == _DONE:
                return
            if state.startswith(_HELD):
                assert self.timers is not None
                # While held, writes keep a CREATING index's rows and leave a DELETING one's
                # alone, so only the definition is left to change when the window ends.
                held = replace(task, rows_done=True, expect=state.removeprefix(_HELD))
                self.timers.call_at(task.ready_at, partial(self._enqueue, held))
                return

    def _held(self, task: _Task) -> bool:
        return (
            task.ready_at > 0
            and self.clock is not None
            and self.timers is not None
            and self.clock.time() < task.ready_at
        )

    def _step(self, txn: Txn, *, task: _Task, after: Cursor | None) -> tuple[str, Cursor | None]:
        """One chunk; returns what is left to do and where to continue."""
        raw = index_rows.table_definition(txn.conn, task.table_id)
        if raw is None:
            return _DONE, None  # the table went away
        info = TableInfo.from_json(task.table_id, task.region, task.table, raw)
        index = indexes.find(info, task.index)
        if index is None or (task.expect and index.status != task.expect):
            return _DONE, None
        if index.status == indexes.CREATING:
            if not task.rows_done:
                page = index_rows.items_after(txn.conn, task.table_id, after, self.chunk)
                indexes.backfill(txn, info, index, page)
                if len(page) == self.chunk:
                    return _MORE, (page[-1][0], page[-1][1])
            if self._held(task):
                return _HELD + indexes.CREATING, None
            kept = tuple(
                index_rules.finished(i) if i.name == task.index else i for i in info.indexes
            )
        elif index.status == indexes.DELETING:
            if not task.rows_done and index_rows.delete_some(
                txn.conn, task.table_id, task.index, self.chunk
            ) == (self.chunk):
                return _MORE, None
            if self._held(task):
                return _HELD + indexes.DELETING, None
            kept = tuple(i for i in info.indexes if i.name != task.index)
        else:
            return _DONE, None
        new = replace(info, indexes=kept)
        rows.update_table(txn.conn, task.table_id, new.to_json())
        settles = task.ready_at > 0
        txn.after_commit(lambda: self._publish(new, settles=settles))
        return _DONE, None

    def _publish(self, new: TableInfo, *, settles: bool) -> None:
        """Show the changed definition; ``settles``: this change ends the table's UPDATING
        window (realism mode), so the table turns ACTIVE in the same step."""
        current = self.catalog.get(new.region, new.name)
        if current is not None and current.table_id == new.table_id:
            self.catalog.put(replace(new, status="ACTIVE" if settles else current.status))
