"""One invocation's log: lines to the sink as they arrive, a tail kept for ``LogType=Tail``.

A worker sends its fd 1/2 output as raw chunks; this is where chunks become lines (CloudWatch
makes one event per line, so do we). Output is capped per invocation so a handler printing in a
loop cannot flood the server's terminal or memory; the runtime's own lines (START, END, REPORT,
timeout and exit notices) are never dropped.
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable

LogSink = Callable[[str], None]

TAIL_BYTES = 4096
MAX_OUTPUT_BYTES = 1024 * 1024
# CloudWatch's maximum event size: longer lines are split, not held back forever.
MAX_LINE_BYTES = 256 * 1024


class LogCapture:
    """Used by one thread at a time: the one running the invocation."""

    __slots__ = ("_dropped", "_output_bytes", "_partial", "_sink", "_tail", "_tail_bytes")

    def __init__(self, sink: LogSink) -> None:
        self._sink = sink
        self._partial = b""
        self._tail: deque[bytes] = deque()
        self._tail_bytes = 0
        self._output_bytes = 0
        self._dropped = 0

    def emit(self, line: str) -> None:
        """A runtime line: always delivered, never counted against the output cap."""
        self._sink(line)
        self._remember(line.encode("utf-8", "backslashreplace"))

    def feed(self, chunk: bytes) -> None:
        """Raw output from the function; complete lines go out now, a partial one waits."""
        if not chunk:
            return
        data = self._partial + chunk if self._partial else chunk
        lines = data.split(b"\n")
        self._partial = lines.pop()
        for raw in lines:
            self._output(raw)
        while len(self._partial) > MAX_LINE_BYTES:
            self._output(self._partial[:MAX_LINE_BYTES])
            self._partial = self._partial[MAX_LINE_BYTES:]

    def finish_output(self) -> None:
        """The function is done (or gone): an unterminated last line is still a line."""
        if self._partial:
            self._output(self._partial)
            self._partial = b""
        if self._dropped:
            self.emit(
                f"[headwater] {self._dropped} more bytes of output dropped: an invocation's "
                f"log is capped at {MAX_OUTPUT_BYTES} bytes"
            )
            self._dropped = 0

    def tail(self) -> str:
        data = b"\n".join(self._tail) + b"\n" if self._tail else b""
        return data[-TAIL_BYTES:].decode("utf-8", "ignore")

    def _output(self, raw: bytes) -> None:
        if raw.endswith(b"\r"):
            raw = raw[:-1]
        size = len(raw) + 1
        if self._output_bytes + size > MAX_OUTPUT_BYTES:
            self._dropped += size
            return
        self._output_bytes += size
        self._sink(raw.decode("utf-8", "replace"))
        self._remember(raw)

    def _remember(self, raw: bytes) -> None:
        tail = self._tail
        tail.append(raw)
        self._tail_bytes += len(raw) + 1
        while len(tail) > 1 and self._tail_bytes - len(tail[0]) - 1 >= TAIL_BYTES:
            self._tail_bytes -= len(tail.popleft()) + 1


def start_line(request_id: str, version: str) -> str:
    return f"START RequestId: {request_id} Version: {version}"


def end_line(request_id: str) -> str:
    return f"END RequestId: {request_id}"


def report_line(
    request_id: str,
    duration_ms: float,
    memory_size_mb: int,
    max_memory_used_mb: int,
    init_duration_ms: float | None = None,
    status: str | None = None,
    error_type: str | None = None,
) -> str:
    """Tab-separated like the Lambda service's REPORT line; Init Duration only on cold starts."""
    billed = max(1, math.ceil(duration_ms))
    line = (
        f"REPORT RequestId: {request_id}\tDuration: {duration_ms:.2f} ms\t"
        f"Billed Duration: {billed} ms\tMemory Size: {memory_size_mb} MB\t"
        f"Max Memory Used: {max_memory_used_mb} MB"
    )
    if init_duration_ms is not None:
        line += f"\tInit Duration: {init_duration_ms:.2f} ms"
    if status is not None:
        line += f"\tStatus: {status}"
    if error_type is not None:
        line += f"\tError Type: {error_type}"
    return line


def timeout_line(request_id: str, seconds: float) -> str:
    now = time.time()
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now))
    millis = int(now * 1000) % 1000
    return f"{stamp}.{millis:03d}Z {request_id} Task timed out after {seconds:.2f} seconds"
