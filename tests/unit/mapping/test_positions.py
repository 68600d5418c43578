"""Mapping positions on their way to the disk: riding along in commits that happen anyway,
flushed on their own after a short delay otherwise, all written by flush() and close()."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from headwater.mapping.positions import PendingPositions
from headwater.storage import rows
from headwater.storage.store import Store
from tests.conftest import wait_until


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    made = Store(tmp_path / "positions.db")
    yield made
    made.close()


def saved(store: Store, uuid: str) -> dict[str, int]:
    return store.read(lambda conn: rows.load_checkpoints(conn, uuid))


def test_noted_positions_ride_along_in_the_next_commit(store: Store) -> None:
    pending = PendingPositions(store, lambda uuid: True, delay=3600)  # never on its own
    pending.note("m1", "shard-a", 7)
    pending.note("m1", "shard-a", 9)  # only the newest of a key is written
    pending.note("m1", "shard-b", 3)
    assert saved(store, "m1") == {}
    store.write(lambda txn: rows.set_meta(txn.conn, "unrelated", "write"))
    assert saved(store, "m1") == {"shard-a": 9, "shard-b": 3}
    commits = store.writer.groups_committed
    pending.note("m1", "shard-a", 12)
    store.write(lambda txn: rows.set_meta(txn.conn, "unrelated", "again"))
    assert saved(store, "m1") == {"shard-a": 12, "shard-b": 3}
    assert store.writer.groups_committed == commits + 1  # no commit of their own
    pending.close()


def test_without_other_writes_positions_are_flushed_after_the_delay(store: Store) -> None:
    pending = PendingPositions(store, lambda uuid: True, delay=0.05)
    pending.note("m1", "shard-a", 5)
    wait_until(lambda: saved(store, "m1") == {"shard-a": 5}, timeout=5)
    pending.note("m1", "shard-a", 6)  # the flusher keeps working after its first flush
    wait_until(lambda: saved(store, "m1") == {"shard-a": 6}, timeout=5)
    pending.close()


def test_flush_and_close_write_everything_noted(store: Store) -> None:
    pending = PendingPositions(store, lambda uuid: True, delay=3600)
    pending.note("m1", "shard-a", 1)
    pending.flush()
    assert saved(store, "m1") == {"shard-a": 1}
    pending.note("m1", "shard-a", 2)
    pending.close()
    assert saved(store, "m1") == {"shard-a": 2}


def test_positions_of_a_mapping_that_is_gone_are_dropped(store: Store) -> None:
    live = {"m1"}
    pending = PendingPositions(store, lambda uuid: uuid in live, delay=3600)
    pending.note("m1", "shard-a", 4)
    pending.note("m2", "shard-a", 4)
    pending.flush()
    assert saved(store, "m1") == {"shard-a": 4}
    assert saved(store, "m2") == {}
    pending.close()
