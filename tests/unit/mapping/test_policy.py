"""The error ladder's decisions (spec §6.3–6.5, §6.7)."""

from __future__ import annotations

import pytest

from headwater.mapping.invoker import Outcome
from headwater.mapping.policy import (
    RECORD_AGE_EXCEEDED,
    RETRIES_EXHAUSTED,
    LadderSettings,
    Verdict,
    judge,
    next_step,
)

SEQS = ["100000000000000000001", "100000000000000000002", "100000000000000000003"]
REPORTING = LadderSettings(report_item_failures=True)


def test_success_without_item_failure_reporting_ignores_the_response() -> None:
    body = b'{"batchItemFailures": [{"itemIdentifier": "x"}]}'
    assert judge(Outcome("ok", body), LadderSettings(), SEQS).ok


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"null",
        b"[]",
        b"{}",
        b'""',
        b'{"batchItemFailures": []}',
        b'{"batchItemFailures": null}',
    ],
)
def test_empty_partial_responses_mean_success(body: bytes) -> None:
    assert judge(Outcome("ok", body), REPORTING, SEQS).ok


def test_lowest_reported_failure_is_where_the_batch_failed() -> None:
    body = (
        b'{"batchItemFailures": [{"itemIdentifier": "100000000000000000003"},'
        b' {"itemIdentifier": "100000000000000000002"}]}'
    )
    verdict = judge(Outcome("ok", body), REPORTING, SEQS)
    assert (verdict.ok, verdict.failed_from, verdict.partial) == (False, 1, True)


@pytest.mark.parametrize(
    "body",
    [
        b'{"batchItemFailures": [{"itemIdentifier": ""}]}',
        b'{"batchItemFailures": [{"itemIdentifier": null}]}',
        b'{"batchItemFailures": [{"foo": 123}]}',
        b'{"batchItemFailures": [{"itemIdentifier": 123}]}',
        b'{"batchItemFailures": [{"itemIdentifier": "999999999999999999999"}]}',
        b'{"batchItemFailures": "nope"}',
        b"not json",
    ],
)
def test_malformed_partial_responses_fail_the_whole_batch(body: bytes) -> None:
    verdict = judge(Outcome("ok", body), REPORTING, SEQS)
    assert (verdict.ok, verdict.failed_from, verdict.partial) == (False, 0, False)


def test_function_errors_count_and_throttles_do_not() -> None:
    assert judge(Outcome("function_error"), LadderSettings(), SEQS).counts
    assert judge(Outcome("timeout"), LadderSettings(), SEQS).function_error == "Unhandled"
    assert not judge(Outcome("throttled"), LadderSettings(), SEQS).counts


def test_retries_until_the_limit_then_gives_up() -> None:
    settings = LadderSettings(maximum_retry_attempts=2)
    failed = Verdict(ok=False)
    assert next_step(failed, 2, 1, 0.0, 0.0, settings).action == "retry"
    step = next_step(failed, 3, 1, 0.0, 0.0, settings)
    assert (step.action, step.condition) == ("give_up", RETRIES_EXHAUSTED)


def test_infinite_retries_never_give_up_on_count() -> None:
    assert next_step(Verdict(ok=False), 10_000, 1, 0.0, 0.0, LadderSettings()).action == "retry"


def test_too_old_records_are_given_up_first() -> None:
    settings = LadderSettings(maximum_record_age=60, bisect_on_error=True)
    step = next_step(Verdict(ok=False), 1, 4, 100.0, 161.0, settings)
    assert (step.action, step.condition) == ("give_up", RECORD_AGE_EXCEEDED)


def test_bisect_splits_function_errors_but_not_single_records_or_partial_failures() -> None:
    settings = LadderSettings(bisect_on_error=True, maximum_retry_attempts=0)
    assert next_step(Verdict(ok=False), 1, 4, 0.0, 0.0, settings).action == "bisect"
    assert next_step(Verdict(ok=False), 1, 1, 0.0, 0.0, settings).action == "give_up"
    partial = Verdict(ok=False, partial=True)
    assert next_step(partial, 1, 4, 0.0, 0.0, settings).action == "give_up"
