"""The error ladder of a stream event source mapping, as pure decisions (spec §6.3–6.5, §6.7).

The poller asks two questions after every invocation:

1. :func:`judge` — given the invocation's outcome (and, with ReportBatchItemFailures, its
   response), did the batch succeed, fail from some record on, or fail whole?
2. :func:`next_step` — given the failure, the retry count and the records' ages, should it
   retry, bisect, or give the records up (and with which AWS condition)?

Nothing here does I/O or reads a clock; the poller passes everything in.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import orjson

from headwater.mapping.invoker import Outcome

REPORT_BATCH_ITEM_FAILURES = "ReportBatchItemFailures"
RETRIES_EXHAUSTED = "RetryAttemptsExhausted"
RECORD_AGE_EXCEEDED = "RecordAgeExceeded"


@dataclass(frozen=True)
class LadderSettings:
    maximum_retry_attempts: int = -1  # -1: until the records expire
    maximum_record_age: int = -1  # seconds; -1: until the records expire
    bisect_on_error: bool = False
    report_item_failures: bool = False


@dataclass(frozen=True)
class Verdict:
    """``ok``: the whole batch is done. Otherwise records before ``failed_from`` (an index into
    the batch) are done and the rest must be retried; ``counts`` says whether the attempt
    counts against MaximumRetryAttempts (a throttle never reached the function)."""

    ok: bool
    failed_from: int = 0
    counts: bool = True
    partial: bool = False
    function_error: str | None = None


SUCCESS = Verdict(ok=True)


def _partial_response(payload: bytes, sequence_numbers: Sequence[str]) -> Verdict:
    """Read a ``{"batchItemFailures": [...]}`` response (spec §6.5)."""
    try:
        body = orjson.loads(payload) if payload.strip() else None
    except orjson.JSONDecodeError:
        return Verdict(ok=False, function_error=None)
    if body is None or body == [] or body == {} or body == "":
        return SUCCESS
    if not isinstance(body, dict):
        return Verdict(ok=False)
    failures = body.get("batchItemFailures")
    if failures is None or failures == []:
        return SUCCESS
    if not isinstance(failures, list):
        return Verdict(ok=False)
    positions = {seq: i for i, seq in enumerate(sequence_numbers)}
    lowest: int | None = None
    for entry in failures:
        identifier = entry.get("itemIdentifier") if isinstance(entry, dict) else None
        if not isinstance(identifier, str) or identifier not in positions:
            return Verdict(ok=False)  # malformed or unknown identifier: the whole batch failed
        index = positions[identifier]
        lowest = index if lowest is None else min(lowest, index)
    assert lowest is not None
    return Verdict(ok=False, failed_from=lowest, partial=True)


def judge(outcome: Outcome, settings: LadderSettings, sequence_numbers: Sequence[str]) -> Verdict:
    if outcome.status in ("throttled", "not_found"):
        return Verdict(ok=False, counts=False)
    if not outcome.ok:
        return Verdict(ok=False, function_error="Unhandled")
    if not settings.report_item_failures:
        return SUCCESS
    return _partial_response(outcome.payload, sequence_numbers)


Action = Literal["retry", "bisect", "give_up"]


@dataclass(frozen=True)
class Step:
    action: Action
    condition: str | None = None  # for give_up: RetryAttemptsExhausted or RecordAgeExceeded


def too_old(created: float, now: float, settings: LadderSettings) -> bool:
    return settings.maximum_record_age >= 0 and now - created > settings.maximum_record_age


def next_step(
    verdict: Verdict,
    retries: int,
    batch_size: int,
    oldest_created: float,
    now: float,
    settings: LadderSettings,
) -> Step:
    """What to do after a failed attempt. ``retries`` counts the counted failures so far of
    these records (the first failure makes it 1)."""
    if too_old(oldest_created, now, settings):
        return Step("give_up", RECORD_AGE_EXCEEDED)
    if settings.bisect_on_error and batch_size > 1 and verdict.counts and not verdict.partial:
        return Step("bisect")  # splitting does not consume the retry quota (spec §6.4)
    if settings.maximum_retry_attempts >= 0 and retries > settings.maximum_retry_attempts:
        return Step("give_up", RETRIES_EXHAUSTED)
    return Step("retry")
