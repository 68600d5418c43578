"""Awaiting the writer's futures: results, errors and cancellation cross threads intact."""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import Future
from typing import Any

import pytest

from headwater.api.completions import completed


def resolve_later(*futures: Future[Any], value: Any = None, error: Exception | None = None) -> None:
    """Resolve the futures from another thread, one after the other (as a commit group)."""

    def run() -> None:
        for future in futures:
            if not future.running() and not future.set_running_or_notify_cancel():
                continue
            if error is not None:
                future.set_exception(error)
            else:
                future.set_result(value)

    threading.Thread(target=run).start()


def test_results_of_a_group_all_arrive() -> None:
    async def main() -> list[Any]:
        sources: list[Future[Any]] = [Future() for _ in range(5)]
        waiters = [completed(source) for source in sources]
        resolve_later(*sources, value="done")
        return await asyncio.gather(*waiters)

    assert asyncio.run(main()) == ["done"] * 5


def test_an_error_arrives_as_the_same_exception() -> None:
    problem = LookupError("failed job")

    async def main() -> None:
        source: Future[Any] = Future()
        waiter = completed(source)
        resolve_later(source, error=problem)
        await waiter

    with pytest.raises(LookupError) as caught:
        asyncio.run(main())
    assert caught.value is problem


def test_cancelling_the_waiter_cancels_a_job_not_yet_running() -> None:
    async def main() -> Future[Any]:
        source: Future[Any] = Future()
        waiter = completed(source)
        waiter.cancel()
        await asyncio.sleep(0)
        return source

    source = asyncio.run(main())
    assert source.cancelled()
    assert not source.set_running_or_notify_cancel()  # the writer would drop this job


def test_a_result_for_a_cancelled_waiter_is_ignored() -> None:
    async def main() -> bool:
        source: Future[Any] = Future()
        source.set_running_or_notify_cancel()  # already running: cannot be cancelled
        waiter = completed(source)
        waiter.cancel()
        resolve_later(source, value=1)
        await asyncio.sleep(0.05)
        return waiter.cancelled()

    assert asyncio.run(main())
