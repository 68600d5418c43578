"""Warm workers per function, as Lambda keeps execution environments.

An invoke takes an idle worker of the function's current revision or starts one (a fresh
interpreter, see ``worker.py``); concurrent
invokes of one function run on separate workers. A worker that timed out, crashed or failed to
initialise is never reused. Workers of an old revision, or of a function that was retired, end
when they next become idle.

Locking: ``_lock`` guards only the bookkeeping (idle lists, generations, the set of live
workers); starting, invoking and reaping happen outside it. A busy worker belongs to the thread
running it, and only that thread reaps it; ``close`` merely kills it.
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
import time
import uuid
import weakref
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

from headwater.functions import console, invocation
from headwater.functions.invocation import InvokeResult, InvokeStatus
from headwater.functions.logs import LogCapture, LogSink
from headwater.functions.spec import FunctionSpec
from headwater.functions.worker import Worker

log = logging.getLogger("headwater.functions")

__all__ = ["InvokeResult", "InvokeStatus", "WorkerPool"]

# Lambda gives on-demand initialisation 10 s; a longer function timeout also covers a slow init.
INIT_LIMIT_S = 10.0
# How long ended workers get to exit by themselves before they are killed.
STOP_GRACE_S = 1.0


class WorkerPool:
    """Thread-safe: invoked from many threads at once."""

    def __init__(
        self,
        log_sink: LogSink | None = None,
        base_env: Mapping[str, str] | None = None,
        *,
        idle_seconds: float = 0.0,
        now: Callable[[], float] = time.monotonic,
    ) -> None:
        self._sink: LogSink = log_sink if log_sink is not None else console.write_line
        # The host's AWS_* variables (real credentials, profile, region) stay out of sandboxes.
        inherited = {k: v for k, v in os.environ.copy().items() if not k.startswith("AWS_")}
        self._inherited_env = {**inherited, "TZ": ":UTC", **dict(base_env or {})}
        self._lock = threading.Lock()
        self._idle: dict[str, list[Worker]] = {}
        self._live: set[Worker] = set()
        self._generation: dict[str, int] = {}
        self._revision: dict[str, str] = {}
        # Workers being started ahead of need (``prewarm``), by spec key: an invocation that
        # finds no idle worker claims one of these rather than starting a second worker.
        self._prewarming: dict[str, list[_Prewarm]] = {}
        self._closed = False
        # Idle workers unused for ``idle_seconds`` (by ``now``, the server clock) are ended;
        # a background thread looks every so often, and ``end_idle`` can be called any time.
        self._idle_seconds = idle_seconds
        self._now = now
        self._stopping = threading.Event()
        # Called (outside the lock) after workers ended: the registry removes code directories
        # that were waiting for them.
        self.on_workers_ended: Callable[[], None] = _nothing
        if idle_seconds > 0:
            reaper = threading.Thread(target=self._reap_loop, name="headwater-idle", daemon=True)
            reaper.start()
        _OPEN_POOLS.add(self)

    # -- public ---------------------------------------------------------------------------------

    def invoke(
        self,
        spec: FunctionSpec,
        payload: bytes,
        *,
        request_id: str | None = None,
        invoked_arn: str | None = None,
        on_sent: Callable[[], None] | None = None,
    ) -> InvokeResult:
        """Run the handler once; every outcome of the function's code is a result, not a raise.
        ``on_sent``: see :func:`invocation.run`.

        Raises RuntimeError only if the pool is closed.
        """
        request_id = request_id or new_request_id()
        capture = LogCapture(self._sink)
        worker = self._take_idle(spec)
        if worker is None:
            worker = self._claim_prewarmed(spec)
        if worker is None:
            worker = self._start(spec)
            limit = _init_limit(spec)
            try:
                reply = worker.wait_ready(capture, limit)
            except BaseException:
                self._give_back(worker, healthy=False)
                raise
            if reply.kind != "ready":
                self._give_back(worker, healthy=False)
                return invocation.finish(
                    spec,
                    request_id,
                    reply,
                    capture,
                    worker.max_memory_mb,
                    worker.init_duration_ms,
                    started=False,
                    timeout_s=limit,
                )
        healthy = False
        try:
            result = invocation.run(
                worker, request_id, invoked_arn or spec.arn, payload, capture, on_sent
            )
            healthy = result.status in ("ok", "function_error")
        finally:
            self._give_back(worker, healthy)
        return result

    def prewarm(self, spec: FunctionSpec) -> None:
        """Start one worker in the background so the next invoke finds it warm."""
        slot = _Prewarm()
        with self._lock:
            if self._closed:
                return
            stale = self._note_revision(spec)
            self._prewarming.setdefault(spec.key, []).append(slot)
        self._end_all(stale)
        threading.Thread(
            target=self._warm,
            args=(spec, slot),
            name=f"headwater-prewarm:{spec.name}",
            daemon=True,
        ).start()

    def _claim_prewarmed(self, spec: FunctionSpec) -> Worker | None:
        """The worker a prewarm is starting for this spec, once ready (None: there is none,
        or it failed or went stale; the caller starts one)."""
        with self._lock:
            slot = next((s for s in self._prewarming.get(spec.key, ()) if not s.claimed), None)
            if slot is None:
                return None
            slot.claimed = True
        slot.done.wait(_init_limit(spec) + STOP_GRACE_S)
        with self._lock:
            worker, slot.worker = slot.worker, None
            if worker is None:
                slot.claimed = False  # given up waiting: the prewarm keeps its worker idle
        if worker is None:
            return None
        if worker.spec.revision != spec.revision or not worker.is_alive():
            self._give_back(worker, healthy=False)
            return None
        return worker

    def retire(self, name_or_key: str) -> None:
        """End idle workers now; busy ones end when their invocation returns. A spec key
        (``name:version``) retires that version's workers, a bare function name all of them."""
        with self._lock:
            keys = {name_or_key} if ":" in name_or_key else self._keys_of(name_or_key)
            victims = []
            for key in keys:
                self._generation[key] = self._generation.get(key, 0) + 1
                victims.extend(self._idle.pop(key, []))
            self._live.difference_update(victims)
        self._end_all(victims)

    def end_idle(self) -> int:
        """End the workers idle for ``idle_seconds`` or more; returns how many."""
        victims = self._take_expired()
        self._end_all(victims)
        return len(victims)

    def poke(self) -> None:
        """The clock moved: workers idle too long leave the pool now (so the next invocation
        starts cold), and end on a thread of their own."""
        victims = self._take_expired()
        if victims:
            threading.Thread(target=self._end_all, args=(victims,), daemon=True).start()

    def _take_expired(self) -> list[Worker]:
        if self._idle_seconds <= 0:
            return []
        cutoff = self._now() - self._idle_seconds
        victims: list[Worker] = []
        with self._lock:
            for key, workers in list(self._idle.items()):
                old = [w for w in workers if w.idle_since <= cutoff]
                if old:
                    self._idle[key] = [w for w in workers if w.idle_since > cutoff]
                    victims.extend(old)
            self._live.difference_update(victims)
        return victims

    def _reap_loop(self) -> None:
        interval = min(60.0, max(1.0, self._idle_seconds / 4))
        while not self._stopping.wait(interval):
            try:
                self.end_idle()
            except Exception:  # never let the reaper die: the next round tries again
                log.exception("could not end idle workers")

    def close(self) -> None:
        """End every worker: idle ones are reaped here, busy or starting ones killed."""
        self._stopping.set()
        with self._lock:
            if self._closed:
                return
            self._closed = True
            idle = [worker for workers in self._idle.values() for worker in workers]
            self._idle.clear()
            self._live.difference_update(idle)
            busy = list(self._live)
        for worker in busy:
            worker.kill()
        self._end_all(idle)
        _OPEN_POOLS.discard(self)
        console.flush()

    def idle_pids(self, name_or_key: str | None = None) -> list[int]:
        """For tests and the dashboard: the pids of idle workers (of one function, or of one
        ``name:version`` key)."""
        with self._lock:
            if name_or_key is None:
                keys = set(self._idle)
            elif ":" in name_or_key:
                keys = {name_or_key}
            else:
                keys = self._keys_of(name_or_key)
            return [w.pid for k in keys for w in self._idle.get(k, []) if w.pid is not None]

    def uses(self, code_dir: Path) -> bool:
        """Whether a live worker (busy, idle or starting) imports from ``code_dir``."""
        with self._lock:
            return any(worker.spec.code_dir == code_dir for worker in self._live)

    def _keys_of(self, function_name: str) -> set[str]:
        """Under the lock: every key of a function's versions the pool has seen."""
        seen = set(self._idle) | set(self._generation) | set(self._revision)
        seen.update(worker.spec.key for worker in self._live)
        return {key for key in seen if key.partition(":")[0] == function_name}

    def __enter__(self) -> WorkerPool:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- workers in and out ---------------------------------------------------------------------

    def _take_idle(self, spec: FunctionSpec) -> Worker | None:
        with self._lock:
            if self._closed:
                raise RuntimeError("the worker pool is closed")
            stale = self._note_revision(spec)
            idle = self._idle.get(spec.key)
            worker = None
            while idle:
                candidate = idle.pop()  # the most recently used is the warmest
                if candidate.is_alive():
                    worker = candidate
                    break
                self._live.discard(candidate)
                stale.append(candidate)
        self._end_all(stale)
        return worker

    def _note_revision(self, spec: FunctionSpec) -> list[Worker]:
        """Under the lock: a new revision makes the function's idle workers stale."""
        if self._revision.get(spec.key) == spec.revision:
            return []
        self._revision[spec.key] = spec.revision
        stale = self._idle.pop(spec.key, [])
        self._live.difference_update(stale)
        return stale

    def _start(self, spec: FunctionSpec) -> Worker:
        with self._lock:
            if self._closed:
                raise RuntimeError("the worker pool is closed")
            generation = self._generation.get(spec.key, 0)
        worker = Worker.spawn(spec, self._environ(spec), generation)
        with self._lock:
            self._live.add(worker)
            closed = self._closed
        if closed:
            self._give_back(worker, healthy=False)
            raise RuntimeError("the worker pool is closed")
        return worker

    def _give_back(self, worker: Worker, healthy: bool) -> None:
        key = worker.spec.key
        with self._lock:
            keep = (
                healthy
                and not self._closed
                and worker.generation == self._generation.get(key, 0)
                and worker.spec.revision == self._revision.get(key)
            )
            if keep:
                worker.idle_since = self._now()
                self._idle.setdefault(key, []).append(worker)
            else:
                self._live.discard(worker)
        if not keep:
            worker.reap(time.monotonic() + STOP_GRACE_S)
            self._ended()

    def _warm(self, spec: FunctionSpec, slot: _Prewarm) -> None:
        worker: Worker | None = None
        ready = False
        try:
            worker = self._start(spec)
            ready = worker.wait_ready(LogCapture(self._sink), _init_limit(spec)).kind == "ready"
        except RuntimeError:
            pass  # closed meanwhile
        except OSError as exc:
            self._sink(f"[headwater] could not start a worker for {spec.name}: {exc}")
        finally:
            with self._lock:
                waiting = self._prewarming.get(spec.key, [])
                if slot in waiting:
                    waiting.remove(slot)
                handed = slot.claimed and ready and worker is not None and not self._closed
                if handed:
                    slot.worker = worker  # straight to the invocation that waits for it
            slot.done.set()
            if worker is not None and not handed:
                self._give_back(worker, healthy=ready)

    def _end_all(self, workers: Iterable[Worker]) -> None:
        workers = list(workers)
        if not workers:
            return
        for worker in workers:
            worker.hang_up()
        deadline = time.monotonic() + STOP_GRACE_S
        for worker in workers:
            worker.reap(deadline)
        self._ended()

    def _ended(self) -> None:
        try:
            self.on_workers_ended()
        except Exception:  # a listener's failure must not break an invocation
            log.exception("a listener for ended workers failed")

    def _environ(self, spec: FunctionSpec) -> dict[str, str]:
        """Inherited < TZ < server's base_env < the function's Environment < reserved names."""
        day = time.strftime("%Y/%m/%d", time.gmtime())
        reserved = {
            "AWS_LAMBDA_FUNCTION_NAME": spec.name,
            "AWS_LAMBDA_FUNCTION_VERSION": spec.version,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(spec.memory_size),
            "AWS_LAMBDA_LOG_GROUP_NAME": spec.log_group_name,
            "AWS_LAMBDA_LOG_STREAM_NAME": f"{day}/[{spec.version}]{uuid.uuid4().hex}",
            "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
            "AWS_REGION": spec.region,
            "AWS_DEFAULT_REGION": spec.region,
            "AWS_EXECUTION_ENV": f"AWS_Lambda_{spec.runtime}",
            "LAMBDA_TASK_ROOT": str(spec.code_dir),
            "_HANDLER": spec.handler,
        }
        return {**self._inherited_env, **spec.environment, **reserved}


def new_request_id() -> str:
    """A random (version 4) UUID string, without building a ``uuid.UUID`` on the hot path."""
    h = os.urandom(16).hex()
    variant = "89ab"[int(h[16], 16) & 3]
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{variant}{h[17:20]}-{h[20:]}"


def _nothing() -> None:
    pass


class _Prewarm:
    """A worker being started ahead of need, and the invocation (if any) waiting for it."""

    __slots__ = ("claimed", "done", "worker")

    def __init__(self) -> None:
        self.claimed = False
        self.done = threading.Event()
        self.worker: Worker | None = None


def _init_limit(spec: FunctionSpec) -> float:
    return max(INIT_LIMIT_S, float(spec.timeout))


_OPEN_POOLS: weakref.WeakSet[WorkerPool] = weakref.WeakSet()


@atexit.register
def _close_open_pools() -> None:
    # Workers would notice the parent's exit by themselves (the lifeline pipe); this makes
    # it prompt and reaps them.
    for pool in list(_OPEN_POOLS):
        pool.close()
