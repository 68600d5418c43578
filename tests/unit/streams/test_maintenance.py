"""Retention: records older than the window are trimmed; readers see AWS's errors for them."""

from __future__ import annotations

import threading

import pytest

from headwater.errors import ResourceNotFound, TrimmedDataAccess
from headwater.streams import ids
from headwater.streams.maintenance import StreamMaintenance as Trimmer
from tests.unit.streams.support import StreamWorld

DAY = 24 * 60 * 60


def _keys(world: StreamWorld, arn: str, iterator: str) -> list[str]:
    import orjson

    page = world.service.get_records(iterator, 100)
    return [orjson.loads(r)["dynamodb"]["Keys"]["pk"]["S"] for r in page.records]


def test_records_older_than_the_window_are_trimmed(world: StreamWorld) -> None:
    info = world.create_stream()
    world.append(info, "old")
    world.clock.advance(DAY - 10)
    world.append(info, "young")
    world.clock.advance(20)
    assert Trimmer(world.log, world.clock).sweep() == 1
    shard = world.shard(info.arn)
    it = world.service.get_shard_iterator(info.arn, shard.shard_id, "TRIM_HORIZON", None)
    assert _keys(world, info.arn, it) == ["young"]


def test_an_iterator_into_trimmed_data_raises_trimmed_data_access(world: StreamWorld) -> None:
    info = world.create_stream()
    first = world.append(info, "a")
    shard = world.shard(info.arn)
    it = world.service.get_shard_iterator(info.arn, shard.shard_id, "TRIM_HORIZON", None)
    world.clock.advance(61)  # within the iterator's 15 minutes, past a 60 s window
    Trimmer(world.log, world.clock, retention_seconds=60).sweep()
    with pytest.raises(TrimmedDataAccess):
        world.service.get_records(it, 10)
    with pytest.raises(TrimmedDataAccess):
        world.service.get_shard_iterator(
            info.arn, shard.shard_id, "AT_SEQUENCE_NUMBER", ids.format_sequence(first)
        )


def test_a_closed_shard_whose_records_are_all_trimmed_disappears(world: StreamWorld) -> None:
    info = world.create_stream()
    world.append(info, "a")
    world.disable(info.arn)
    world.clock.advance(DAY + 1)
    Trimmer(world.log, world.clock).sweep()
    assert world.log.shards(info.arn) == []
    Trimmer(world.log, world.clock).sweep()
    with pytest.raises(ResourceNotFound):
        world.service.describe_stream(info.arn, 100, None)


def test_an_open_shard_stays_even_when_empty(world: StreamWorld) -> None:
    info = world.create_stream()
    world.append(info, "a")
    world.clock.advance(DAY + 1)
    Trimmer(world.log, world.clock).sweep()
    shard = world.shard(info.arn)
    assert shard.trimmed_seq > 0
    world.append(info, "b")
    it = world.service.get_shard_iterator(info.arn, shard.shard_id, "TRIM_HORIZON", None)
    assert _keys(world, info.arn, it) == ["b"]


def test_trimming_survives_a_restart(world: StreamWorld) -> None:
    info = world.create_stream()
    world.append(info, "a")
    world.clock.advance(DAY + 1)
    Trimmer(world.log, world.clock).sweep()
    trimmed = world.shard(info.arn).trimmed_seq
    world.reopen()
    assert world.shard(info.arn).trimmed_seq == trimmed


def test_advancing_the_clock_wakes_the_background_sweep(world: StreamWorld) -> None:
    info = world.create_stream()
    world.append(info, "a")
    trimmer = Trimmer(world.log, world.clock, interval=3600)
    swept = threading.Event()
    original = trimmer.sweep

    def sweep() -> int:
        changed = original()
        if changed:
            swept.set()
        return changed

    trimmer.sweep = sweep  # type: ignore[method-assign]
    trimmer.start()
    try:
        world.clock.advance(DAY + 1)
        assert swept.wait(10)
    finally:
        trimmer.stop()
    assert world.shard(info.arn).trimmed_seq > 0


def test_raising_the_shard_count_splits_a_one_shard_stream(world: StreamWorld) -> None:
    info = world.create_stream()
    world.append(info, "before")
    parent = world.shard(info.arn)
    assert world.log.resize(3) == 1
    shards = world.log.shards(info.arn)
    children = [s for s in shards if s.parent_shard_id == parent.shard_id]
    assert len(children) == 3 and all(c.is_open for c in children)
    closed = next(s for s in shards if s.shard_id == parent.shard_id)
    assert not closed.is_open
    for key in ("a", "b", "c", "d", "e", "f"):
        world.append(world.stream(info.arn), key)
    assert len(world.log.read(parent.shard_key, 0, 100)) == 1  # only "before"
    assert sum(len(world.log.read(c.shard_key, 0, 100)) for c in children) == 6
    world.reopen()
    assert world.stream(info.arn).lanes == 3
    assert world.log.resize(3) == 0  # already split: nothing to do
