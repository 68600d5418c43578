"""Waking shard readers: a record past the position, wake_all, or cancellation."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from headwater.streams.notify import HISTORY, ShardNotifier

WAIT = 5.0


class Waiter:
    """Runs ``notifier.wait`` on its own thread; ``entered`` is set once the waiter holds the
    lock and has checked its condition, so anything done after it can only wake it."""

    def __init__(
        self,
        notifier: ShardNotifier,
        shard_key: int,
        after_seq: int,
        timeout: float | None = None,
        cancelled: Callable[[], bool] = lambda: False,
        lane: tuple[int, int] = (0, 1),
    ) -> None:
        self.entered = threading.Event()
        self.result: list[bool] = []
        self.checks = 0  # how often the waiter looked at its condition

        def check() -> bool:
            self.checks += 1
            self.entered.set()
            return cancelled()

        def run() -> None:
            self.result.append(notifier.wait(shard_key, after_seq, timeout, check, lane))

        self.thread = threading.Thread(target=run, daemon=True)
        self.thread.start()
        assert self.entered.wait(WAIT)

    def outcome(self) -> bool:
        self.thread.join(WAIT)
        assert not self.thread.is_alive(), "the waiter is still blocked"
        return self.result[0]


def test_latest_of_an_unknown_shard_is_minus_one() -> None:
    assert ShardNotifier().latest(7) == -1


def test_published_raises_latest() -> None:
    notifier = ShardNotifier()
    notifier.published(1, 5)
    assert notifier.latest(1) == 5


def test_published_never_lowers_latest() -> None:
    notifier = ShardNotifier()
    notifier.published(1, 5)
    notifier.published(1, 3)
    assert notifier.latest(1) == 5


def test_wait_returns_true_at_once_when_a_record_is_already_past_the_position() -> None:
    notifier = ShardNotifier()
    notifier.published(1, 5)
    assert notifier.wait(1, 4, None) is True


def test_wait_returns_true_when_a_record_is_published_past_the_position() -> None:
    notifier = ShardNotifier()
    waiter = Waiter(notifier, 1, 4)
    notifier.published(1, 5)
    assert waiter.outcome() is True


def test_a_record_at_the_position_does_not_end_the_wait() -> None:
    notifier = ShardNotifier()
    notifier.published(1, 4)
    started = time.monotonic()
    assert notifier.wait(1, 4, 0.05) is False
    assert time.monotonic() - started >= 0.04


def test_a_record_on_another_shard_does_not_satisfy_the_wait() -> None:
    notifier = ShardNotifier()
    waiter = Waiter(notifier, 1, 0, timeout=0.05)
    notifier.published(2, 9)
    assert waiter.outcome() is False


def test_wait_times_out_with_false() -> None:
    assert ShardNotifier().wait(1, 0, 0.01) is False


def test_wake_all_ends_a_wait_without_a_record() -> None:
    notifier = ShardNotifier()
    waiter = Waiter(notifier, 1, 0)
    notifier.wake_all()
    assert waiter.outcome() is False


def test_wake_all_ends_every_wait() -> None:
    notifier = ShardNotifier()
    waiters = [Waiter(notifier, key, 0) for key in (1, 2, 3)]
    notifier.wake_all()
    assert [w.outcome() for w in waiters] == [False, False, False]


def test_wait_returns_at_once_when_already_cancelled() -> None:
    notifier = ShardNotifier()
    stop = threading.Event()
    stop.set()
    waiter = Waiter(notifier, 1, 0, cancelled=stop.is_set)
    assert waiter.outcome() is False


def test_a_stop_just_before_waiting_is_not_lost() -> None:
    """The poller's stop(): set the flag, then wake_all — both before the reader waits."""
    notifier = ShardNotifier()
    stop = threading.Event()
    stop.set()
    notifier.wake_all()
    waiter = Waiter(notifier, 1, 0, cancelled=stop.is_set)
    assert waiter.outcome() is False


def test_a_stop_while_waiting_ends_the_wait() -> None:
    notifier = ShardNotifier()
    stop = threading.Event()
    waiter = Waiter(notifier, 1, 0, cancelled=stop.is_set)
    stop.set()
    notifier.wake_all()
    assert waiter.outcome() is False


def test_a_new_record_after_cancellation_still_reports_true() -> None:
    notifier = ShardNotifier()
    notifier.published(1, 3)
    assert notifier.wait(1, 2, None, cancelled=lambda: True) is True


# -- lanes of a ParallelizationFactor mapping ---------------------------------------------------


def test_a_lane_sleeps_through_its_neighbours_records() -> None:
    notifier = ShardNotifier()
    notifier.published(1, 4)
    waiter = Waiter(notifier, 1, 4, timeout=0.1, lane=(0, 2))
    assert notifier.lanes_waiting(1)
    notifier.published(1, 5, key_hash=7)  # 7 % 2 == 1: lane 1's
    notifier.published(1, 6, key_hash=9)
    assert waiter.outcome() is False
    # Looks before waiting (two) and at the timeout: never woken by the records between.
    assert waiter.checks == 3
    assert not notifier.lanes_waiting(1)


def test_a_lane_wakes_for_its_own_record() -> None:
    notifier = ShardNotifier()
    notifier.published(1, 4)
    waiter = Waiter(notifier, 1, 4, lane=(0, 2))
    notifier.published(1, 5, key_hash=7)
    notifier.published(1, 6, key_hash=8)  # 8 % 2 == 0
    assert waiter.outcome() is True


def test_a_record_without_a_hash_wakes_every_lane() -> None:
    notifier = ShardNotifier()
    notifier.published(1, 4)
    waiters = [Waiter(notifier, 1, 4, lane=(lane, 3)) for lane in range(3)]
    notifier.published(1, 5)
    assert [w.outcome() for w in waiters] == [True, True, True]


def test_a_whole_shard_reader_wakes_for_every_lane_s_record() -> None:
    notifier = ShardNotifier()
    notifier.published(1, 4)
    lane_waiter = Waiter(notifier, 1, 4, timeout=0.1, lane=(1, 2))
    whole = Waiter(notifier, 1, 4)
    notifier.published(1, 5, key_hash=4)  # lane 0 of 2
    assert whole.outcome() is True
    assert lane_waiter.outcome() is False


def test_records_published_while_no_lane_waited_wake_a_lane_at_once() -> None:
    # Nothing remembers their hashes: the lane must read for itself rather than miss one.
    notifier = ShardNotifier()
    notifier.published(1, 5, key_hash=1)
    assert notifier.wait(1, 4, 0.05, lane=(0, 2)) is True


def test_a_lane_further_back_than_the_memory_of_the_shard_is_woken() -> None:
    notifier = ShardNotifier()
    notifier.published(1, 1)
    holder = Waiter(notifier, 1, 10**9, timeout=5, lane=(1, 2))  # keeps the history on
    for seq in range(2, HISTORY + 10):
        notifier.published(1, seq, key_hash=1)  # all lane 1's
    # Lane 0 at position 1: the records just past it are forgotten, so it cannot know.
    assert notifier.wait(1, 1, 0.05, lane=(0, 2)) is True
    # At a position the memory covers, lane 1's records do not concern it.
    assert notifier.wait(1, HISTORY, 0.05, lane=(0, 2)) is False
    notifier.wake_all()
    assert holder.outcome() is False


def test_a_lane_that_slept_through_more_than_is_remembered_is_woken_to_move_on() -> None:
    notifier = ShardNotifier()
    notifier.published(1, 1)
    waiter = Waiter(notifier, 1, 1, lane=(0, 2))
    for seq in range(2, HISTORY + 2):
        notifier.published(1, seq, key_hash=1)  # lane 1's: remembered, no wake-up
    assert waiter.thread.is_alive()
    notifier.published(1, HISTORY + 2, key_hash=1)  # the first one forgotten: wake it
    assert waiter.outcome() is True
