"""The writer's event-loop mode: jobs submitted on the attached loop's thread run there, one
group per turn of the loop; the writer thread keeps everything else, never at the same time."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from concurrent.futures import CancelledError, Future
from pathlib import Path
from typing import Any

import pytest

from headwater.api.completions import completed
from headwater.storage import rows
from headwater.storage.store import Store
from headwater.storage.writer import Txn

WAIT = 5.0


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    made = Store(tmp_path / "loop.db")
    yield made
    made.close()


def run_attached(store: Store, body: Any) -> Any:
    """Run ``body()`` (a coroutine function) on a fresh loop the writer is attached to."""

    async def main() -> Any:
        store.writer.attach(asyncio.get_running_loop())
        return await body()

    return asyncio.run(main())


def setter(key: str, value: str) -> Any:
    def job(txn: Txn) -> str:
        rows.set_meta(txn.conn, key, value)
        return value

    return job


def read_meta(store: Store, key: str) -> str | None:
    return store.read(lambda conn: rows.get_meta(conn, key))


def test_jobs_submitted_on_the_loop_run_on_the_loops_thread(store: Store) -> None:
    async def body() -> tuple[int, int]:
        here = threading.get_ident()
        ran_on = await completed(store.submit(lambda txn: threading.get_ident()))
        return here, ran_on

    here, ran_on = run_attached(store, body)
    assert ran_on == here


def test_one_turns_jobs_commit_as_one_group(store: Store) -> None:
    async def body() -> list[str]:
        before = store.writer.groups_committed
        futures = [store.submit(setter(f"k{i}", str(i))) for i in range(5)]
        results = [await completed(f) for f in futures]
        assert store.writer.groups_committed == before + 1
        return results

    assert run_attached(store, body) == ["0", "1", "2", "3", "4"]
    assert read_meta(store, "k4") == "4"


def test_a_failing_job_on_the_loop_leaves_its_neighbours_committed(store: Store) -> None:
    def bad(txn: Txn) -> None:
        rows.set_meta(txn.conn, "bad", "x")
        raise ValueError("no")

    async def body() -> None:
        good = store.submit(setter("good", "1"))
        failing = store.submit(bad)
        assert await completed(good) == "1"
        with pytest.raises(ValueError, match="no"):
            await completed(failing)

    run_attached(store, body)
    assert read_meta(store, "good") == "1"
    assert read_meta(store, "bad") is None


def test_jobs_from_other_threads_still_go_to_the_writer_thread(store: Store) -> None:
    async def body() -> tuple[int, int]:
        here = threading.get_ident()
        ran_on = await asyncio.to_thread(store.write, lambda txn: threading.get_ident())
        return here, ran_on

    here, ran_on = run_attached(store, body)
    assert ran_on != here
    assert ran_on == store.writer._thread.ident


def test_waiting_for_a_held_job_on_the_loop_runs_it_at_once(store: Store) -> None:
    # A blocking store.write() on the loop's own thread must not wait for the next turn
    # (which could never come): it runs the held group there and then.
    async def body() -> str:
        return store.write(setter("sync", "yes"))

    assert run_attached(store, body) == "yes"
    assert read_meta(store, "sync") == "yes"


def test_a_busy_writer_thread_takes_the_loops_group_instead(store: Store) -> None:
    entered, release = threading.Event(), threading.Event()

    def gate(txn: Txn) -> str:
        entered.set()
        assert release.wait(WAIT)
        return "gate"

    async def body() -> tuple[int, int | None]:
        held = asyncio.ensure_future(asyncio.to_thread(store.write, gate))
        assert await asyncio.to_thread(entered.wait, WAIT)
        future = store.submit(lambda txn: threading.get_ident())
        await asyncio.sleep(0.05)  # the loop's turn came and went: the writer thread has it
        assert not future.done()  # (the loop did not wait for the busy connection)
        release.set()
        await held
        return threading.get_ident(), await completed(future)

    here, ran_on = run_attached(store, body)
    assert ran_on != here
    assert ran_on == store.writer._thread.ident


def test_a_job_cancelled_before_its_turn_is_dropped(store: Store) -> None:
    async def body() -> Future[str]:
        future = store.submit(setter("dropped", "1"))
        assert future.cancel()
        await asyncio.sleep(0)
        await asyncio.sleep(0)
        return future

    future = run_attached(store, body)
    assert future.cancelled()
    with pytest.raises(CancelledError):
        future.result()
    assert read_meta(store, "dropped") is None


def test_after_commit_callbacks_run_before_the_result_arrives(store: Store) -> None:
    seen: list[str] = []

    def job(txn: Txn) -> str:
        rows.set_meta(txn.conn, "cb", "1")
        txn.after_commit(lambda: seen.append(read_meta(store, "cb") or "missing"))
        return "done"

    async def body() -> str:
        return await completed(store.submit(job))

    assert run_attached(store, body) == "done"
    assert seen == ["1"]  # the callback ran after the commit: another connection saw it


def test_close_fails_jobs_still_held_for_the_loop(tmp_path: Path) -> None:
    store = Store(tmp_path / "close.db")
    futures: list[Future[str]] = []

    async def body() -> None:
        store.writer.attach(asyncio.get_running_loop())
        futures.append(store.submit(setter("late", "1")))
        store.close()  # before the loop's next turn

    asyncio.run(body())
    with pytest.raises(RuntimeError, match="closed"):
        futures[0].result(WAIT)


def test_done_callbacks_see_the_result(store: Store) -> None:
    got: list[str] = []

    async def body() -> None:
        future = store.submit(setter("cb2", "v"))
        future.add_done_callback(lambda f: got.append(f.result()))
        await completed(future)
        future.add_done_callback(lambda f: got.append("late " + f.result()))

    run_attached(store, body)
    assert got == ["v", "late v"]


def test_after_detach_the_loops_thread_writes_through_the_writer_thread(store: Store) -> None:
    async def body() -> Future[str]:
        held = store.submit(setter("held", "1"))
        store.writer.detach()  # the loop is ending: what it held runs now
        assert held.done()
        return held

    held = run_attached(store, body)
    assert held.result() == "1"
    # the same thread, no loop any more: jobs go to the writer thread instead of a dead loop
    assert store.write(lambda txn: threading.get_ident()) == store.writer._thread.ident
    assert read_meta(store, "held") == "1"


def test_groups_on_the_loop_leave_the_checkpoint_to_the_writer_thread(tmp_path: Path) -> None:
    store = Store(tmp_path / "small-log.db", checkpoint_frames=30)
    groups_ran_on: set[int] = set()
    try:
        frames = store.log_frames
        assert frames is not None

        async def body() -> tuple[int, list[int]]:
            seen = []
            for i in range(150):
                await completed(store.submit(setter(f"k{i}", "v" * 100)))
                seen.append(frames.count())
                await asyncio.sleep(0.001)  # let the writer thread take its turn
            return threading.get_ident(), seen

        def watch(txn: Txn) -> None:  # a rider: sees the thread each group runs on
            groups_ran_on.add(threading.get_ident())

        store.writer.add_rider(watch)
        loop_thread, seen = run_attached(store, body)
        assert max(seen[5:]) < 30 + 20  # rewound each time it got to its size
        assert loop_thread in groups_ran_on  # the writes themselves ran on the loop
    finally:
        store.close()
