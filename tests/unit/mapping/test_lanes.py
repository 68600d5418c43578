"""ParallelizationFactor's lanes: which lane a record belongs to, the shared reader that sorts a
shard into lanes once, and lane pollers working from it (with chaos in the handler)."""

from __future__ import annotations

import base64
import random
import threading
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from headwater.mapping import lanes as lanes_module
from headwater.mapping.config import MappingConfig
from headwater.mapping.failures import GivenUp
from headwater.mapping.invoker import Outcome
from headwater.mapping.lanes import ShardLanes, lane_key, lane_of_record, lane_starts
from headwater.mapping.policy import LadderSettings
from headwater.mapping.poller import PollerSettings, ShardPoller
from headwater.mapping.supervisor import MappingSupervisor
from headwater.model.key_encoding import encode_key
from headwater.streams.log import StreamInfo
from tests.unit.mapping.support import FakeInvoker, sequence_of, wait_until
from tests.unit.streams.support import ACCOUNT, REGION, StreamWorld

FUNCTION = "arn:aws:lambda:us-east-1:123456789012:function:lanes"


def pk_lane(pk: Any, lanes: int) -> int:
    """The lane of a partition key value: crc32 of its stored key encoding."""
    return zlib.crc32(encode_key(pk)) % lanes


# -- which lane ---------------------------------------------------------------------------


_values = st.one_of(
    st.text(min_size=1).map(lambda s: {"S": s}),
    st.integers(-(10**30), 10**30).map(lambda n: {"N": str(n)}),
    st.binary(min_size=1).map(lambda b: {"B": base64.b64encode(b).decode()}),
)


@settings(max_examples=200, deadline=None)
@given(_values, st.lists(_values, min_size=1, max_size=5), st.integers(2, 10))
def test_a_records_lane_is_its_partition_keys_whatever_the_sort_key(
    pk: dict[str, Any], sort_keys: list[dict[str, Any]], lanes: int
) -> None:
    for sk in sort_keys:
        keys = {"sk": sk, "pk": pk}
        record = orjson.dumps({"eventName": "INSERT", "dynamodb": {"Keys": keys}})
        assert lane_of_record(record, lanes, "pk") == pk_lane(pk, lanes)


def test_numbers_written_differently_share_a_lane() -> None:
    for text in ("1E+2", "100", "100.00", "1.0e2"):
        record = orjson.dumps({"dynamodb": {"Keys": {"pk": {"N": text}}}})
        assert lane_of_record(record, 4, "pk") == pk_lane({"N": "100"}, 4)


def test_lane_keys_name_the_shard_alone_for_one_lane() -> None:
    assert lane_key("shardId-1", 0, 1) == "shardId-1"
    assert lane_key("shardId-1", 2, 4) == "shardId-1#pk2/4"


def test_lanes_resume_from_their_own_positions() -> None:
    saved = {"s#pk0/2": 10, "s#pk1/2": 12, "other#pk0/2": 1}
    assert lane_starts(saved, "s", 2) == ([10, 12], {})


def test_new_lanes_start_at_the_lowest_position_of_another_setting() -> None:
    # a factor change (4 -> 2), or positions saved by the item-key lanes of before
    saved = {"s#0/4": 30, "s#1/4": 25, "s#2/4": 40, "s#3/4": 33, "t#pk0/2": 2}
    starts, others = lane_starts(saved, "s", 2)
    assert starts == [25, 25]
    assert others == {"s#0/4": 30, "s#1/4": 25, "s#2/4": 40, "s#3/4": 33}
    # one lane: the shard's own key; from lanes back to one
    back = {"s#pk0/2": 7, "s#pk1/2": 5}
    assert lane_starts(back, "s", 1) == ([5], back)
    # LATEST at creation saved under the shard's own key; nothing saved at all
    assert lane_starts({"s": 9}, "s", 3) == ([9, 9, 9], {"s": 9})
    assert lane_starts({}, "s", 2) == ([None, None], {})


# -- the shared reader ---------------------------------------------------------------------


@pytest.fixture
def info(world: StreamWorld) -> StreamInfo:
    return world.create_stream()


def lane_of_pk(pk: str, lanes: int) -> int:
    return pk_lane({"S": pk}, lanes)


def test_each_lane_reads_its_own_records_in_order_and_the_shard_is_parsed_once(
    world: StreamWorld, info: StreamInfo, monkeypatch: pytest.MonkeyPatch
) -> None:
    parsed: list[bytes] = []
    original = lanes_module.lane_of_record

    def counting(record: bytes, lanes: int, hash_name: str) -> int:
        parsed.append(record)
        return original(record, lanes, hash_name)

    monkeypatch.setattr(lanes_module, "lane_of_record", counting)
    keys = [f"k{i % 17}" for i in range(120)]
    written = [world.append(info, key) for key in keys]
    shard = world.shard(info.arn)
    shared = ShardLanes(world.log, shard.shard_key, 3, "pk")
    positions = [shard.start_seq] * 3
    got: list[list[int]] = [[], [], []]
    for _round in range(40):
        for lane in range(3):
            rows, scanned = shared.read(lane, positions[lane], 5)
            got[lane] += [row[0] for row in rows]
            positions[lane] = scanned + 1
    for lane in range(3):
        mine = [s for s, k in zip(written, keys, strict=True) if lane_of_pk(k, 3) == lane]
        assert got[lane] == mine
    assert len(parsed) == len(written)  # each record sorted once, for all three lanes


def test_reading_the_same_stretch_again_gives_the_same_records(
    world: StreamWorld, info: StreamInfo
) -> None:
    for i in range(30):
        world.append(info, f"k{i}")
    shard = world.shard(info.arn)
    shared = ShardLanes(world.log, shard.shard_key, 2, "pk")
    first = shared.read(0, shard.start_seq, 4)
    shared.read(1, shard.start_seq, 100)  # the other lane moves the shared scan on
    assert shared.read(0, shard.start_seq, 4) == first
    assert len(first[0]) == 4 and first[1] == first[0][-1][0]


def test_a_lane_with_no_records_yet_looks_to_the_end_of_the_shard(
    world: StreamWorld, info: StreamInfo
) -> None:
    others = [f"k{i}" for i in range(40) if lane_of_pk(f"k{i}", 2) == 1][:5]
    written = [world.append(info, key) for key in others]
    shard = world.shard(info.arn)
    rows, scanned = ShardLanes(world.log, shard.shard_key, 2, "pk").read(0, shard.start_seq, 10)
    assert rows == [] and scanned == written[-1]


@pytest.mark.parametrize("seed", range(40))
def test_random_schedules_give_every_lane_exactly_its_records(
    world: StreamWorld, info: StreamInfo, seed: int
) -> None:
    """Lanes read at random: some fall behind (a tiny memory limit drops what they have not
    read), some start ahead of the others, some read the same stretch again, records keep
    arriving. Every answer must be complete up to how far it says it looked."""
    rng = random.Random(seed)
    lanes = rng.choice([2, 3, 4])
    shard = world.shard(info.arn)
    written: list[tuple[int, str]] = []

    def append(count: int) -> None:
        for _ in range(count):
            key = f"k{rng.randrange(25)}"
            written.append((world.append(info, key), key))

    append(rng.randrange(0, 60))
    shared = ShardLanes(world.log, shard.shard_key, lanes, "pk")
    shared.max_lane_bytes = rng.choice([1, 600, 3000, 10**9])
    positions = [shard.start_seq + rng.choice([0, 0, rng.randrange(0, 40)]) for _ in range(lanes)]
    first_position = list(positions)
    delivered: list[list[int]] = [[] for _ in range(lanes)]
    for _step in range(120):
        if rng.random() < 0.15:
            append(rng.randrange(1, 8))
        lane = rng.randrange(lanes)
        limit = rng.randrange(1, 12)
        rows, scanned = shared.read(lane, positions[lane], limit)
        seqs = [row[0] for row in rows]
        mine = [s for s, k in written if lane_of_pk(k, lanes) == lane]
        assert scanned >= positions[lane] - 1
        assert seqs == [s for s in mine if positions[lane] <= s <= scanned]
        assert len(seqs) <= limit
        if len(seqs) < limit:  # not a full batch: it looked at everything there is
            newest = written[-1][0] if written else shard.start_seq - 1
            assert scanned == max(newest, positions[lane] - 1)
        roll = rng.random()
        if roll < 0.2:
            continue  # read again from the same place (a batching window, a retry)
        if seqs and roll < 0.4:  # some records done, the rest to be read again
            taken = seqs[: rng.randrange(1, len(seqs) + 1)]
            delivered[lane] += taken
            positions[lane] = taken[-1] + 1
        else:
            delivered[lane] += seqs
            positions[lane] = scanned + 1
    for lane in range(lanes):
        rows, scanned = shared.read(lane, positions[lane], 10_000)
        delivered[lane] += [row[0] for row in rows]
        mine = [s for s, k in written if lane_of_pk(k, lanes) == lane]
        assert delivered[lane] == [s for s in mine if s >= first_position[lane]]


# -- lane pollers ---------------------------------------------------------------------------


class Ledger:
    """When each record was finished (delivered or given up), and every lane's checkpoints."""

    def __init__(self, lanes: int) -> None:
        self.lanes = lanes
        self.done: dict[int, int] = {}
        self.tick = 0
        self.lock = threading.Lock()
        self.violations: list[str] = []
        self.positions: dict[str, int] = {}
        self.keys: dict[int, str] = {}

    def finish(self, records: list[dict[str, Any]]) -> None:
        with self.lock:
            for record in records:
                seq = sequence_of(record)
                if seq in self.done:
                    continue
                self.tick += 1
                self.done[seq] = self.tick

    def checkpoint(self, position_key: str, seq: int) -> None:
        lane = int(position_key.split("#pk")[1].split("/")[0])
        with self.lock:
            unfinished = [
                s
                for s, k in self.keys.items()
                if s <= seq and s not in self.done and lane_of_pk(k, self.lanes) == lane
            ]
            if unfinished:
                self.violations.append(f"{position_key} at {seq} passed unfinished {unfinished}")
            if seq < self.positions.get(position_key, -1):
                self.violations.append(f"{position_key} went back to {seq}")
            self.positions[position_key] = seq


class Chaos:
    """Fails whole batches or reports one record failed, at random; notes what each lane got."""

    def __init__(self, seed: int, ledger: Ledger) -> None:
        self.random = random.Random(seed)
        self.lock = threading.Lock()
        self.ledger = ledger
        self.batches: list[list[str]] = []

    def invoke_for_mapping(
        self, function_arn: str, payload: bytes, on_sent: Callable[[], None] | None = None
    ) -> Outcome:
        records = orjson.loads(payload)["Records"]
        with self.lock:
            self.batches.append([r["dynamodb"]["Keys"]["pk"]["S"] for r in records])
            roll = self.random.random()
            failed = self.random.randrange(len(records))
        if roll < 0.3:
            return Outcome("function_error", b'{"errorType": "Boom"}')
        if roll < 0.55:
            self.ledger.finish(records[:failed])
            body = {
                "batchItemFailures": [
                    {"itemIdentifier": records[failed]["dynamodb"]["SequenceNumber"]}
                ]
            }
            return Outcome("ok", orjson.dumps(body))
        self.ledger.finish(records)
        return Outcome("ok", b"null")


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    keys=st.lists(st.sampled_from("abcdefgh"), min_size=1, max_size=40),
    seed=st.integers(0, 2**32 - 1),
    lanes=st.integers(2, 4),
    retries=st.sampled_from([-1, 0, 2]),
    bisect=st.booleans(),
    batch_size=st.integers(1, 5),
    memory=st.sampled_from([1, 10**9]),
)
def test_lane_pollers_finish_every_record_in_per_key_order_within_its_lane(
    tmp_path_factory: Any,
    keys: list[str],
    seed: int,
    lanes: int,
    retries: int,
    bisect: bool,
    batch_size: int,
    memory: int,
) -> None:
    world = StreamWorld(Path(tmp_path_factory.mktemp("lanes")) / "headwater.db")
    pollers: list[ShardPoller] = []
    try:
        info = world.create_stream()
        ledger = Ledger(lanes)
        ledger.keys = {world.append(info, key): key for key in keys}
        chaos = Chaos(seed, ledger)
        shard = world.shard(info.arn)
        shared = ShardLanes(world.log, shard.shard_key, lanes, "pk")
        shared.max_lane_bytes = memory  # 1: every lane reads the log alone, always
        ladder = LadderSettings(
            maximum_retry_attempts=retries, bisect_on_error=bisect, report_item_failures=True
        )

        def given_up(_record: GivenUp, event: bytes) -> None:
            ledger.finish(orjson.loads(event)["Records"])

        for lane in range(lanes):
            pollers.append(
                ShardPoller(
                    PollerSettings("uuid", FUNCTION, info.arn, batch_size, ladder, retry_base=5e-4),
                    shard,
                    shard.start_seq,
                    world.log,
                    chaos,
                    ledger.checkpoint,
                    lambda _outcome, _count: None,
                    on_failure=given_up,
                    lane=(lane, lanes),
                    shared=shared,
                )
            )
        for poller in pollers:
            poller.start()
        last = max(ledger.keys)
        wait_until(
            lambda: (
                len(ledger.positions) == lanes and all(p >= last for p in ledger.positions.values())
            ),
            timeout=60,
        )
        assert not ledger.violations
        assert set(ledger.done) == set(ledger.keys)
        for key in set(keys):
            order = [ledger.done[s] for s in sorted(s for s, k in ledger.keys.items() if k == key)]
            assert order == sorted(order), f"records of {key!r} finished out of order"
        for batch in chaos.batches:  # a batch holds one lane's records only
            assert len({lane_of_pk(k, lanes) for k in batch}) == 1
    finally:
        for poller in pollers:
            poller.stop()
        for poller in pollers:
            poller.join(10)
        world.close()


# -- the supervisor ------------------------------------------------------------------------


class HeldKey(FakeInvoker):
    """Blocks every batch that holds ``key`` until ``release`` is set."""

    def __init__(self, key: str) -> None:
        super().__init__()
        self.key = key
        self.release = threading.Event()

    def invoke_for_mapping(
        self, function_arn: str, payload: bytes, on_sent: Callable[[], None] | None = None
    ) -> Outcome:
        keys = [r["dynamodb"]["Keys"]["pk"]["S"] for r in orjson.loads(payload)["Records"]]
        if self.key in keys:
            assert self.release.wait(10)
        return super().invoke_for_mapping(function_arn, payload, on_sent)


@pytest.fixture
def held() -> HeldKey:
    return HeldKey("slow")


@pytest.fixture
def sup(world: StreamWorld, held: HeldKey) -> Iterator[MappingSupervisor]:
    made = MappingSupervisor(world.store, world.log, held, world.clock)
    yield made
    held.release.set()
    made.close()


def test_a_lane_done_with_a_closed_shard_is_not_started_again_while_another_lane_works(
    sup: MappingSupervisor,
    world: StreamWorld,
    info: StreamInfo,
    held: HeldKey,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import headwater.mapping.supervisor as supervisor_module

    made: list[str] = []

    class Counted(ShardPoller):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            made.append(self.position_key)

    monkeypatch.setattr(supervisor_module, "ShardPoller", Counted)
    free = next(f"f{i}" for i in range(50) if lane_of_pk(f"f{i}", 2) != lane_of_pk("slow", 2))
    world.append(info, "slow")
    world.append(info, free)
    world.disable(info.arn)  # the shard closes: each lane ends when it has read it all
    mapping = MappingConfig(
        uuid="00000000-0000-0000-0000-00000000000a",
        region=REGION,
        account=ACCOUNT,
        function_arn=FUNCTION,
        event_source_arn=info.arn,
        starting_position="TRIM_HORIZON",
        parallelization_factor=2,
    )
    sup.create(mapping)
    assert held.wait_delivered(1) == [free]
    free_lane = lane_key(world.shard(info.arn).shard_id, lane_of_pk(free, 2), 2)
    wait_until(lambda: made.count(free_lane) == 1 and not poller_alive(sup, free_lane))
    # The free lane's end scheduled a refresh; once the supervisor has run it, the lane must
    # not have been started again (it has nothing left, only the slow lane has).
    sup._control.submit(lambda: None).result(timeout=10)
    sup._control.submit(lambda: None).result(timeout=10)
    assert made.count(free_lane) == 1
    held.release.set()
    assert sorted(held.wait_delivered(2)) == sorted([free, "slow"])


def poller_alive(sup: MappingSupervisor, position_key: str) -> bool:
    pollers = sup._pollers.get("00000000-0000-0000-0000-00000000000a", {})
    poller = pollers.get(position_key)
    return poller is not None and poller.alive
