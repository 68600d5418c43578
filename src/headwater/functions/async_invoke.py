"""Asynchronous invocation (``InvocationType=Event``): Lambda's internal event queue.

Invoke answers 202 once the event is queued; a small thread pool runs it. A function error
(or timeout, or crash) is retried ``MaximumRetryAttempts`` times (two by default), one minute
after the first attempt and two minutes after the second, as AWS documents; the waits are on
the server's clock (``POST /_headwater/clock`` skips them). A throttled attempt goes back to the
queue with a growing pause (1 s doubling up to 5 min) and does not count as a retry; a function
whose reserved concurrency is zero gives its events up at once. An event older than
``MaximumEventAgeInSeconds`` (six hours by default) when its next attempt is due is discarded.
An event that succeeds, or that Lambda gives up, becomes an invocation record sent to the
OnSuccess or OnFailure destination of the settings it was invoked through (an SQS queue or SNS
topic through the :class:`~headwater.mapping.failures.FailureSink`, or another function, which
is itself invoked asynchronously with the record).

The queue is durable (``async_events``, ``storage/async_event_rows.py``), at least once:

- an event is one row, committed before Invoke answers 202 (the only write of an event that
  succeeds at its first attempt, besides its delete);
- a failed attempt that will be retried updates the row (attempts, next attempt due, the last
  response) before the retry is scheduled; a throttle's pause is not written (after a restart a
  throttled event is tried when its last written attempt was due);
- at the final outcome the record is sent first (a queue or topic send is committed before
  ``deliver`` returns) and the row deleted after; a record for another function is that
  function's new row, inserted in the same transaction as this row's delete.

So a crash before the 202 loses an event that was never acknowledged; a crash during an attempt,
or between a record and the delete, runs the event (or sends its record) again after the
restart: a duplicate, never a loss. At start-up :meth:`AsyncInvoker.load` schedules every
pending row at its next-attempt time on the server clock (the event-age limit applies then).
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any

import orjson

from headwater.clock import Clock, Timers
from headwater.cloudwatch.lambda_metrics import Invocation
from headwater.errors import (
    HeadwaterError,
    InvalidParameterValue,
    ResourceNotFound,
    TooManyRequests,
)
from headwater.functions.config import LATEST
from headwater.functions.event_configs import EventInvokeConfig, destination_kind
from headwater.functions.names import parse_function_name
from headwater.mapping.failures import FailureSink
from headwater.storage import async_event_rows
from headwater.storage.store import Txn

if TYPE_CHECKING:
    from headwater.functions.registry import FunctionRegistry

log = logging.getLogger("headwater")

SUCCESS = "Success"
RETRIES_EXHAUSTED = "RetriesExhausted"
EVENT_AGE_EXCEEDED = "EventAgeExceeded"

RETRY_PAUSES = (60.0, 120.0)  # before the second and the third attempt
THROTTLE_FIRST, THROTTLE_MAX = 1.0, 300.0
STOP_WAIT = 10.0  # seconds join() waits for attempts to finish their bookkeeping


@dataclass(frozen=True)
class Response:
    """What an attempt answered, as the invocation record shows it."""

    function_error: str | None
    payload: bytes


@dataclass
class QueuedEvent:
    """One event in the queue: the ARN it was invoked through (qualified as the caller did), its
    payload, and what its attempts so far did."""

    invoked_arn: str
    payload: bytes
    request_id: str
    received: float
    attempts: int = 0
    throttles: int = 0
    last: Response | None = None
    executed_version: str = LATEST


def _iso_millis(epoch: float) -> str:
    millis = int(epoch * 1000) % 1000
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(epoch)) + f".{millis:03d}Z"


def _json_or_text(data: bytes) -> Any:
    try:
        return orjson.loads(data) if data else None
    except orjson.JSONDecodeError:
        return data.decode(errors="replace")


def qualified_arn(invoked_arn: str) -> str:
    """The record's functionArn: the invoked ARN, with ``:$LATEST`` when it had no qualifier."""
    return invoked_arn if parse_function_name(invoked_arn)[2] else f"{invoked_arn}:{LATEST}"


def published_as(invoked_arn: str) -> Invocation:
    """How CloudWatch files an event's metrics: the function, and the qualifier it was invoked
    through (if any) as its Resource."""
    region, name, qualifier = parse_function_name(invoked_arn)
    return Invocation(region or "", name, qualifier)


def invocation_record(event: QueuedEvent, condition: str, now: float) -> dict[str, Any]:
    """AWS's asynchronous invocation record (the Lambda Developer Guide's "Capturing records of
    Lambda asynchronous invocations"). An event discarded before any attempt has no response."""
    record: dict[str, Any] = {
        "version": "1.0",
        "timestamp": _iso_millis(now),
        "requestContext": {
            "requestId": event.request_id,
            "functionArn": qualified_arn(event.invoked_arn),
            "condition": condition,
            "approximateInvokeCount": event.attempts,
        },
        "requestPayload": _json_or_text(event.payload),
    }
    if event.last is not None:
        response: dict[str, Any] = {"statusCode": 200, "executedVersion": event.executed_version}
        if event.last.function_error:
            response["functionError"] = event.last.function_error
        record["responseContext"] = response
        record["responsePayload"] = _json_or_text(event.last.payload)
    return record


class AsyncInvoker:
    def __init__(
        self, registry: FunctionRegistry, sink: FailureSink, clock: Clock, threads: int = 4
    ) -> None:
        self.registry = registry
        self.store = registry.store
        self.sink = sink
        self.clock = clock
        self.timers = Timers(clock)
        self._pool = ThreadPoolExecutor(threads, thread_name_prefix="headwater-async")
        self._stopped = threading.Event()
        self._busy = 0  # attempts running now
        self._idle = threading.Condition()

    def submit(self, invoked_arn: str, payload: bytes) -> str:
        """Queue one event for the function ``invoked_arn`` names, durably (it is committed when
        this returns); returns its request id."""
        return self._enqueue(invoked_arn, payload).request_id

    def load(self) -> None:
        """Schedule the events a previous run left pending, each at its next-attempt time."""
        for row in self.store.startup_read(async_event_rows.load_events):
            last = None if row.response is None else Response(row.function_error, row.response)
            event = QueuedEvent(
                row.invoked_arn,
                row.payload,
                row.request_id,
                row.received,
                attempts=row.attempts,
                last=last,
                executed_version=row.executed_version or LATEST,
            )
            self.timers.call_at(row.next_attempt, partial(self._queue, event))

    def stop(self) -> None:
        """No new attempts; those running finish (see :meth:`join`). Pending events stay in the
        store for the next start."""
        self._stopped.set()
        self.timers.stop()
        self._pool.shutdown(wait=False, cancel_futures=True)

    def join(self, timeout: float = STOP_WAIT) -> bool:
        """Wait (after :meth:`stop` and the worker pool's close) for running attempts to write
        their outcome; False if some were still running after ``timeout`` seconds."""
        with self._idle:
            return self._idle.wait_for(lambda: self._busy == 0, timeout)

    def _enqueue(
        self, invoked_arn: str, payload: bytes, replacing: QueuedEvent | None = None
    ) -> QueuedEvent:
        """Store a new event (deleting ``replacing``, whose record it is, in the same
        transaction) and queue it."""
        event = QueuedEvent(invoked_arn, payload or b"{}", str(uuid.uuid4()), self.clock.time())

        def job(txn: Txn) -> None:
            async_event_rows.insert_event(
                txn.conn, event.request_id, invoked_arn, event.payload, event.received
            )
            if replacing is not None:
                async_event_rows.delete_event(txn.conn, replacing.request_id)

        self.store.write(job)
        self.registry.cloudwatch.async_received(published_as(invoked_arn))
        self._queue(event)
        return event

    def _forget(self, event: QueuedEvent) -> None:
        """The event is finished: delete its row. Not waited for: if it is lost, the event runs
        again after a restart (at least once)."""
        self.store.submit(lambda txn: async_event_rows.delete_event(txn.conn, event.request_id))

    def _queue(self, event: QueuedEvent) -> None:
        if self._stopped.is_set():
            return
        with contextlib.suppress(RuntimeError):  # shutting down
            self._pool.submit(self._attempt, event)

    def _later(self, seconds: float, event: QueuedEvent) -> None:
        self.timers.call_later(seconds, lambda: self._queue(event))

    def _attempt(self, event: QueuedEvent) -> None:
        with self._idle:
            self._busy += 1
        try:
            if not self._stopped.is_set():
                self._run(event)
        except Exception:
            log.exception("an asynchronous invocation failed inside Headwater")
        finally:
            with self._idle:
                self._busy -= 1
                self._idle.notify_all()

    def _run(self, event: QueuedEvent) -> None:
        try:
            target = self.registry.resolve("", event.invoked_arn)
        except (ResourceNotFound, InvalidParameterValue):
            self._forget(event)  # the function (or its version or alias) is gone: so is its queue
            return
        function = target.config
        qualifier = parse_function_name(target.arn)[2] or LATEST
        settings = self.registry.event_configs.effective(function.region, function.name, qualifier)
        if self.clock.time() - event.received > settings.max_age:
            self._finish(event, settings, EVENT_AGE_EXCEEDED)
            return
        config = self.registry.choose(target)
        started = self.clock.time()
        try:
            result = self.registry.invoke(
                config, event.payload, invoked_arn=target.arn, request_id=event.request_id
            )
        except TooManyRequests:
            self._throttled(event, settings)
            return
        except RuntimeError:  # the server is stopping: the row stays for the next start
            return
        if self._stopped.is_set() and result.status not in ("ok", "function_error"):
            # Most likely ended by the shutdown (its worker killed): tried again after the
            # restart. A function error is the handler's own answer: that attempt counts.
            return
        published = published_as(event.invoked_arn)
        self.registry.cloudwatch.async_age(published, (started - event.received) * 1000, started)
        event.attempts += 1
        event.last = Response(result.function_error, result.payload)
        event.executed_version = config.version
        if result.ok:
            self._finish(event, settings, SUCCESS)
        elif event.attempts <= settings.retries:
            # The wait runs from the attempt's end: its start on the clock plus how long it ran
            # (so a clock advance made while the attempt was winding up still counts).
            pause = RETRY_PAUSES[min(event.attempts, len(RETRY_PAUSES)) - 1]
            due = started + result.duration_ms / 1000 + pause
            self.store.write(
                lambda txn: async_event_rows.record_attempt(
                    txn.conn,
                    event.request_id,
                    event.attempts,
                    due,
                    config.version,
                    result.function_error,
                    result.payload,
                )
            )
            self.timers.call_at(due, lambda: self._queue(event))
        else:
            self._finish(event, settings, RETRIES_EXHAUSTED)

    def _throttled(self, event: QueuedEvent, settings: EventInvokeConfig) -> None:
        latest = self.registry.function("", event.invoked_arn)
        if latest.reserved_concurrency == 0:
            # AWS: with reserved concurrency zero, events go to the on-failure destination
            # without retries. Condition INFERRED (AWS does not document which).
            self._finish(event, settings, RETRIES_EXHAUSTED)
            return
        pause = min(THROTTLE_MAX, THROTTLE_FIRST * 2**event.throttles)
        event.throttles += 1
        self._later(pause, event)

    def _finish(self, event: QueuedEvent, settings: EventInvokeConfig, condition: str) -> None:
        """The final outcome: the record goes out, then the row goes (a crash in between sends
        the record again after the restart, never loses it)."""
        published = published_as(event.invoked_arn)
        if condition != SUCCESS:
            self.registry.cloudwatch.async_dropped(published)
        destination = settings.on_success if condition == SUCCESS else settings.on_failure
        if destination:
            body = orjson.dumps(invocation_record(event, condition, self.clock.time()))
            try:
                if destination_kind(destination) == "lambda":
                    self.registry.resolve("", destination)  # a deleted destination function
                    self._enqueue(destination, body, replacing=event)
                    return
                self.sink.deliver(destination, body)
            except HeadwaterError as exc:
                log.warning("could not deliver an invocation record to %s: %s", destination, exc)
                self.registry.cloudwatch.destination_failed(published)
        self._forget(event)
