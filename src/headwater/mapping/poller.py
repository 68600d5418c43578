"""One poller per (mapping, shard): read a batch, invoke, checkpoint, repeat.

The poller sleeps on the shard's notifier until a commit adds records past its position — it
never polls on a timer. A batch is retried until it succeeds (the full error ladder — retry
limits, bisecting, partial failures, destinations — belongs to a later layer of this module);
meanwhile other pollers, and so other mappings and shards, go on untouched.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass

from headwater.mapping.events import lambda_event
from headwater.mapping.invoker import Invoker, Outcome
from headwater.streams.log import ShardInfo, StreamLog

log = logging.getLogger("headwater.mapping")

MAX_BATCH_BYTES = 6 * 1024 * 1024
RETRY_BASE_SECONDS = 0.1
RETRY_MAX_SECONDS = 5.0


def retry_delay(attempt: int) -> float:
    return float(min(RETRY_MAX_SECONDS, RETRY_BASE_SECONDS * (2 ** max(0, attempt - 1))))


@dataclass(frozen=True)
class PollerSettings:
    uuid: str
    function_arn: str
    stream_arn: str
    batch_size: int


class ShardPoller:
    def __init__(
        self,
        settings: PollerSettings,
        shard: ShardInfo,
        start_seq: int,
        log_: StreamLog,
        invoker: Invoker,
        checkpoint: Callable[[str, int], None],
        report: Callable[[Outcome, int], None],
        finished: Callable[[str], None] | None = None,
    ) -> None:
        self.settings = settings
        self.shard = shard
        self.next_seq = start_seq
        self._log = log_
        self._invoker = invoker
        self._checkpoint = checkpoint
        self._report = report
        self._finished = finished
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._run, name=f"poller-{settings.uuid[:8]}-{shard.shard_id[-8:]}", daemon=True
        )

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._log.notifier.wake_all()

    def join(self, timeout: float | None = None) -> None:
        self._thread.join(timeout)

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    def _exhausted(self) -> bool:
        """True once the shard is closed and nothing is left past our position. Closed is
        final, so a read made after seeing it closed sees every record the shard will have."""
        shard = self._log.shard(self.settings.stream_arn, self.shard.shard_id) or self.shard
        self.shard = shard
        if shard.end_seq is None:
            return False
        return not self._log.read(shard.shard_key, self.next_seq, 1)

    def _batch(self) -> list[tuple[int, float, bytes]]:
        rows = self._log.read(self.shard.shard_key, self.next_seq, self.settings.batch_size)
        size = 0
        for i, (_seq, _created, record) in enumerate(rows):
            size += len(record) + 100
            if i and size > MAX_BATCH_BYTES:
                return rows[:i]
        return rows

    def _run(self) -> None:
        attempt = 0
        while not self._stop.is_set():
            try:
                attempt = self._step(attempt)
            except Exception:
                # A fault of ours (say, a read that failed) must not end the poller for good:
                # log it, pause, and carry on from the same position.
                attempt += 1
                log.exception(
                    "mapping %s: internal error while polling %s; retrying",
                    self.settings.uuid,
                    self.shard.shard_id,
                )
                self._stop.wait(retry_delay(attempt))
            if attempt < 0:
                if self._finished is not None:
                    self._finished(self.shard.shard_id)
                return

    def _step(self, attempt: int) -> int:
        """One round: wait for records or deliver one batch. Returns the new failure count,
        or -1 when the shard is finished."""
        rows = self._batch()
        if not rows:
            if self._exhausted():
                return -1
            self._log.notifier.wait(
                self.shard.shard_key, self.next_seq - 1, None, self._stop.is_set
            )
            return attempt
        payload = lambda_event([r[2] for r in rows], self.settings.stream_arn)
        outcome = self._invoker.invoke_for_mapping(self.settings.function_arn, payload)
        if outcome.ok:
            last = rows[-1][0]
            self._checkpoint(self.shard.shard_id, last)
            self.next_seq = last + 1
            self._report(outcome, len(rows))
            return 0
        if self._stop.is_set():
            return attempt
        attempt += 1
        self._report(outcome, len(rows))
        log.warning(
            "mapping %s: batch of %d record(s) from %s failed (%s); retry %d",
            self.settings.uuid,
            len(rows),
            self.shard.shard_id,
            outcome.status,
            attempt,
        )
        self._stop.wait(retry_delay(attempt))
        return attempt
