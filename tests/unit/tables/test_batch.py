"""BatchOps without a server: one writer job per batch, one snapshot per batch read."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from headwater.clock import Clock
from headwater.errors import ResourceNotFound, ValidationError
from headwater.tables import batch
from headwater.tables.batch import GetSpec, WriteSpec
from tests.unit.tables.tables_world import REGION, Tables


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def tables(tmp_path: Path, clock: Clock) -> Iterator[Tables]:
    opened = Tables(tmp_path / "headwater.db", clock)
    yield opened
    opened.close()


def test_a_batch_write_is_one_writer_job(tables: Tables) -> None:
    tables.create("orders")
    before = tables.store.writer.jobs_committed
    spec = WriteSpec("orders", [("put", {"pk": {"S": str(i)}}) for i in range(25)])
    outcome = tables.batch.batch_write(REGION, [spec], measure=True).result()
    assert tables.store.writer.jobs_committed == before + 1
    assert outcome.capacity["orders"].write == 25.0
    assert len(tables.records("orders")) == 25


def test_a_table_deleted_before_the_job_runs_fails_the_whole_batch(tables: Tables) -> None:
    tables.create("orders")
    tables.create("other")
    specs = [
        WriteSpec("orders", [("put", {"pk": {"S": "a"}})]),
        WriteSpec("other", [("put", {"pk": {"S": "a"}})]),
    ]
    started = threading.Event()
    release = threading.Event()

    def hold(txn: object) -> None:
        started.set()
        release.wait(10)

    tables.store.writer.submit(hold)  # the writer is busy while the batch is checked...
    started.wait(10)
    future = tables.batch.batch_write(REGION, specs)
    tables.catalog.remove(REGION, "other")  # ...and the table goes before its job runs
    release.set()
    with pytest.raises(ResourceNotFound):
        future.result()
    assert tables.items.get_item(REGION, "orders", {"pk": {"S": "a"}}) is None


def test_batch_get_splits_at_the_response_limit(
    tables: Tables, monkeypatch: pytest.MonkeyPatch
) -> None:
    tables.create("orders", stream=False)
    for i in range(5):
        item = {"pk": {"S": f"k{i}"}, "v": {"S": "x" * 100}}
        tables.items.put_item(REGION, "orders", item).result()
    monkeypatch.setattr(batch, "MAX_RESPONSE_BYTES", 320)
    keys = [{"pk": {"S": f"k{i}"}} for i in range(5)]
    (result,) = tables.batch.batch_get(REGION, [GetSpec("orders", keys)])
    assert [i["pk"]["S"] for i in result.items] == ["k0", "k1", "k2"]
    assert result.unprocessed == keys[3:]


def test_batch_get_counts_keys_across_tables(tables: Tables) -> None:
    specs = [
        GetSpec("a-table", [{"pk": {"S": f"a{i}"}} for i in range(50)]),
        GetSpec("b-table", [{"pk": {"S": f"b{i}"}} for i in range(51)]),
    ]
    with pytest.raises(ValidationError, match="Too many items requested"):
        tables.batch.batch_get(REGION, specs)
