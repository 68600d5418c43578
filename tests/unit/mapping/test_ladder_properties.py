"""Property: whatever the writes, handler failures and partial-failure responses, a mapping
delivers every record at least once or sends it to the on-failure destination, never lets one
item's records overtake each other, and never checkpoints past a record it has not finished.

A real poller reads a real stream log; the "function" is a seeded chaos invoker that fails
whole batches or reports a random record as failed.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from headwater.mapping.failures import GivenUp
from headwater.mapping.invoker import Outcome
from headwater.mapping.policy import LadderSettings
from headwater.mapping.poller import PollerSettings, ShardPoller
from tests.unit.mapping.support import wait_until
from tests.unit.streams.support import StreamWorld

FUNCTION = "arn:aws:lambda:us-east-1:123456789012:function:chaos"


class Ledger:
    """When each record was finished (processed, or handed to the destination), in order."""

    def __init__(self, keys: dict[int, str]) -> None:
        self.keys = keys
        self.done: dict[int, int] = {}
        self.clock = 0
        self.lock = threading.Lock()
        self.violations: list[str] = []
        self.last_checkpoint = -1

    def finish(self, seqs: list[int]) -> None:
        with self.lock:
            for seq in seqs:
                if seq not in self.done:
                    self.clock += 1
                    self.done[seq] = self.clock

    def checkpoint(self, _shard_id: str, seq: int) -> None:
        with self.lock:
            unfinished = [s for s in self.keys if s <= seq and s not in self.done]
            if unfinished:
                self.violations.append(f"checkpoint {seq} passed unfinished {unfinished}")
            self.last_checkpoint = max(self.last_checkpoint, seq)


class Chaos:
    def __init__(self, seed: int, report: bool, ledger: Ledger) -> None:
        self.random = random.Random(seed)
        self.report = report
        self.ledger = ledger

    def invoke_for_mapping(
        self, function_arn: str, payload: bytes, on_sent: Callable[[], None] | None = None
    ) -> Outcome:
        records = orjson.loads(payload)["Records"]
        seqs = [int(r["dynamodb"]["SequenceNumber"]) - 10**20 for r in records]
        roll = self.random.random()
        if roll < 0.3:
            return Outcome("function_error", b'{"errorType": "Boom"}')
        if self.report and roll < 0.55:
            failed = self.random.randrange(len(records))
            self.ledger.finish(seqs[:failed])  # everything before the failed record is done
            body = {
                "batchItemFailures": [
                    {"itemIdentifier": records[failed]["dynamodb"]["SequenceNumber"]}
                ]
            }
            return Outcome("ok", orjson.dumps(body))
        self.ledger.finish(seqs)
        return Outcome("ok", b"null")


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    keys=st.lists(st.sampled_from("abcd"), min_size=1, max_size=20),
    seed=st.integers(0, 2**32 - 1),
    retries=st.sampled_from([-1, 0, 1, 2]),
    bisect=st.booleans(),
    report=st.booleans(),
    batch_size=st.integers(1, 6),
)
def test_every_record_is_finished_in_per_key_order_and_never_skipped(
    tmp_path_factory: Any,
    keys: list[str],
    seed: int,
    retries: int,
    bisect: bool,
    report: bool,
    batch_size: int,
) -> None:
    world = StreamWorld(Path(tmp_path_factory.mktemp("ladder")) / "headwater.db")
    try:
        info = world.create_stream()
        written = {world.append(info, key): key for key in keys}
        ledger = Ledger(written)

        def given_up(record: GivenUp, _event: bytes) -> None:
            ledger.finish([s for s in written if record.first_seq <= s <= record.last_seq])

        shard = world.shard(info.arn)
        ladder = LadderSettings(
            maximum_retry_attempts=retries, bisect_on_error=bisect, report_item_failures=report
        )
        poller = ShardPoller(
            PollerSettings("uuid", FUNCTION, info.arn, batch_size, ladder, retry_base=0.0005),
            shard,
            shard.start_seq,
            world.log,
            Chaos(seed, report, ledger),
            ledger.checkpoint,
            lambda _outcome, _count: None,
            on_failure=given_up,
        )
        poller.start()
        try:
            wait_until(lambda: ledger.last_checkpoint >= max(written), timeout=60)
        finally:
            poller.stop()
            poller.join(10)
        assert not ledger.violations
        assert set(ledger.done) == set(written)  # delivered or sent to the destination
        for key in set(keys):
            order = [ledger.done[s] for s in sorted(s for s, k in written.items() if k == key)]
            assert order == sorted(order), f"records of {key!r} finished out of order"
    finally:
        world.close()
