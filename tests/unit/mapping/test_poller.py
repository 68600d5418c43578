"""One shard poller with a fake Invoker: batches, order, retries, checkpoints, stopping."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from headwater.mapping.invoker import Outcome
from headwater.mapping.poller import (
    RETRY_BASE_SECONDS,
    RETRY_MAX_SECONDS,
    PollerSettings,
    ShardPoller,
    retry_delay,
)
from tests.unit.mapping.support import (
    WAIT,
    FakeInvoker,
    RecordingNotifier,
    sequence_of,
    wait_until,
)
from tests.unit.streams.support import StreamWorld

FUNCTION = "arn:aws:lambda:us-east-1:123456789012:function:handler"


class Harness:
    """A poller over the world's only stream, with its checkpoints and reports recorded."""

    def __init__(self, world: StreamWorld, invoker: FakeInvoker) -> None:
        self.world = world
        self.invoker = invoker
        self.info = world.create_stream()
        self._lock = threading.Lock()
        self.checkpoints: list[tuple[str, int]] = []
        self.reports: list[tuple[str, int]] = []
        self.pollers: list[ShardPoller] = []

    @property
    def notifier(self) -> RecordingNotifier:
        assert isinstance(self.world.notifier, RecordingNotifier)
        return self.world.notifier

    def append(self, *pks: str) -> list[int]:
        return [self.world.append(self.info, pk) for pk in pks]

    def checkpoint(self, shard_id: str, seq: int) -> None:
        with self._lock:
            self.checkpoints.append((shard_id, seq))

    def report(self, outcome: Outcome, count: int) -> None:
        with self._lock:
            self.reports.append((outcome.status, count))

    def start(self, batch_size: int = 100, start_seq: int | None = None) -> ShardPoller:
        shard = self.world.shard(self.info.arn)
        poller = ShardPoller(
            PollerSettings("0123456789abcdef", FUNCTION, self.info.arn, batch_size),
            shard,
            shard.start_seq if start_seq is None else start_seq,
            self.world.log,
            self.invoker,
            self.checkpoint,
            self.report,
        )
        self.pollers.append(poller)
        poller.start()
        return poller

    def stop_all(self) -> None:
        for poller in self.pollers:
            poller.stop()
        for poller in self.pollers:
            poller.join(WAIT)


@pytest.fixture
def harness(world: StreamWorld, invoker: FakeInvoker) -> Iterator[Harness]:
    made = Harness(world, invoker)
    yield made
    if invoker.hold is not None:
        invoker.hold.set()
    made.stop_all()


def test_retry_delay_is_short_for_the_first_attempt() -> None:
    assert retry_delay(1) == RETRY_BASE_SECONDS <= 0.1


def test_retry_delay_doubles_and_is_capped() -> None:
    assert retry_delay(2) == 2 * retry_delay(1)
    assert retry_delay(3) == 2 * retry_delay(2)
    assert retry_delay(100) == RETRY_MAX_SECONDS


def test_batches_never_exceed_batch_size_and_arrive_in_order(
    harness: Harness, invoker: FakeInvoker
) -> None:
    pks = [f"k{i}" for i in range(7)]
    harness.append(*pks)
    harness.start(batch_size=3)
    assert invoker.wait_delivered(7) == pks
    assert all(1 <= len(batch) <= 3 for batch in invoker.batches())


def test_sequence_numbers_strictly_increase_across_batches(
    harness: Harness, invoker: FakeInvoker
) -> None:
    appended = harness.append(*(f"k{i}" for i in range(5)))
    harness.start(batch_size=2)
    invoker.wait_delivered(5)
    delivered = [sequence_of(r) for batch in invoker.batches() for r in batch]
    assert delivered == appended


def test_records_appended_while_waiting_are_delivered(
    harness: Harness, invoker: FakeInvoker
) -> None:
    harness.start()
    assert harness.notifier.waiting.wait(WAIT)
    harness.append("late")
    assert invoker.wait_delivered(1) == ["late"]


def test_the_function_gets_the_stream_arn_on_every_record(
    harness: Harness, invoker: FakeInvoker
) -> None:
    harness.append("a", "b")
    harness.start()
    function_arn, payload = invoker.wait_calls(1)[0]
    assert function_arn == FUNCTION
    assert [r["eventSourceARN"] for r in payload["Records"]] == [harness.info.arn] * 2


def test_the_checkpoint_is_the_last_sequence_of_each_delivered_batch(
    harness: Harness, invoker: FakeInvoker
) -> None:
    seqs = harness.append("a", "b", "c")
    harness.start(batch_size=2)
    invoker.wait_delivered(3)
    shard_id = harness.world.shard(harness.info.arn).shard_id
    wait_until(lambda: len(harness.checkpoints) == 2)
    assert harness.checkpoints == [(shard_id, seqs[1]), (shard_id, seqs[2])]


def test_a_failed_batch_is_retried_and_checkpointed_only_after_success(
    world: StreamWorld,
) -> None:
    invoker = FakeInvoker([Outcome("function_error"), Outcome("timeout")])
    harness = Harness(world, invoker)
    checkpoints_at_call: list[int] = []
    invoker.before_answer = lambda: checkpoints_at_call.append(len(harness.checkpoints))
    try:
        seqs = harness.append("a", "b")
        harness.start()
        calls = invoker.wait_calls(3)
        wait_until(lambda: harness.checkpoints)
        assert [payload for _arn, payload in calls[:3]] == [calls[0][1]] * 3  # the same batch
        assert checkpoints_at_call == [0, 0, 0]
        assert harness.checkpoints == [(world.shard(harness.info.arn).shard_id, seqs[-1])]
    finally:
        harness.stop_all()


def test_failures_and_the_success_are_reported(world: StreamWorld) -> None:
    invoker = FakeInvoker([Outcome("crash")])
    harness = Harness(world, invoker)
    try:
        harness.append("a", "b")
        harness.start()
        wait_until(lambda: len(harness.reports) == 2)
        assert harness.reports == [("crash", 2), ("ok", 2)]
    finally:
        harness.stop_all()


def test_an_invoker_exception_does_not_end_the_poller(world: StreamWorld) -> None:
    invoker = FakeInvoker([RuntimeError("pipe broke")])
    harness = Harness(world, invoker)
    try:
        harness.append("a")
        harness.start()
        assert invoker.wait_delivered(2) == ["a", "a"]
        wait_until(lambda: harness.checkpoints)
    finally:
        harness.stop_all()


def test_the_poller_starts_at_its_start_sequence(harness: Harness, invoker: FakeInvoker) -> None:
    seqs = harness.append("a", "b", "c")
    harness.start(start_seq=seqs[1])
    assert invoker.wait_delivered(2) == ["b", "c"]


def test_stop_ends_a_poller_blocked_waiting_for_records(harness: Harness) -> None:
    poller = harness.start()
    assert harness.notifier.waiting.wait(WAIT)
    poller.stop()
    poller.join(WAIT)
    assert not poller.alive


def test_stop_ends_a_poller_that_is_retrying(world: StreamWorld) -> None:
    invoker = FakeInvoker([Outcome("function_error")] * 1000)
    harness = Harness(world, invoker)
    harness.append("a")
    poller = harness.start()
    invoker.wait_calls(2)
    poller.stop()
    poller.join(WAIT)
    assert not poller.alive
    assert harness.checkpoints == []


def test_stop_during_an_invocation_lets_it_finish_then_ends(
    harness: Harness, invoker: FakeInvoker
) -> None:
    invoker.hold = threading.Event()
    harness.append("a")
    poller = harness.start()
    invoker.wait_calls(1)
    poller.stop()
    invoker.hold.set()
    poller.join(WAIT)
    assert not poller.alive
    assert len(invoker.calls) == 1


def test_the_poller_ends_by_itself_after_reading_a_closed_shard(
    harness: Harness, invoker: FakeInvoker
) -> None:
    harness.append("a", "b")
    harness.world.disable(harness.info.arn)
    poller = harness.start(batch_size=1)
    poller.join(WAIT)
    assert not poller.alive
    assert invoker.delivered() == ["a", "b"]


def test_the_poller_delivers_the_rest_then_ends_when_the_shard_closes_under_it(
    harness: Harness, invoker: FakeInvoker
) -> None:
    poller = harness.start()
    assert harness.notifier.waiting.wait(WAIT)
    harness.append("a")
    invoker.wait_delivered(1)
    harness.world.disable(harness.info.arn)
    poller.join(WAIT)
    assert not poller.alive
    assert invoker.delivered() == ["a"]


def test_a_poller_past_the_end_of_a_closed_shard_invokes_nothing(
    harness: Harness, invoker: FakeInvoker
) -> None:
    seqs = harness.append("a")
    harness.world.disable(harness.info.arn)
    poller = harness.start(start_seq=seqs[-1] + 1)
    poller.join(WAIT)
    assert not poller.alive
    assert invoker.calls == []
