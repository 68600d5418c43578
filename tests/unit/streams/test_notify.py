"""Waking shard readers: a record past the position, wake_all, or cancellation."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from headwater.streams.notify import ShardNotifier

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
    ) -> None:
        self.entered = threading.Event()
        self.result: list[bool] = []

        def check() -> bool:
            self.entered.set()
            return cancelled()

        def run() -> None:
            self.result.append(notifier.wait(shard_key, after_seq, timeout, check))

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
