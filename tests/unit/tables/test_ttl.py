"""The TTL domain on a real Store: expiry rules, the re-check in the deleting job, the reaper."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from headwater.clock import Clock
from headwater.model.keys import encode_key
from headwater.storage.store import Store
from headwater.streams.log import StreamLog
from headwater.streams.notify import ShardNotifier
from headwater.tables.catalog import Catalog, TableInfo
from headwater.tables.control import StreamSpec, TableControl, TableSpec
from headwater.tables.items import ItemOps
from headwater.tables.ttl import IGNORED_AGE, TimeToLive, TtlReaper, is_expired
from tests.conftest import wait_until

REGION = "us-east-1"
NOW = 1_800_000_000.0


class World:
    def __init__(self, path: Path) -> None:
        self.clock = Clock()
        self.store = Store(path)
        self.catalog = Catalog()
        self.streams = StreamLog(self.store, self.clock, ShardNotifier())
        self.control = TableControl(self.store, self.catalog, self.streams, self.clock, "1" * 12)
        self.items = ItemOps(self.store, self.catalog, self.streams)
        self.ttl = TimeToLive(self.store, self.catalog, self.streams, self.clock)
        self.ttl.install()

    def table(self, name: str = "orders", stream: bool = False) -> TableInfo:
        spec = TableSpec(
            name=name,
            key_schema=(("pk", "HASH"),),
            attribute_definitions=(("pk", "S"),),
            billing_mode="PAY_PER_REQUEST",
            read_capacity=None,
            write_capacity=None,
            stream=StreamSpec(True, "NEW_AND_OLD_IMAGES") if stream else None,
        )
        info = self.control.create_table(REGION, spec)
        self.ttl.update(REGION, name, enabled=True, attribute="exp")
        return info

    def put(self, pk: str, expires: float | None, table: str = "orders") -> None:
        item: dict[str, Any] = {"pk": {"S": pk}}
        if expires is not None:
            item["exp"] = {"N": str(int(expires))}
        self.items.put_item(REGION, table, item).result()

    def exists(self, pk: str, table: str = "orders") -> bool:
        return self.items.get_item(REGION, table, {"pk": {"S": pk}}) is not None


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    opened = World(tmp_path / "headwater.db")
    yield opened
    opened.store.close()


def _item(value: dict[str, Any]) -> dict[str, Any]:
    return {"pk": {"S": "a"}, "exp": value}


def test_a_number_in_the_past_is_expired() -> None:
    assert is_expired(_item({"N": str(int(NOW) - 1)}), "exp", NOW)
    assert is_expired(_item({"N": "1.7999999995E+9"}), "exp", NOW)


def test_now_and_the_future_are_not_expired() -> None:
    assert not is_expired(_item({"N": str(int(NOW))}), "exp", NOW)
    assert not is_expired(_item({"N": str(int(NOW) + 1)}), "exp", NOW)


def test_other_types_and_other_attributes_are_not_expiries() -> None:
    for value in ({"S": "1"}, {"NS": ["1"]}, {"L": [{"N": "1"}]}, {"NULL": True}):
        assert not is_expired(_item(value), "exp", NOW)
    assert not is_expired(_item({"N": "1"}), "other", NOW)


def test_expiries_more_than_five_years_old_are_ignored() -> None:
    oldest = NOW - IGNORED_AGE
    assert is_expired(_item({"N": str(int(oldest))}), "exp", NOW)
    assert not is_expired(_item({"N": str(int(oldest) - 1)}), "exp", NOW)


def test_the_deleting_job_spares_an_item_extended_since_the_scan(world: World) -> None:
    info = world.table()
    now = world.clock.time()
    world.put("a", now - 10)
    keys, following = world.ttl.expired_page(info, "exp", now, None, 100)
    assert keys == [(encode_key({"S": "a"}), b"")] and following is None
    world.put("a", now + 3600)
    assert world.ttl.delete_expired(info, "exp", keys).result() == 0
    assert world.exists("a")


def test_the_deleting_job_does_nothing_once_ttl_is_disabled(world: World) -> None:
    info = world.table()
    world.put("a", world.clock.time() - 10)
    keys, _ = world.ttl.expired_page(info, "exp", world.clock.time(), None, 100)
    world.clock.advance(3601)
    world.ttl.update(REGION, "orders", enabled=False, attribute="exp")
    assert world.ttl.delete_expired(info, "exp", keys).result() == 0
    assert world.exists("a")


def test_a_sweep_pages_through_the_table_and_deletes_in_chunks(world: World) -> None:
    world.table()
    now = world.clock.time()
    for i in range(7):
        world.put(f"old{i}", now - 10)
    world.put("new", now + 3600)
    world.put("none", None)
    reaper = TtlReaper(world.ttl, world.clock, 0, page_size=3, chunk_size=2)
    jobs_before = world.store.writer.jobs_committed
    assert reaper.sweep() == 7
    assert world.store.writer.jobs_committed - jobs_before >= 4  # 7 deletions, 2 at a time
    assert world.exists("new") and world.exists("none")
    assert not any(world.exists(f"old{i}") for i in range(7))


def test_the_remove_record_is_marked_as_the_service(world: World) -> None:
    info = world.table(stream=True)
    world.put("a", world.clock.time() - 10)
    assert TtlReaper(world.ttl, world.clock, 0).sweep() == 1
    assert info.latest_stream_arn is not None
    shard = world.streams.shards(info.latest_stream_arn)[0]
    records = [r for _, _, r in world.streams.read(shard.shard_key, 0, 10)]
    assert b'"eventName":"REMOVE"' in records[-1]
    assert (
        b'"userIdentity":{"type":"Service","principalId":"dynamodb.amazonaws.com"}' in records[-1]
    )


def test_a_deleted_tables_setting_is_gone_with_it(world: World) -> None:
    info = world.table()
    world.control.delete_table(REGION, "orders")
    assert world.ttl.enabled_tables() == []
    leftover = world.store.read(
        lambda conn: conn.execute(
            "SELECT COUNT(*) FROM ddb_ttl WHERE table_id = ?", (info.table_id,)
        ).fetchone()[0]
    )
    assert leftover == 0


def test_advancing_the_clock_wakes_a_timerless_reaper(world: World) -> None:
    world.table()
    reaper = TtlReaper(world.ttl, world.clock, 0)
    reaper.start()
    try:
        world.put("a", world.clock.time() + 60)
        assert reaper.sweeps == 0
        world.clock.advance(120)
        wait_until(lambda: reaper.deleted == 1)
        assert not world.exists("a")
    finally:
        reaper.stop()


def test_stopping_interrupts_a_long_wait(world: World) -> None:
    reaper = TtlReaper(world.ttl, world.clock, 3600)
    reaper.start()
    started = time.monotonic()
    reaper.stop()
    assert time.monotonic() - started < 5
    assert reaper.sweeps == 0
