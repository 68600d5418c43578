"""The parent's handle on one worker process: start it, talk to it, end it.

Workers are fresh interpreters (``python -c``, fork+exec: the server has threads and SQLite
connections that a bare fork would copy), started with the sandbox's environment and cwd. Not
``multiprocessing.Process``: its spawn method re-runs the parent's ``__main__`` script in every
child, which slows every cold start and breaks on a script without a ``__main__`` guard. The
pipe is still a ``multiprocessing.connection`` pair; a second pipe, the lifeline, is held open by
the parent, so a worker whose parent died (even by SIGKILL) sees EOF and exits.

A worker is driven by one thread at a time, so the handle needs no lock. Time limits are
enforced here, from the parent: a worker past its deadline is killed, never asked to stop, since
the handler may be stuck in C code or may have disabled signals. Every way a worker can end (its
result, the deadline, its exit) comes back as a :class:`Reply` value.
"""

from __future__ import annotations

import contextlib
import math
import multiprocessing
import os
import select
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from headwater.functions import messages
from headwater.functions.faults import exit_reason
from headwater.functions.worker_main import BOOTSTRAP

if TYPE_CHECKING:
    from collections.abc import Callable
    from multiprocessing.connection import Connection

    from headwater.functions.logs import LogCapture
    from headwater.functions.spec import FunctionSpec

# The directory holding the ``headwater`` package this server runs from.
_PACKAGE_ROOT = str(Path(__file__).resolve().parents[2])
# How long an ended worker may take to be reaped before it is killed.
_EXIT_GRACE_S = 1.0
# After a kill, how long to keep reading output the worker wrote before it died.
_DRAIN_S = 0.5

ReplyKind = Literal["ready", "result", "init_error", "timeout", "exit"]


@dataclass(frozen=True, slots=True)
class Reply:
    kind: ReplyKind
    ok: bool = False
    payload: bytes = b""
    duration_ms: float = 0.0
    exit_reason: str = ""


class Worker:
    def __init__(
        self,
        spec: FunctionSpec,
        generation: int,
        process: subprocess.Popen[bytes],
        conn: Connection,
        lifeline_fd: int,
        spawned_at: float,
    ) -> None:
        self.spec = spec
        self.generation = generation
        self.pid = process.pid
        self.init_duration_ms: float | None = None
        self.invocations = 0
        self.max_memory_mb = 0
        self.idle_since = 0.0  # when it last went back to the pool (the pool's clock)
        self._process = process
        self._conn = conn
        self._lifeline_fd = lifeline_fd
        self._spawned_at = spawned_at
        self._connected = True
        self._poller: select.poll | None = None
        if hasattr(select, "poll"):
            self._poller = select.poll()
            self._poller.register(conn.fileno(), select.POLLIN)

    @classmethod
    def spawn(cls, spec: FunctionSpec, environ: dict[str, str], generation: int) -> Worker:
        parent_conn, child_conn = multiprocessing.Pipe(duplex=True)
        lifeline_read, lifeline_write = os.pipe()
        child_fd = child_conn.fileno()
        argv = [sys.executable, "-c", BOOTSTRAP, _PACKAGE_ROOT, str(child_fd), str(lifeline_read)]
        spawned_at = time.perf_counter()
        try:
            process = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                pass_fds=(child_fd, lifeline_read),
                env=environ,
                cwd=spec.code_dir,
                # Out of the terminal's process group: Ctrl-C is the server's to handle.
                process_group=0,
            )
        except BaseException:
            parent_conn.close()
            os.close(lifeline_write)
            raise
        finally:
            # Only the worker may hold these ends, or its death would never read as EOF here.
            child_conn.close()
            os.close(lifeline_read)
        return cls(spec, generation, process, parent_conn, lifeline_write, spawned_at)

    # -- conversation ---------------------------------------------------------------------------

    def wait_ready(self, capture: LogCapture, limit_s: float) -> Reply:
        reply = self._await(time.monotonic() + limit_s, capture, self._spawned_at)
        self.init_duration_ms = (time.perf_counter() - self._spawned_at) * 1000.0
        return reply

    def invoke(
        self,
        request_id: str,
        invoked_arn: str,
        payload: bytes,
        capture: LogCapture,
        on_sent: Callable[[], None] | None = None,
    ) -> Reply:
        """``on_sent`` runs once the request is in the worker's pipe, while the handler runs."""
        self.invocations += 1
        started = time.perf_counter()
        deadline = time.monotonic() + self.spec.timeout
        deadline_ms = int((time.time() + self.spec.timeout) * 1000)
        message = messages.encode_invoke(request_id, invoked_arn, deadline_ms, payload)
        try:
            self._conn.send_bytes(message)
        except OSError:
            return self._exited(started)
        if on_sent is not None:
            on_sent()
        return self._await(deadline, capture, started)

    def _await(self, deadline: float, capture: LogCapture, started: float) -> Reply:
        conn = self._conn
        while True:
            if not self._wait_readable(deadline - time.monotonic()):
                self.kill()
                self._drain(capture)
                return Reply("timeout", duration_ms=(time.perf_counter() - started) * 1000.0)
            try:
                message = conn.recv_bytes()
            except (EOFError, OSError):
                return self._exited(started)
            kind = message[0]
            if kind == messages.OUTPUT:
                capture.feed(message[1:])
            elif kind == messages.RESULT:
                result = messages.decode_result(message)
                self.max_memory_mb = result.max_memory_mb
                return Reply("result", result.ok, result.payload, result.duration_ms)
            elif kind == messages.READY:
                self.max_memory_mb = int(message[1:] or b"0")
                return Reply("ready")
            elif kind == messages.INIT_ERROR:
                return Reply("init_error", payload=message[1:])

    def _wait_readable(self, timeout_s: float) -> bool:
        if timeout_s <= 0:
            timeout_s = 0.0
        if self._poller is not None:
            return bool(self._poller.poll(math.ceil(timeout_s * 1000)))
        return self._conn.poll(timeout_s)

    def _drain(self, capture: LogCapture) -> None:
        """Output the worker wrote before it died or gave up is still worth showing."""
        deadline = time.monotonic() + _DRAIN_S
        while self._wait_readable(deadline - time.monotonic()):
            try:
                message = self._conn.recv_bytes()
            except (EOFError, OSError):
                return
            if message[0] == messages.OUTPUT:
                capture.feed(message[1:])

    def _exited(self, started: float) -> Reply:
        duration_ms = (time.perf_counter() - started) * 1000.0
        code = self._wait(_EXIT_GRACE_S)
        if code is None:
            self.kill()
            code = self._wait(_EXIT_GRACE_S)
        reason = exit_reason(code if code is not None else -9)
        return Reply("exit", duration_ms=duration_ms, exit_reason=reason)

    def _wait(self, timeout_s: float) -> int | None:
        try:
            return self._process.wait(max(0.0, timeout_s))
        except subprocess.TimeoutExpired:
            return None

    # -- ending ---------------------------------------------------------------------------------

    def is_alive(self) -> bool:
        return self._connected and self._process.poll() is None

    def kill(self) -> None:
        """Kill the worker and whatever it started, as a sandbox is destroyed whole.

        Safe from any thread: the worker leads its own process group, and a group id stays
        unused by new processes while the (unreaped) leader exists; ``poll`` first makes sure
        it still does.
        """
        if self._process.poll() is not None:
            return
        try:
            os.killpg(self._process.pid, signal.SIGKILL)
        except OSError:
            with contextlib.suppress(OSError):
                self._process.kill()

    def hang_up(self) -> None:
        """Let go of the worker: it reads EOF on both pipes and exits by itself, even if busy."""
        if self._connected:
            self._connected = False
            self._conn.close()
            os.close(self._lifeline_fd)

    def reap(self, deadline: float) -> None:
        """Wait for the process to end until ``deadline`` (monotonic), then kill it."""
        self.hang_up()
        if self._wait(deadline - time.monotonic()) is None:
            self.kill()
            self._wait(_EXIT_GRACE_S)
