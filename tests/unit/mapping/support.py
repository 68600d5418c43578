"""Test doubles for the mapping runtime: a scripted Invoker and a notifier that says when a
reader is blocked."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

import orjson

from headwater.mapping.invoker import Outcome
from headwater.streams import ids
from headwater.streams.notify import ShardNotifier

WAIT = 5.0
T = TypeVar("T")


def wait_until(predicate: Callable[[], T], timeout: float = WAIT) -> T:
    """Poll ``predicate`` until it is truthy, failing after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s")
        time.sleep(0.002)


class FakeInvoker:
    """Implements ``invoke_for_mapping``: records every call and answers from a script
    (``ok`` once the script runs out). ``hold`` makes every call block until it is set."""

    def __init__(self, script: list[Outcome | Exception] | None = None) -> None:
        self._cond = threading.Condition()
        self._script = list(script or [])
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.hold: threading.Event | None = None
        self.before_answer: Callable[[], None] | None = None

    def invoke_for_mapping(
        self, function_arn: str, payload: bytes, on_sent: Callable[[], None] | None = None
    ) -> Outcome:
        with self._cond:
            self.calls.append((function_arn, orjson.loads(payload)))
            answer = self._script.pop(0) if self._script else Outcome("ok")
            self._cond.notify_all()
        if on_sent is not None and (isinstance(answer, Exception) or answer.reached_function):
            on_sent()
        if self.before_answer is not None:
            self.before_answer()
        if self.hold is not None:
            assert self.hold.wait(WAIT)
        if isinstance(answer, Exception):
            raise answer
        return answer

    def wait_calls(self, count: int) -> list[tuple[str, dict[str, Any]]]:
        with self._cond:
            assert self._cond.wait_for(lambda: len(self.calls) >= count, WAIT), (
                f"{len(self.calls)} call(s), wanted {count}"
            )
            return list(self.calls)

    def batches(self) -> list[list[dict[str, Any]]]:
        with self._cond:
            return [payload["Records"] for _arn, payload in self.calls]

    def delivered(self) -> list[str]:
        """The partition keys of every record delivered, in delivery order."""
        return [r["dynamodb"]["Keys"]["pk"]["S"] for batch in self.batches() for r in batch]

    def wait_delivered(self, count: int) -> list[str]:
        with self._cond:
            assert self._cond.wait_for(
                lambda: sum(len(p["Records"]) for _a, p in self.calls) >= count, WAIT
            ), f"fewer than {count} record(s) delivered"
        return self.delivered()


def sequence_of(record: dict[str, Any]) -> int:
    seq = ids.parse_sequence(record["dynamodb"]["SequenceNumber"])
    assert seq is not None
    return seq


class RecordingNotifier(ShardNotifier):
    """Sets ``waiting`` once a reader holds the lock inside ``wait`` (so a later wake_all
    cannot be missed)."""

    def __init__(self) -> None:
        super().__init__()
        self.waiting = threading.Event()

    def wait(
        self,
        shard_key: int,
        after_seq: int,
        timeout: float | None,
        cancelled: Callable[[], bool] = lambda: False,
        lane: tuple[int, int] = (0, 1),
    ) -> bool:
        def check() -> bool:
            self.waiting.set()
            return cancelled()

        return super().wait(shard_key, after_seq, timeout, check, lane)
