"""One invocation as the Lambda service reports it: the result value and its log lines.

A worker's :class:`~headwater.functions.worker.Reply` says what happened; this module turns it
into what callers see: the status the mapping runtime decides on, AWS's payload (the function's
response or an error object), ``X-Amz-Function-Error``, and the START/END/REPORT lines around the
function's own output.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from headwater.functions import faults
from headwater.functions.logs import LogCapture, end_line, report_line, start_line, timeout_line

if TYPE_CHECKING:
    from headwater.functions.spec import FunctionSpec
    from headwater.functions.worker import Reply, Worker

log = logging.getLogger("headwater.functions")

InvokeStatus = Literal["ok", "function_error", "timeout", "crash"]

UNHANDLED = "Unhandled"


@dataclass(frozen=True, slots=True)
class InvokeResult:
    request_id: str
    status: InvokeStatus
    payload: bytes
    function_error: str | None
    log_tail: str
    duration_ms: float
    init_duration_ms: float | None = None

    @property
    def ok(self) -> bool:
        return self.status == "ok"


def run(
    worker: Worker,
    request_id: str,
    invoked_arn: str,
    payload: bytes,
    capture: LogCapture,
    on_sent: Callable[[], None] | None = None,
) -> InvokeResult:
    """Invoke on a ready worker. The worker is unusable afterwards unless the status is ok or
    function_error. The START line, and ``on_sent``, come once the request is on its way: the
    handler starts meanwhile (its own output is only read after them, so START stays first)."""
    init_ms = worker.init_duration_ms if worker.invocations == 0 else None
    started = False

    def sent() -> None:
        nonlocal started
        started = True
        capture.emit(start_line(request_id, worker.spec.version))
        if on_sent is not None:
            try:
                on_sent()
            except Exception:
                log.exception("bookkeeping after sending invocation %s failed", request_id)

    reply = worker.invoke(request_id, invoked_arn, payload, capture, on_sent=sent)
    if not started:  # the worker was gone before the request reached it
        capture.emit(start_line(request_id, worker.spec.version))
    return finish(
        worker.spec, request_id, reply, capture, worker.max_memory_mb, init_ms, started=True
    )


def finish(
    spec: FunctionSpec,
    request_id: str,
    reply: Reply,
    capture: LogCapture,
    max_memory_mb: int,
    init_ms: float | None,
    *,
    started: bool,
    timeout_s: float | None = None,
) -> InvokeResult:
    """Also used for a worker that never got ready (``started=False``: START is written here)."""
    if not started:
        capture.emit(start_line(request_id, spec.version))
    capture.finish_output()
    status: InvokeStatus
    report_status: str | None = None
    error_type: str | None = None
    if reply.kind == "result" and reply.ok:
        status, body = "ok", reply.payload
    elif reply.kind in ("result", "init_error"):
        status, body = "function_error", reply.payload
        if reply.kind == "init_error":
            report_status, error_type = "error", _error_type(reply.payload)
    elif reply.kind == "timeout":
        seconds = float(timeout_s if timeout_s is not None else spec.timeout)
        capture.emit(timeout_line(request_id, seconds))
        status, body = "timeout", faults.timeout_error_json(request_id, seconds)
        report_status = "timeout"
    else:
        capture.emit(faults.exit_message(request_id, reply.exit_reason))
        capture.emit(faults.EXIT_ERROR)
        status, body = "crash", faults.exit_error_json(request_id, reply.exit_reason)
        report_status, error_type = "error", faults.EXIT_ERROR
    capture.emit(end_line(request_id))
    capture.emit(
        report_line(
            request_id,
            reply.duration_ms,
            spec.memory_size,
            max_memory_mb,
            init_ms,
            report_status,
            error_type,
        )
    )
    return InvokeResult(
        request_id=request_id,
        status=status,
        payload=body,
        function_error=None if status == "ok" else UNHANDLED,
        log_tail=capture.tail(),
        duration_ms=reply.duration_ms,
        init_duration_ms=init_ms,
    )


def _error_type(payload: bytes) -> str | None:
    import json

    try:
        value = json.loads(payload).get("errorType")
    except (ValueError, AttributeError):
        return None
    return value if isinstance(value, str) else None
