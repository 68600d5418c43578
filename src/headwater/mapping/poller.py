"""One poller per (mapping, shard): read a batch, invoke, checkpoint, repeat.

The poller sleeps on the shard's notifier until a commit adds records past its position — it
never polls on a timer. A failed batch climbs AWS's error ladder (decided in ``policy.py``):
partial batch failures rewind to the lowest failed record, BisectBatchOnFunctionError splits
the batch, MaximumRetryAttempts and MaximumRecordAgeInSeconds give records up so the shard moves
on. Meanwhile other pollers, and so other mappings and shards, go on untouched.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import orjson

from headwater import metrics
from headwater.cloudwatch.lambda_metrics import NO_MAPPING_METRICS, MappingMetrics
from headwater.mapping.events import lambda_event
from headwater.mapping.failures import GivenUp
from headwater.mapping.filtering import FilterSet
from headwater.mapping.invoker import Invoker, Outcome
from headwater.mapping.lanes import MAX_BATCH_BYTES, ShardLanes, lane_key
from headwater.mapping.policy import (
    RECORD_AGE_EXCEEDED,
    RETRIES_EXHAUSTED,
    LadderSettings,
    judge,
    next_step,
    too_old,
)
from headwater.mapping.windows import response_state, window_event, window_start
from headwater.streams.ids import format_sequence
from headwater.streams.log import ShardInfo, StreamLog

log = logging.getLogger("headwater.mapping")

MAX_WINDOW_STATE_BYTES = 1024 * 1024  # a tumbling window's state, per shard (spec §6.9)
RETRY_BASE_SECONDS = 0.1
RETRY_MAX_SECONDS = 5.0


def retry_delay(attempt: int, base: float = RETRY_BASE_SECONDS) -> float:
    return float(min(RETRY_MAX_SECONDS, base * (2 ** max(0, attempt - 1))))


@dataclass(frozen=True)
class PollerSettings:
    uuid: str
    function_arn: str
    stream_arn: str
    batch_size: int
    ladder: LadderSettings = field(default_factory=LadderSettings)
    filters: FilterSet | None = None
    batching_window: float = 0.0  # MaximumBatchingWindowInSeconds
    retry_base: float = RETRY_BASE_SECONDS  # first pause after a failure; doubles up to 5 s
    tumbling_window: int = 0  # TumblingWindowInSeconds; 0: off
    cloudwatch: MappingMetrics = NO_MAPPING_METRICS  # what it publishes to CloudWatch


Rows = list[tuple[int, float, bytes]]


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
        on_failure: Callable[[GivenUp, bytes], None] | None = None,
        lane: tuple[int, int] = (0, 1),
        shared: ShardLanes | None = None,
    ) -> None:
        self.settings = settings
        self.shard = shard
        self.next_seq = start_seq
        self._log = log_
        self._invoker = invoker
        self._checkpoint = checkpoint
        self._report = report
        self._finished = finished
        self._on_failure = on_failure
        # ParallelizationFactor: this poller delivers only the records whose partition key
        # hashes to its lane, so one key's records stay in one lane, in order. The shard's
        # lanes share one reader (``lanes.py``): the shard is read and sorted once, not per lane.
        self.lane, self.lanes = lane
        self._lane_filter = lane  # waits wake for this lane's records only
        self.position_key = lane_key(shard.shard_id, self.lane, self.lanes)
        if self.lanes > 1 and shared is None:
            stream = log_.stream(settings.stream_arn)
            hash_name = stream.key_schema[0][0] if stream is not None else ""
            shared = ShardLanes(log_, shard.shard_key, self.lanes, hash_name)
        self.shared = shared if self.lanes > 1 else None
        self._scanned = start_seq - 1  # how far the last read looked (see ``_read``)
        self._cut = False  # whether the last read stopped at the 6 MB payload limit
        self._last_request_id = ""
        self._last_version = "$LATEST"
        self._last_function_error: str | None = None
        self._window: Rows | None = None  # records being retried (after a failure or a split)
        self._rest: list[Rows] = []  # right halves still to do after a bisect, nearest last
        self._retries = 0
        self._invocations = 0
        self._window_start: float | None = None  # the open tumbling window
        self._window_state: Any = {}
        self._window_last: int | None = None  # last record delivered in it (not checkpointed)
        self._window_early = False  # its state outgrew the limit: the next call is the last
        self._polled_up_to = -1  # windows: the newest record counted as polled
        self.given_up = 0  # records discarded by the error ladder
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

    def _batch(self) -> Rows:
        """The next batch: up to BatchSize records and 6 MB. With a batching window, a batch
        that is not full waits (woken by each commit) until it fills or the window ends."""
        rows = self._read()
        window = self.settings.batching_window
        if not rows or window <= 0 or self._full(rows):
            return rows
        deadline = time.monotonic() + window
        while not self._stop.is_set():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            self._log.notifier.wait(
                self.shard.shard_key,
                self._scanned,
                remaining,
                self._stop.is_set,
                lane=self._lane_filter,
            )
            rows = self._read()
            if self._full(rows):
                break
        return rows

    def _full(self, rows: Rows) -> bool:
        """Whether the last read's batch is full: BatchSize records, or cut at 6 MB."""
        return len(rows) >= self.settings.batch_size or self._cut

    @staticmethod
    def _too_big(rows: Rows) -> int:
        """How many leading rows fit in one invocation payload."""
        size = 0
        for i, (_seq, _created, record) in enumerate(rows):
            size += len(record) + 100
            if i and size > MAX_BATCH_BYTES:
                return i
        return len(rows)

    def _read(self) -> Rows:
        """The records after the position, up to BatchSize and 6 MB; with lanes, only this
        lane's. Notes in ``_scanned`` how far the read looked: every record of this lane from
        ``next_seq`` up to it is in the answer (with lanes it can be past the answer's end,
        where the shard holds only other lanes' records)."""
        limit = self.settings.batch_size
        if self.shared is None:
            rows = self._log.read(self.shard.shard_key, self.next_seq, limit)
            scanned = rows[-1][0] if rows else self.next_seq - 1
        else:
            rows, scanned = self.shared.read(self.lane, self.next_seq, limit)
        fit = self._too_big(rows)
        self._cut = fit < len(rows)
        if self._cut:
            rows = rows[:fit]
            scanned = rows[-1][0]
        self._scanned = scanned
        return rows

    def _skip_others(self, *, checkpoint: bool = True) -> bool:
        """After a read that found none of this lane's records: move the position past the
        other lanes' records it looked at. Returns whether it moved."""
        if self._scanned < self.next_seq:
            return False
        if checkpoint:
            self._checkpoint(self.position_key, self._scanned)
        self.next_seq = self._scanned + 1
        return True

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
                self._pause(retry_delay(attempt, self.settings.retry_base))
            if attempt < 0:
                if self._finished is not None:
                    self._finished(self.shard.shard_id)
                return

    def _step(self, attempt: int) -> int:
        """One round: wait for records or make one delivery attempt. Returns the number of
        consecutive failures (for the pause), or -1 when the shard is finished."""
        if self.settings.tumbling_window > 0:
            return self._step_windowed(attempt)
        rows = self._window if self._window is not None else self._batch()
        if not rows:
            if self._skip_others():
                return attempt
            if self._exhausted():
                return -1
            self._log.notifier.wait(
                self.shard.shard_key,
                self.next_seq - 1,
                None,
                self._stop.is_set,
                lane=self._lane_filter,
            )
            return attempt
        ladder = self.settings.ladder
        now = self._log.clock.time()
        stale = 0
        while stale < len(rows) and too_old(rows[stale][1], now, ladder):
            stale += 1
        if stale:  # too old when polled: discarded without invoking (spec §6.3)
            self._give_up(rows[:stale], RECORD_AGE_EXCEEDED)
            self._window = rows[stale:] or None
            if self._window is None:
                self._next_window()
            return 0
        delivered = self._matching(rows)
        uuid = self.settings.uuid
        first_poll = self._invocations == 0 and self._window is None
        if not delivered:  # every record filtered out: the iterator moves past them
            self._count_polled(rows, delivered)
            self._done(rows)
            return 0
        payload = lambda_event([r[2] for r in delivered], self.settings.stream_arn)
        counted = False

        def count() -> None:  # while the handler runs (or after, if it never got the batch)
            nonlocal counted
            if counted:
                return
            counted = True
            if first_poll:
                self._count_polled(rows, delivered)
            age_ms = (now - delivered[-1][1]) * 1000
            metrics.ITERATOR_AGE.set(max(0.0, age_ms), mapping=uuid)
            self.settings.cloudwatch.invoking(len(delivered), age_ms)

        outcome = self._invoker.invoke_for_mapping(self.settings.function_arn, payload, count)
        count()
        self._invocations += 1
        sequence_numbers = [format_sequence(r[0]) for r in delivered]
        verdict = judge(outcome, ladder, sequence_numbers)
        if verdict.failed_from:  # an index into what was delivered: make it one into rows
            first_failed = delivered[verdict.failed_from][0]
            verdict = replace(
                verdict, failed_from=next(i for i, r in enumerate(rows) if r[0] == first_failed)
            )
        self._last_request_id = outcome.request_id
        self._last_version = outcome.executed_version
        self._last_function_error = verdict.function_error
        # A partial batch failure is a problem even though the invocation itself succeeded.
        self._report(
            Outcome("function_error") if outcome.ok and not verdict.ok else outcome, len(rows)
        )
        if verdict.ok:
            self._done(rows)
            return 0
        metrics.FAILED_INVOKE.inc(len(delivered), mapping=uuid)
        self.settings.cloudwatch.failed_invoke(len(delivered))
        if self._stop.is_set():
            return attempt
        retries = self._retries + (1 if verdict.counts else 0)
        if verdict.failed_from:
            self._checkpoint(self.position_key, rows[verdict.failed_from - 1][0])
            self.next_seq = rows[verdict.failed_from - 1][0] + 1
            rows = rows[verdict.failed_from :]
            # The checkpoint moved on, so the rest starts a fresh ladder: AWS then invokes it
            # 1 + MaximumRetryAttempts times and reports only those invocations (spec §6.5).
            self._invocations = retries = 0
        step = next_step(verdict, retries, len(rows), rows[0][1], now, ladder)
        log.warning(
            "mapping %s: batch of %d record(s) from %s failed (%s); %s",
            self.settings.uuid,
            len(rows),
            self.shard.shard_id,
            outcome.status if not verdict.partial else "partial batch failure",
            step.action.replace("_", " "),
        )
        if step.action == "give_up":
            self._give_up(rows, step.condition or RETRIES_EXHAUSTED)
            self._next_window()
            return 0
        if step.action == "bisect":
            middle = len(rows) // 2
            self._window = rows[:middle]
            self._rest.append(rows[middle:])
            return 0
        self._retries = retries
        self._window = rows
        attempt += 1
        self._pause(retry_delay(attempt, self.settings.retry_base))
        return attempt

    def _count_polled(self, rows: Rows, delivered: Rows) -> None:
        """PolledEventCount and FilteredOutEventCount of a batch read for the first time."""
        uuid = self.settings.uuid
        metrics.POLLED.inc(len(rows), mapping=uuid)
        self.settings.cloudwatch.polled(len(rows), len(rows) - len(delivered))
        if len(delivered) < len(rows):
            metrics.FILTERED_OUT.inc(len(rows) - len(delivered), mapping=uuid)

    def _step_windowed(self, attempt: int) -> int:
        """Tumbling windows: deliver the window's records with its state, then, once the window
        is over (the clock passed its end, a later record arrived, the shard ended, or the
        handler's state outgrew 1 MB), a final invocation; only after that succeeds is the
        position checkpointed. Record age and retry limits apply to the record invocations
        (spec §6.9); a failing final invocation is retried until it succeeds."""
        seconds = self.settings.tumbling_window
        rows = self._read()
        if not rows and self._skip_others(checkpoint=self._window_start is None):
            if self._window_start is not None:  # checkpointed with the window
                self._window_last = self._scanned
            return attempt
        clock = self._log.clock
        if self._window_start is None:
            if not rows:
                if self._exhausted():
                    return -1
                self._log.notifier.wait(
                    self.shard.shard_key,
                    self.next_seq - 1,
                    None,
                    self._stop.is_set,
                    lane=self._lane_filter,
                )
                return attempt
            self._window_start = window_start(rows[0][1], seconds)
            self._window_state = {}
            self._window_last = None
            self._window_early = False
        end = self._window_start + seconds
        inside = [] if self._window_early else [r for r in rows if r[1] < end]
        waiting = not inside and not rows and not self._window_early
        if waiting and clock.time() < end and not self._exhausted():
            self._log.notifier.wait(
                self.shard.shard_key,
                self.next_seq - 1,
                max(0.0, end - clock.time()),
                self._stop.is_set,
                lane=self._lane_filter,
            )
            return attempt
        ladder = self.settings.ladder
        now = clock.time()
        stale = 0
        while stale < len(inside) and too_old(inside[stale][1], now, ladder):
            stale += 1
        if stale:  # too old when polled: discarded without invoking
            self._give_up(inside[:stale], RECORD_AGE_EXCEEDED, checkpoint=False)
            self._window_last = inside[stale - 1][0]
            return 0
        final = not inside
        if inside:
            self._count_windowed(inside, now)
        payload = window_event(
            [r[2] for r in inside],
            stream_arn=self.settings.stream_arn,
            shard_id=self.shard.shard_id,
            start=self._window_start,
            seconds=seconds,
            state=self._window_state,
            final=final,
            terminated_early=self._window_early,
        )
        outcome = self._invoker.invoke_for_mapping(self.settings.function_arn, payload)
        self._invocations += 1
        self._last_request_id = outcome.request_id
        self._last_version = outcome.executed_version
        ok, state = response_state(outcome.payload) if outcome.ok else (False, None)
        verdict = judge(outcome, ladder, [format_sequence(r[0]) for r in inside])
        done = len(inside)
        if ok and not final and not verdict.ok and verdict.partial:
            done = verdict.failed_from  # the records before the first failed one are done
        self._report(
            outcome if not outcome.ok or (ok and verdict.ok) else Outcome("function_error"),
            len(inside),
        )
        if ok and final:
            if self._window_last is not None:
                self._checkpoint(self.position_key, self._window_last)
            self._window_start = None
            self._next_window()
            return 0
        if ok and done:
            self._window_state = state
            self._window_last = inside[done - 1][0]
            self.next_seq = inside[done - 1][0] + 1
            self._window_early = len(orjson.dumps(state)) > MAX_WINDOW_STATE_BYTES
            if done == len(inside):
                self._next_window()
                return 0
            inside = inside[done:]
            self._retries = self._invocations = 0  # a fresh ladder from the failed record
        if inside and not (ok and done == len(inside)):
            failed = len(inside) - (done if ok else 0)
            metrics.FAILED_INVOKE.inc(failed, mapping=self.settings.uuid)
            self.settings.cloudwatch.failed_invoke(failed)
        if self._stop.is_set():
            return attempt
        if not final:
            counts = verdict.counts if not outcome.ok else True  # throttles don't count
            moved = ok and done > 0  # the invocation that moved the position is not counted
            retries = self._retries + (1 if counts and not moved else 0)
            no_bisect = replace(ladder, bisect_on_error=False)  # not offered for windows
            step = next_step(verdict, retries, len(inside), inside[0][1], now, no_bisect)
            if step.action == "give_up":
                self._give_up(inside, step.condition or RETRIES_EXHAUSTED, checkpoint=False)
                self._window_last = inside[-1][0]
                return 0
            self._retries = retries
        attempt += 1
        self._pause(retry_delay(attempt, self.settings.retry_base))
        return attempt

    def _count_windowed(self, rows: Rows, now: float) -> None:
        """A windowed invocation's records in the metrics, as a plain batch's are (polled once
        per record, invoked each time they are sent)."""
        uuid = self.settings.uuid
        fresh = [r for r in rows if r[0] > self._polled_up_to]
        if fresh:
            self._polled_up_to = fresh[-1][0]
            metrics.POLLED.inc(len(fresh), mapping=uuid)
            self.settings.cloudwatch.polled(len(fresh), 0)
        age_ms = max(0.0, (now - rows[-1][1]) * 1000)
        metrics.ITERATOR_AGE.set(age_ms, mapping=uuid)
        self.settings.cloudwatch.invoking(len(rows), age_ms)

    def _pause(self, seconds: float) -> None:
        """A pause between attempts, on the server's clock: it ends when that much time has
        passed, sooner if the clock is advanced (tests skip backoff that way), or at a stop."""
        clock = self._log.clock
        deadline = clock.time() + seconds
        while not self._stop.is_set():
            remaining = deadline - clock.time()
            if remaining <= 0:
                return
            # No shard has key -1, so only a wake-up (clock advance, stop) or time ends this.
            self._log.notifier.wait(-1, 0, remaining, self._stop.is_set)

    def _matching(self, rows: Rows) -> Rows:
        """The records the mapping's FilterCriteria let through (all when it has none)."""
        filters = self.settings.filters
        if filters is None:
            return rows
        suffix = {"eventSourceARN": self.settings.stream_arn}
        return [r for r in rows if filters.matches({**orjson.loads(r[2]), **suffix})]

    def _done(self, rows: Rows) -> None:
        last = rows[-1][0]
        self._checkpoint(self.position_key, last)
        self.next_seq = last + 1
        self._next_window()

    def _next_window(self) -> None:
        self._window = self._rest.pop() if self._rest else None
        self._retries = 0
        self._invocations = 0
        self._last_request_id = ""  # records given up unsent get a fresh id, not a stale one

    def _give_up(self, rows: Rows, condition: str, *, checkpoint: bool = True) -> None:
        """Discard records the ladder gave up on; the shard moves on past them. (Inside a
        tumbling window the position is checkpointed with the window, after its final
        invocation.)"""
        last = rows[-1][0]
        log.warning(
            "mapping %s: discarding %d record(s) %s..%s from %s (%s after %d invocation(s))",
            self.settings.uuid,
            len(rows),
            format_sequence(rows[0][0]),
            format_sequence(last),
            self.shard.shard_id,
            condition,
            self._invocations,
        )
        self.given_up += len(rows)
        metrics.DROPPED.inc(len(rows), mapping=self.settings.uuid)
        if self._on_failure is not None:
            given_up = GivenUp(
                function_arn=self.settings.function_arn,
                stream_arn=self.settings.stream_arn,
                shard_id=self.shard.shard_id,
                condition=condition,
                invocations=self._invocations,
                request_id=self._last_request_id,
                function_error=self._last_function_error,
                first_seq=rows[0][0],
                last_seq=last,
                first_created=rows[0][1],
                last_created=rows[-1][1],
                count=len(rows),
                executed_version=self._last_version,
            )
            try:
                self._on_failure(
                    given_up, lambda_event([r[2] for r in rows], self.settings.stream_arn)
                )
            except Exception:
                log.exception("mapping %s: the on-failure destination failed", self.settings.uuid)
        if checkpoint:
            self._checkpoint(self.position_key, last)
        self.next_seq = last + 1
