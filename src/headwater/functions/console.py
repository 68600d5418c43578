"""Function log lines to the server's standard output, written off the invoking thread.

An invocation's lines (START, the function's output, END, REPORT) are handed to a queue; one
daemon thread writes whatever has gathered with a single write and flush. So a slow or blocked
terminal never delays an invocation's result, and a busy mapping pays a queue put per line
rather than a system call. Lines keep their order; :func:`flush` waits until everything queued
so far is written (the server calls it when it stops).
"""

from __future__ import annotations

import atexit
import sys
import threading
from collections import deque

_lines: deque[str] = deque()
_ready = threading.Condition()
_written = 0
_queued = 0
_thread: threading.Thread | None = None


def write_line(line: str) -> None:
    global _queued
    with _ready:
        _lines.append(line)
        _queued += 1
        if _thread is None:
            _start()
        _ready.notify_all()


def flush(timeout: float = 5.0) -> None:
    """Wait until every line queued before this call is on standard output."""
    with _ready:
        target = _queued
        _ready.notify_all()
        _ready.wait_for(lambda: _written >= target, timeout)


def _start() -> None:
    global _thread
    _thread = threading.Thread(target=_run, name="headwater-console", daemon=True)
    _thread.start()


def _run() -> None:
    global _written
    while True:
        with _ready:
            _ready.wait_for(lambda: bool(_lines))
            batch = list(_lines)
            _lines.clear()
        stream = sys.stdout
        if stream is not None:
            try:
                stream.write("\n".join(batch) + "\n")
                stream.flush()
            except (OSError, ValueError):  # stdout closed or gone: the lines have nowhere to go
                pass
        with _ready:
            _written += len(batch)
            _ready.notify_all()


atexit.register(flush)
