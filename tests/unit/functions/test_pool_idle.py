"""Warm workers unused for ``idle_seconds`` of the pool's clock are ended."""

from __future__ import annotations

import json
import os
import time

from headwater.clock import Clock
from headwater.functions.pool import WorkerPool

from .conftest import MakeFunction

PID = """
import os

def handler(event, context):
    return {"pid": os.getpid()}
"""


def _gone(pid: int, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.02)
    return False


def test_idle_workers_end_after_idle_seconds_of_the_clock(make_function: MakeFunction) -> None:
    clock = Clock()
    spec = make_function(PID)
    with WorkerPool(lambda line: None, idle_seconds=60, now=clock.time) as pool:
        first = pool.invoke(spec, b"{}")
        pid = json.loads(first.payload)["pid"]
        clock.advance(59)
        assert pool.end_idle() == 0 and pool.idle_pids(spec.name) == [pid]
        again = pool.invoke(spec, b"{}")  # used again: idle from now on
        assert json.loads(again.payload)["pid"] == pid and again.init_duration_ms is None
        clock.advance(59)
        assert pool.end_idle() == 0
        clock.advance(2)
        assert pool.end_idle() == 1
        assert pool.idle_pids(spec.name) == [] and _gone(pid)
        cold = pool.invoke(spec, b"{}")
        assert cold.init_duration_ms is not None
        assert json.loads(cold.payload)["pid"] != pid


def test_a_poke_ends_idle_workers_on_the_reaper_thread(make_function: MakeFunction) -> None:
    clock = Clock()
    spec = make_function(PID)
    with WorkerPool(lambda line: None, idle_seconds=30, now=clock.time) as pool:
        pid = json.loads(pool.invoke(spec, b"{}").payload)["pid"]
        clock.advance(31)
        pool.poke()
        assert _gone(pid)  # well before the reaper's own 7.5 s round


def test_no_idle_limit_keeps_workers(make_function: MakeFunction) -> None:
    clock = Clock()
    spec = make_function(PID)
    with WorkerPool(lambda line: None, now=clock.time) as pool:
        pid = json.loads(pool.invoke(spec, b"{}").payload)["pid"]
        clock.advance(10**6)
        assert pool.end_idle() == 0 and pool.idle_pids(spec.name) == [pid]
