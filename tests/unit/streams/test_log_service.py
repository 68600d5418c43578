"""The stream log and the Streams read API together, over a real Store on a file."""

from __future__ import annotations

import re
import threading
from pathlib import Path

import orjson
import pytest

from headwater.clock import Clock
from headwater.errors import ExpiredIterator, ResourceNotFound, ValidationError
from headwater.storage.store import Txn
from headwater.streams import ids
from headwater.streams.iterators import ITERATOR_LIFETIME_SECONDS
from headwater.streams.log import StreamInfo
from tests.unit.streams.support import REGION, StreamWorld

WAIT = 5.0


class FrozenClock(Clock):
    def __init__(self, now: float) -> None:
        super().__init__()
        self.now = now

    def time(self) -> float:
        return self.now + self.offset


def seqs(records: list[bytes]) -> list[int]:
    out = []
    for record in records:
        parsed = ids.parse_sequence(orjson.loads(record)["dynamodb"]["SequenceNumber"])
        assert parsed is not None
        out.append(parsed)
    return out


def pks(records: list[bytes]) -> list[str]:
    return [orjson.loads(r)["dynamodb"]["Keys"]["pk"]["S"] for r in records]


def iterator(world: StreamWorld, info: StreamInfo, kind: str, sequence: str | None = None) -> str:
    return world.service.get_shard_iterator(
        info.arn, world.shard(info.arn).shard_id, kind, sequence
    )


def read_all(world: StreamWorld, token: str, limit: int = 1000) -> tuple[list[bytes], str | None]:
    page = world.service.get_records(token, limit)
    return page.records, page.next_iterator


# -- creating streams ---------------------------------------------------------------------------


def test_created_stream_is_enabled_with_one_open_shard(world: StreamWorld) -> None:
    info = world.create_stream()
    described, shards, last = world.service.describe_stream(info.arn, 100, None)
    assert described.status == "ENABLED"
    assert len(shards) == 1 and shards[0].is_open
    assert last is None


def test_created_stream_arn_ends_with_its_label(world: StreamWorld) -> None:
    info = world.create_stream("orders")
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}", info.label)
    assert info.arn == ids.stream_arn(REGION, info.account, "orders", info.label)


def test_created_shard_id_has_the_aws_format(world: StreamWorld) -> None:
    info = world.create_stream()
    assert re.fullmatch(r"shardId-\d{20}-[0-9a-f]{8}", world.shard(info.arn).shard_id)


def test_stream_is_invisible_until_its_job_commits(world: StreamWorld) -> None:
    created: list[StreamInfo] = []
    seen_inside: list[StreamInfo | None] = []

    def job(txn: Txn) -> None:
        info = world.log.create_stream(
            txn,
            region=REGION,
            account="123456789012",
            table_name="t1",
            view_type="KEYS_ONLY",
            key_schema=(("pk", "HASH"),),
        )
        created.append(info)
        seen_inside.append(world.log.stream(info.arn))

    world.store.write(job)
    assert seen_inside == [None]
    assert world.log.stream(created[0].arn) == created[0]


def test_a_failed_create_leaves_no_stream(world: StreamWorld) -> None:
    arns: list[str] = []

    def job(txn: Txn) -> None:
        info = world.log.create_stream(
            txn,
            region=REGION,
            account="123456789012",
            table_name="t1",
            view_type="KEYS_ONLY",
            key_schema=(("pk", "HASH"),),
        )
        arns.append(info.arn)
        raise ValueError("table creation failed")

    with pytest.raises(ValueError):
        world.store.write(job)
    assert world.log.stream(arns[0]) is None
    world.reopen()
    assert world.log.streams() == []


def test_two_streams_in_the_same_millisecond_get_distinct_arns(tmp_path: Path) -> None:
    world = StreamWorld(tmp_path / "frozen.db", FrozenClock(1_700_000_000.123))
    try:
        first = world.create_stream("t1")
        second = world.create_stream("t1")
        assert first.arn != second.arn
    finally:
        world.close()


# -- appending and reading ------------------------------------------------------------------------


def test_appended_records_read_back_in_order_from_trim_horizon(world: StreamWorld) -> None:
    info = world.create_stream()
    appended = [world.append(info, f"k{i}") for i in range(5)]
    records, _ = read_all(world, iterator(world, info, "TRIM_HORIZON"))
    assert pks(records) == [f"k{i}" for i in range(5)]
    assert seqs(records) == appended


def test_sequence_numbers_strictly_increase(world: StreamWorld) -> None:
    info = world.create_stream()
    appended = [world.append(info, f"k{i}") for i in range(5)]
    assert appended == sorted(set(appended))
    assert appended[0] > world.shard(info.arn).start_seq


def test_record_carries_the_stream_view_and_sequence_number(world: StreamWorld) -> None:
    info = world.create_stream(view_type="NEW_IMAGE")
    seq = world.append(info, "k", "hello")
    records, _ = read_all(world, iterator(world, info, "TRIM_HORIZON"))
    record = orjson.loads(records[0])
    assert record["eventName"] == "INSERT"
    assert record["dynamodb"]["SequenceNumber"] == ids.format_sequence(seq)
    assert record["dynamodb"]["NewImage"]["value"] == {"S": "hello"}
    assert record["dynamodb"]["StreamViewType"] == "NEW_IMAGE"


def test_a_failed_job_leaves_no_record(world: StreamWorld) -> None:
    info = world.create_stream()

    def job(txn: Txn) -> None:
        world.log.append(txn, info, name="INSERT", keys={"pk": {"S": "x"}}, old=None, new=None)
        raise ValueError("condition failed")

    with pytest.raises(ValueError):
        world.store.write(job)
    kept = world.append(info, "kept")
    records, _ = read_all(world, iterator(world, info, "TRIM_HORIZON"))
    assert seqs(records) == [kept]


def test_append_publishes_to_the_notifier_after_commit(world: StreamWorld) -> None:
    info = world.create_stream()
    key = world.shard(info.arn).shard_key
    seen_inside: list[int] = []

    def job(txn: Txn) -> int:
        seq = world.log.append(
            txn, info, name="INSERT", keys={"pk": {"S": "x"}}, old=None, new=None
        )
        seen_inside.append(world.notifier.latest(key))
        return seq

    seq = world.store.write(job)
    assert seen_inside == [-1]
    assert world.notifier.latest(key) == seq


def test_latest_skips_existing_records_and_sees_new_ones(world: StreamWorld) -> None:
    info = world.create_stream()
    world.append(info, "old")
    token = iterator(world, info, "LATEST")
    records, token_after = read_all(world, token)
    assert records == []
    assert token_after is not None
    world.append(info, "new")
    records, _ = read_all(world, token_after)
    assert pks(records) == ["new"]


def test_at_sequence_number_includes_that_record(world: StreamWorld) -> None:
    info = world.create_stream()
    world.append(info, "a")
    second = world.append(info, "b")
    world.append(info, "c")
    token = iterator(world, info, "AT_SEQUENCE_NUMBER", ids.format_sequence(second))
    assert pks(read_all(world, token)[0]) == ["b", "c"]


def test_after_sequence_number_excludes_that_record(world: StreamWorld) -> None:
    info = world.create_stream()
    world.append(info, "a")
    second = world.append(info, "b")
    world.append(info, "c")
    token = iterator(world, info, "AFTER_SEQUENCE_NUMBER", ids.format_sequence(second))
    assert pks(read_all(world, token)[0]) == ["c"]


def test_a_sequence_number_beyond_the_shard_is_rejected(world: StreamWorld) -> None:
    info = world.create_stream()
    last = world.append(info, "a")
    with pytest.raises(ValidationError, match="SequenceNumber"):
        iterator(world, info, "AT_SEQUENCE_NUMBER", ids.format_sequence(last + 100))


@pytest.mark.parametrize("bad", ["abc", "1" * 20, "0" * 21])
def test_a_malformed_sequence_number_is_rejected(world: StreamWorld, bad: str) -> None:
    info = world.create_stream()
    world.append(info, "a")
    with pytest.raises(ValidationError):
        iterator(world, info, "AT_SEQUENCE_NUMBER", bad)


def test_at_sequence_number_needs_a_sequence_number(world: StreamWorld) -> None:
    info = world.create_stream()
    with pytest.raises(ValidationError, match="required"):
        iterator(world, info, "AT_SEQUENCE_NUMBER")


def test_trim_horizon_refuses_a_sequence_number(world: StreamWorld) -> None:
    info = world.create_stream()
    seq = world.append(info, "a")
    with pytest.raises(ValidationError):
        iterator(world, info, "TRIM_HORIZON", ids.format_sequence(seq))


def test_an_unknown_iterator_type_is_rejected(world: StreamWorld) -> None:
    info = world.create_stream()
    with pytest.raises(ValidationError):
        iterator(world, info, "OLDEST")


def test_an_unknown_shard_is_not_found(world: StreamWorld) -> None:
    info = world.create_stream()
    with pytest.raises(ResourceNotFound):
        world.service.get_shard_iterator(
            info.arn, "shardId-00000000000000000000-00000000", "LATEST", None
        )


def test_an_unknown_stream_is_not_found(world: StreamWorld) -> None:
    info = world.create_stream()
    with pytest.raises(ResourceNotFound):
        world.service.describe_stream(info.arn.replace("orders", "nothing"), 100, None)


def test_a_malformed_stream_arn_is_invalid(world: StreamWorld) -> None:
    with pytest.raises(ValidationError):
        world.service.describe_stream("not-an-arn", 100, None)


def test_get_records_pages_by_limit_and_continues(world: StreamWorld) -> None:
    info = world.create_stream()
    for i in range(5):
        world.append(info, f"k{i}")
    first, token = read_all(world, iterator(world, info, "TRIM_HORIZON"), limit=2)
    assert token is not None
    second, token = read_all(world, token, limit=2)
    assert token is not None
    third, token = read_all(world, token, limit=2)
    assert pks(first + second + third) == [f"k{i}" for i in range(5)]


def test_an_open_shard_with_nothing_new_returns_an_iterator_to_the_same_place(
    world: StreamWorld,
) -> None:
    info = world.create_stream()
    world.append(info, "a")
    records, token = read_all(world, iterator(world, info, "TRIM_HORIZON"))
    assert pks(records) == ["a"]
    assert token is not None
    empty, token = read_all(world, token)
    assert empty == [] and token is not None
    world.append(info, "b")
    assert pks(read_all(world, token)[0]) == ["b"]


def test_a_page_stops_before_one_megabyte(world: StreamWorld) -> None:
    info = world.create_stream()
    for i in range(3):
        world.append(info, f"k{i}", "x" * 400_000)
    first, token = read_all(world, iterator(world, info, "TRIM_HORIZON"))
    assert pks(first) == ["k0", "k1"]
    assert token is not None
    assert pks(read_all(world, token)[0]) == ["k2"]


def test_an_iterator_expires_fifteen_minutes_after_issue_by_the_clock(world: StreamWorld) -> None:
    info = world.create_stream()
    token = iterator(world, info, "TRIM_HORIZON")
    world.clock.advance(ITERATOR_LIFETIME_SECONDS + 1)
    with pytest.raises(ExpiredIterator):
        world.service.get_records(token, 10)


def test_a_tampered_iterator_is_invalid(world: StreamWorld) -> None:
    info = world.create_stream()
    token = iterator(world, info, "TRIM_HORIZON")
    with pytest.raises(ValidationError):
        world.service.get_records(token[:-6], 10)


def test_list_streams_filters_by_region_and_table_and_pages(world: StreamWorld) -> None:
    a = world.create_stream("table-a")
    b = world.create_stream("table-b")
    page, last = world.service.list_streams(REGION, None, 1, None)
    assert [s.arn for s in page] == [a.arn] and last == a.arn
    page, last = world.service.list_streams(REGION, None, 1, last)
    assert [s.arn for s in page] == [b.arn] and last is None
    assert [s.arn for s in world.service.list_streams(REGION, "table-b", 10, None)[0]] == [b.arn]
    assert world.service.list_streams("eu-west-1", None, 10, None) == ([], None)


# -- disabling ----------------------------------------------------------------------------------


def test_disable_closes_the_shard_at_its_last_record(world: StreamWorld) -> None:
    info = world.create_stream()
    world.append(info, "a")
    last = world.append(info, "b")
    world.disable(info.arn)
    assert world.stream(info.arn).status == "DISABLED"
    assert world.shard(info.arn).end_seq == last


def test_a_fully_read_closed_shard_has_no_next_iterator(world: StreamWorld) -> None:
    info = world.create_stream()
    world.append(info, "a")
    world.append(info, "b")
    world.disable(info.arn)
    records, token = read_all(world, iterator(world, info, "TRIM_HORIZON"))
    assert pks(records) == ["a", "b"]
    assert token is None


def test_a_partly_read_closed_shard_continues_then_ends(world: StreamWorld) -> None:
    info = world.create_stream()
    for i in range(3):
        world.append(info, f"k{i}")
    world.disable(info.arn)
    first, token = read_all(world, iterator(world, info, "TRIM_HORIZON"), limit=2)
    assert pks(first) == ["k0", "k1"]
    assert token is not None
    rest, token = read_all(world, token, limit=2)
    assert pks(rest) == ["k2"]
    assert token is None


def test_an_empty_closed_shard_has_no_next_iterator(world: StreamWorld) -> None:
    info = world.create_stream()
    world.disable(info.arn)
    assert read_all(world, iterator(world, info, "TRIM_HORIZON")) == ([], None)


def test_latest_on_a_closed_shard_has_no_next_iterator(world: StreamWorld) -> None:
    info = world.create_stream()
    world.append(info, "a")
    world.disable(info.arn)
    assert read_all(world, iterator(world, info, "LATEST")) == ([], None)


def test_an_iterator_issued_before_disable_ends_after_the_last_record(world: StreamWorld) -> None:
    info = world.create_stream()
    token = iterator(world, info, "LATEST")
    world.append(info, "a")
    world.disable(info.arn)
    records, token_after = read_all(world, token)
    assert pks(records) == ["a"]
    assert token_after is None


def test_append_to_a_disabled_stream_writes_nothing(world: StreamWorld) -> None:
    info = world.create_stream()
    world.disable(info.arn)
    assert world.append(info, "late") == -1
    assert read_all(world, iterator(world, info, "TRIM_HORIZON"))[0] == []


def test_disable_twice_is_harmless(world: StreamWorld) -> None:
    info = world.create_stream()
    last = world.append(info, "a")
    world.disable(info.arn)
    world.disable(info.arn)
    assert world.shard(info.arn).end_seq == last


def test_disable_wakes_waiting_readers(world: StreamWorld) -> None:
    info = world.create_stream()
    shard = world.shard(info.arn)
    entered = threading.Event()
    result: list[bool] = []

    def check() -> bool:
        entered.set()
        return False

    reader = threading.Thread(
        target=lambda: result.append(world.notifier.wait(shard.shard_key, 0, None, check)),
        daemon=True,
    )
    reader.start()
    assert entered.wait(WAIT)
    world.disable(info.arn)
    reader.join(WAIT)
    assert not reader.is_alive()
    assert result == [False]


def test_an_append_grouped_after_disable_is_not_written_past_the_end(
    world: StreamWorld,
) -> None:
    info = world.create_stream()
    world.append(info, "before")
    entered, release = threading.Event(), threading.Event()

    def hold(txn: Txn) -> None:
        entered.set()
        assert release.wait(WAIT)

    world.store.submit(hold)
    assert entered.wait(WAIT)
    disabled = world.store.submit(lambda txn: world.log.disable_stream(txn, info.arn))
    appended = world.store.submit(
        lambda txn: world.log.append(
            txn, info, name="INSERT", keys={"pk": {"S": "after"}}, old=None, new=None
        )
    )
    release.set()
    disabled.result(WAIT)
    appended.result(WAIT)
    end = world.shard(info.arn).end_seq
    assert end is not None
    records, _ = read_all(world, iterator(world, info, "TRIM_HORIZON"))
    assert all(seq <= end for seq in seqs(records)), (seqs(records), end)


# -- restart ------------------------------------------------------------------------------------


def test_streams_and_shards_survive_a_restart(world: StreamWorld) -> None:
    info = world.create_stream()
    shard = world.shard(info.arn)
    world.reopen()
    assert world.stream(info.arn) == info
    assert world.shard(info.arn) == shard


def test_sequence_numbers_keep_increasing_after_a_restart(world: StreamWorld) -> None:
    info = world.create_stream()
    before = [world.append(info, f"k{i}") for i in range(3)]
    world.reopen()
    after = world.append(world.stream(info.arn), "later")
    assert after > max(before)
    records, _ = read_all(world, iterator(world, info, "TRIM_HORIZON"))
    assert seqs(records) == [*before, after]


def test_a_new_stream_after_restart_starts_past_every_old_sequence(world: StreamWorld) -> None:
    old = world.create_stream("t1")
    last = world.append(old, "a")
    world.disable(old.arn)
    world.reopen()
    new = world.create_stream("t2")
    assert world.shard(new.arn).start_seq > last
    assert world.append(new, "b") > last


def test_a_closed_shard_stays_closed_after_a_restart(world: StreamWorld) -> None:
    info = world.create_stream()
    last = world.append(info, "a")
    world.disable(info.arn)
    world.reopen()
    assert world.stream(info.arn).status == "DISABLED"
    assert world.shard(info.arn).end_seq == last
    assert read_all(world, iterator(world, info, "TRIM_HORIZON"))[1] is None


def test_latest_after_a_restart_is_past_the_stored_records(world: StreamWorld) -> None:
    info = world.create_stream()
    world.append(info, "old")
    world.reopen()
    token = iterator(world, info, "LATEST")
    world.append(world.stream(info.arn), "new")
    assert pks(read_all(world, token)[0]) == ["new"]


def test_an_iterator_issued_before_a_restart_still_works(world: StreamWorld) -> None:
    info = world.create_stream()
    world.append(info, "a")
    token = iterator(world, info, "TRIM_HORIZON")
    world.reopen()
    assert pks(read_all(world, token)[0]) == ["a"]
