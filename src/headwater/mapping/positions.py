"""Mapping positions on their way to the disk.

A poller notes its shard's new position after every batch and goes on without waiting for it
to be written: an fsync per batch would bound a shard at a few hundred batches a second, and
each one would queue in front of the next item write. Noted positions are kept here and written
in one of two ways, whichever comes first:

* riding along in the next commit that happens anyway (a writer *rider*: an item write, a
  stream record, anything), at no cost of its own;
* by a flush of their own at most ``delay`` seconds after the first of them was noted, when
  nothing else commits meanwhile.

So positions reach the disk within ``delay`` of being noted. A crash can lose the positions
noted in that span; the records after the durable position are then delivered again, which is
the at-least-once delivery AWS promises. A graceful stop (:meth:`PendingPositions.close`) and
every read of the positions back (:meth:`PendingPositions.flush`) write them all first.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from headwater.storage import rows
from headwater.storage.store import Store, Txn

log = logging.getLogger("headwater.mapping")

FLUSH_DELAY_S = 0.05


class PendingPositions:
    """Thread-safe. ``wanted(uuid)`` says whether a mapping still exists: a poller that
    outlived its mapping's deletion must not leave a stray row behind."""

    def __init__(
        self, store: Store, wanted: Callable[[str], bool], delay: float = FLUSH_DELAY_S
    ) -> None:
        self._store = store
        self._wanted = wanted
        self._delay = delay
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._positions: dict[tuple[str, str], int] = {}  # (uuid, position key) -> seq
        self._due: float | None = None  # when the oldest noted position must be flushed
        self._closed = False
        store.writer.add_rider(self._ride)
        self._thread = threading.Thread(target=self._run, name="headwater-positions", daemon=True)
        self._thread.start()

    def note(self, uuid: str, position_key: str, seq: int) -> None:
        with self._lock:
            self._positions[(uuid, position_key)] = seq
            if self._due is None:
                self._due = time.monotonic() + self._delay
                self._changed.notify()

    def flush(self) -> None:
        """Write every noted position now and wait for it. Always through the writer, even
        with nothing noted: a commit under way may hold positions taken by its rider, and the
        writer's order makes this one commit no earlier than it."""
        self._store.write(self._write)

    def close(self) -> None:
        """Write what is noted and stop the flusher (the store must still be open)."""
        with self._lock:
            self._closed = True
            self._changed.notify()
        self._thread.join(timeout=5)
        try:
            self.flush()
        except Exception:
            log.exception("could not write the mappings' last positions")

    # -- writing ------------------------------------------------------------------------------

    def _take(self) -> dict[tuple[str, str], int]:
        with self._lock:
            positions, self._positions = self._positions, {}
            self._due = None
        return positions

    def _ride(self, txn: Txn) -> None:
        if self._positions:  # unlocked peek: a miss only leaves them for the flusher
            self._write(txn)

    def _write(self, txn: Txn) -> None:
        for (uuid, position_key), seq in self._take().items():
            if self._wanted(uuid):
                rows.save_checkpoint(txn.conn, uuid, position_key, seq)

    def _run(self) -> None:
        while True:
            with self._lock:
                while not self._closed:
                    due = self._due
                    if due is None:
                        self._changed.wait()
                        continue
                    left = due - time.monotonic()
                    if left <= 0:
                        break
                    self._changed.wait(left)
                if self._closed:
                    return
                self._due = None  # the positions stay noted until the job (or a rider) takes them
            try:
                self._store.submit(self._write)
            except Exception:  # the store is closing: close() writes what is left
                log.exception("could not queue the mappings' positions")
