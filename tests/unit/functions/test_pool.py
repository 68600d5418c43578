"""Warm workers: reuse, concurrency, retirement and shutdown, on real processes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from headwater.functions.pool import WorkerPool

from .conftest import MakeFunction, Sink

COUNTER = """
import os, time

count = 0

def handler(event, context):
    global count
    count += 1
    time.sleep(event.get("sleep", 0))
    return {"count": count, "pid": os.getpid()}
"""


def gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def test_a_warm_worker_is_reused(pool: WorkerPool, make_function: MakeFunction) -> None:
    spec = make_function(COUNTER)
    first = pool.invoke(spec, b"{}")
    second = pool.invoke(spec, b"{}")
    assert json.loads(first.payload)["count"] == 1
    assert json.loads(second.payload)["count"] == 2
    assert json.loads(first.payload)["pid"] == json.loads(second.payload)["pid"]
    assert first.init_duration_ms is not None
    assert second.init_duration_ms is None


def test_concurrent_invokes_run_on_separate_workers_in_parallel(
    pool: WorkerPool, make_function: MakeFunction
) -> None:
    spec = make_function(COUNTER)
    payloads: list[dict[str, int]] = []

    def call() -> None:
        payloads.append(json.loads(pool.invoke(spec, b'{"sleep": 0.6}').payload))

    started = time.monotonic()
    threads = [threading.Thread(target=call) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert time.monotonic() - started < 1.15
    assert len({p["pid"] for p in payloads}) == 2
    assert len(pool.idle_pids(spec.name)) == 2


def test_a_new_revision_gets_a_new_worker(pool: WorkerPool, make_function: MakeFunction) -> None:
    spec = make_function(COUNTER)
    old_pid = json.loads(pool.invoke(spec, b"{}").payload)["pid"]
    updated = make_function(COUNTER, name=spec.name, environment={"V": "2"})
    assert updated.revision != spec.revision
    assert json.loads(pool.invoke(updated, b"{}").payload)["pid"] != old_pid
    assert gone(old_pid)


def test_retire_ends_idle_workers(pool: WorkerPool, make_function: MakeFunction) -> None:
    spec = make_function(COUNTER)
    pid = json.loads(pool.invoke(spec, b"{}").payload)["pid"]
    pool.retire(spec.name)
    assert gone(pid)
    assert pool.idle_pids(spec.name) == []
    assert json.loads(pool.invoke(spec, b"{}").payload)["pid"] != pid


def test_a_worker_busy_during_retire_ends_after_its_invocation(
    pool: WorkerPool, make_function: MakeFunction
) -> None:
    spec = make_function(COUNTER)
    results: list[bytes] = []
    thread = threading.Thread(
        target=lambda: results.append(pool.invoke(spec, b'{"sleep": 0.3}').payload)
    )
    thread.start()
    time.sleep(0.15)
    pool.retire(spec.name)
    thread.join()
    pid = json.loads(results[0])["pid"]
    assert gone(pid)
    assert pool.idle_pids(spec.name) == []


def test_close_ends_every_worker_and_refuses_new_invokes(
    sink: Sink, make_function: MakeFunction
) -> None:
    pool = WorkerPool(log_sink=sink)
    pids = [json.loads(pool.invoke(make_function(COUNTER), b"{}").payload)["pid"] for _ in range(2)]
    pool.close()
    assert all(gone(pid) for pid in pids)
    with pytest.raises(RuntimeError):
        pool.invoke(make_function(COUNTER), b"{}")


def test_prewarm_starts_a_worker_the_next_invoke_uses(
    pool: WorkerPool, make_function: MakeFunction
) -> None:
    spec = make_function(COUNTER)
    pool.prewarm(spec)
    deadline = time.monotonic() + 5
    while not pool.idle_pids(spec.name) and time.monotonic() < deadline:
        time.sleep(0.01)
    [pid] = pool.idle_pids(spec.name)
    result = pool.invoke(spec, b"{}")
    assert json.loads(result.payload)["pid"] == pid
    assert result.init_duration_ms is not None


SLOW_START = """
import os, time

time.sleep(0.5)  # a slow import: the invocation arrives while the prewarm still starts

def handler(event, context):
    return {"pid": os.getpid()}
"""


def test_an_invoke_during_a_prewarm_uses_that_worker_not_a_second_one(
    pool: WorkerPool, make_function: MakeFunction
) -> None:
    spec = make_function(SLOW_START)
    pool.prewarm(spec)
    first = pool.invoke(spec, b"{}")  # no idle worker yet: it waits for the one starting
    second = pool.invoke(spec, b"{}")
    assert json.loads(first.payload)["pid"] == json.loads(second.payload)["pid"]
    assert first.init_duration_ms is not None  # the environment's first invocation
    assert second.init_duration_ms is None
    assert pool.idle_pids(spec.name) == [json.loads(second.payload)["pid"]]  # only one worker


def test_a_second_concurrent_invoke_does_not_wait_for_a_claimed_prewarm(
    pool: WorkerPool, make_function: MakeFunction
) -> None:
    spec = make_function(SLOW_START)
    pool.prewarm(spec)
    results: list[bytes] = []
    threads = [
        threading.Thread(target=lambda: results.append(pool.invoke(spec, b"{}").payload))
        for _ in range(2)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    pids = {json.loads(payload)["pid"] for payload in results}
    assert len(pids) == 2  # one took the prewarmed worker, the other started its own
    assert sorted(pool.idle_pids(spec.name)) == sorted(pids)


def test_workers_exit_when_the_server_process_dies(
    tmp_path: Path, make_function: MakeFunction
) -> None:
    spec = make_function(COUNTER)
    script = textwrap.dedent(
        f"""
        import json, os, sys
        from pathlib import Path
        from headwater.functions.pool import WorkerPool
        from headwater.functions.spec import FunctionSpec

        pool = WorkerPool(log_sink=lambda line: None)
        code_dir = Path({str(spec.code_dir)!r})
        spec = FunctionSpec(name="orphan", handler="app.handler", code_dir=code_dir)
        print(json.loads(pool.invoke(spec, b"{{}}").payload)["pid"], flush=True)
        os.kill(os.getpid(), 9)
        """
    )
    src = str(Path(__file__).resolve().parents[3] / "src")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([src, os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=30
    )
    pid = int(done.stdout.split()[0])
    deadline = time.monotonic() + 5
    while not gone(pid) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert gone(pid)


WAITS_FOR_FILE = """
import os, time

def handler(event, context):
    print("handler running")
    deadline = time.monotonic() + 5
    while not os.path.exists(event["file"]):
        if time.monotonic() > deadline:
            return {"saw_file": False}
        time.sleep(0.005)
    return {"saw_file": True}
"""


def test_on_sent_runs_while_the_handler_runs(
    pool: WorkerPool, make_function: MakeFunction, sink: Sink, tmp_path: Path
) -> None:
    # The handler waits for a file only on_sent creates: had on_sent waited for the result,
    # the handler would give up after 5 s and say so.
    spec = make_function(WAITS_FOR_FILE)
    flag = tmp_path / "sent"
    calls: list[int] = []

    def on_sent() -> None:
        calls.append(1)
        flag.write_text("x")

    payload = json.dumps({"file": str(flag)}).encode()
    result = pool.invoke(spec, payload, on_sent=on_sent)
    assert json.loads(result.payload) == {"saw_file": True}
    assert calls == [1]
    # START still comes before the handler's own output.
    text = result.log_tail
    assert text.index("START RequestId") < text.index("handler running")


def test_a_failing_on_sent_does_not_break_the_invocation(
    pool: WorkerPool, make_function: MakeFunction
) -> None:
    spec = make_function(COUNTER)

    def on_sent() -> None:
        raise RuntimeError("bookkeeping failed")

    result = pool.invoke(spec, b"{}", on_sent=on_sent)
    assert result.status == "ok"
    assert json.loads(result.payload)["count"] == 1
    assert json.loads(pool.invoke(spec, b"{}").payload)["count"] == 2  # the worker is fine
