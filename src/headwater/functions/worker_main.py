"""The program inside a worker process: one function's warm sandbox.

The pool starts a fresh interpreter (``python -c``, never a fork of the threaded server) with the
sandbox's environment and cwd already set; this module turns it into what a Lambda sandbox looks
like to the handler (``sys.path``, root logger, fd 1/2), imports the handler once, then serves
invokes one at a time until the pool hangs up or the parent dies.

Output: fd 1 and fd 2 are pointed at a private pipe, so ``print``, ``logging``, ``sys.stderr``
and output written by C code or child processes all take the same road. A pump thread forwards
whatever arrives in the pipe to the parent at once (a handler that prints and then hangs must
still be seen). When a handler returns, the main thread drains the pipe itself under the same
lock before sending the result, so every byte written during an invoke reaches the parent
before its result does. That costs one non-blocking ``read`` per invoke.

Only small stdlib modules and three tiny headwater modules are imported at module level: a
worker's start time is a cold start the user waits for.
"""

from __future__ import annotations

import contextlib
import os
import select
import sys
import threading
import time
from typing import TYPE_CHECKING, Any, NoReturn

from headwater.functions import faults, messages
from headwater.functions.context import LambdaContext
from headwater.functions.faults import (
    MARSHAL_ERROR,
    UNMARSHAL_ERROR,
    Fault,
    Handler,
    error_from_exception,
    error_json,
    error_log_text,
    load_handler,
    make_error,
)

if TYPE_CHECKING:
    from collections.abc import Callable

_OUTPUT_CHUNK = 65536
_ORJSON_FROM_BYTES = 16384
# Leading traceback frames from these files are the runtime's, not the user's.
_RUNTIME_FILES = (__file__, faults.__file__)

# What the pool runs with ``python -c``: argv is [package root, pipe fd, lifeline fd]. The
# package root goes first only while headwater itself is imported, so the worker runs the same
# headwater as the server, then leaves the path to the function.
BOOTSTRAP = (
    "import sys; sys.path.insert(0, sys.argv[1]); "
    "from headwater.functions.worker_main import main; main()"
)


def main() -> None:
    """Process entry point. Never returns: the worker leaves by ``os._exit``."""
    conn = messages.Channel(int(sys.argv[2]))
    lifeline_fd = int(sys.argv[3])
    del sys.path[0]
    sandbox = _Sandbox(conn, lifeline_fd)
    sandbox.prepare()
    handler = sandbox.initialize()
    sandbox.serve(handler)


class _Sandbox:
    def __init__(self, conn: messages.Channel, lifeline_fd: int) -> None:
        self._conn = conn
        self._lifeline_fd = lifeline_fd
        self._send_lock = threading.Lock()
        self._output_fd = -1
        self.request_id = ""
        self._loads: Callable[[bytes], Any] = _json_loads()
        self._dumps: Callable[[Any], bytes] = _json_dumps()
        self._memory_mb: Callable[[], int] = _max_memory_reader()

    # -- becoming a sandbox ---------------------------------------------------------------------

    def prepare(self) -> None:
        for fd in (self._conn.fileno(), self._lifeline_fd):
            os.set_inheritable(fd, False)  # processes the handler starts must not hold them
        task_root = os.environ.get("LAMBDA_TASK_ROOT") or os.getcwd()
        sys.path[:] = [task_root, *(p for p in sys.path if p not in ("", task_root))]
        sys.argv[:] = ["bootstrap"]
        self._redirect_output()
        from headwater.functions import runtime_logging

        runtime_logging.install(lambda: self.request_id, os.environ.get("AWS_LAMBDA_LOG_LEVEL"))
        _start_daemon(self._pump_output, "headwater-output")
        lifeline_fd = self._lifeline_fd
        _start_daemon(lambda: _exit_when_readable(lifeline_fd), "headwater-lifeline")

    def _redirect_output(self) -> None:
        import io

        for stream in (sys.stdout, sys.stderr):
            if stream is not None:
                stream.flush()
        read_fd, write_fd = os.pipe()
        os.dup2(write_fd, 1)
        os.dup2(write_fd, 2)
        os.close(write_fd)
        os.set_blocking(read_fd, False)
        self._output_fd = read_fd
        streams = []
        for fd in (1, 2):
            raw = io.FileIO(fd, "w", closefd=False)
            streams.append(
                io.TextIOWrapper(
                    io.BufferedWriter(raw),
                    encoding="utf-8",
                    errors="backslashreplace",
                    line_buffering=True,
                    write_through=True,
                )
            )
        # Like the RIC's: unbuffered in effect, so a line is out the moment it is written.
        sys.stdout = sys.__stdout__ = streams[0]  # type: ignore[misc]
        sys.stderr = sys.__stderr__ = streams[1]  # type: ignore[misc]

    def initialize(self) -> Handler:
        try:
            return self._load()
        except Fault as fault:
            error = fault.to_error("")
        except Exception as exc:
            error = error_from_exception(exc, "", _RUNTIME_FILES)
        except SystemExit as exc:
            self._exit(_exit_code(exc))
        except BaseException:
            self._exit_with_traceback()
        _log(error_log_text(error))
        self._send_after_output(b"X" + error_json(error))
        # Like the RIC after an init error: the sandbox is not reused.
        os._exit(1)

    def _load(self) -> Handler:
        handler = load_handler(os.environ.get("_HANDLER", ""))
        self._send_after_output(b"Y%d" % self._memory_mb())
        return handler

    # -- serving --------------------------------------------------------------------------------

    def serve(self, handler: Handler) -> None:
        recv = self._conn.recv_bytes
        while True:
            try:
                message = recv()
            except (EOFError, OSError):
                os._exit(0)
            if message[0] != messages.INVOKE:
                continue
            try:
                result = self._invoke(handler, message)
            except SystemExit as exc:
                self._exit(_exit_code(exc))
            except BaseException:
                self._exit_with_traceback()
            self._send_after_output(result)

    def _invoke(self, handler: Handler, message: bytes) -> bytes:
        started = time.perf_counter()
        request_id, invoked_arn, deadline_ms, body = messages.decode_invoke(message)
        self.request_id = request_id
        context = LambdaContext(request_id, invoked_arn, deadline_ms)
        error: dict[str, Any] | None = None
        try:
            event = self._decode_event(body)
            response = handler(event, context)
        except Fault as fault:
            error = fault.to_error(request_id)
        except Exception as exc:
            error = error_from_exception(exc, request_id, _RUNTIME_FILES)
        if error is None:
            try:
                payload = self._dumps(response)
            except Exception as exc:
                message_text = f"Unable to marshal response: {exc}"
                error = make_error(message_text, MARSHAL_ERROR, [], request_id)
        if error is not None:
            _log(error_log_text(error))
            payload = error_json(error)
        duration_ms = (time.perf_counter() - started) * 1000.0
        return messages.encode_result(error is None, duration_ms, self._memory_mb(), payload)

    def _decode_event(self, body: bytes) -> Any:
        if not body:
            return {}
        try:
            return self._loads(body)
        except Exception as exc:
            raise Fault(UNMARSHAL_ERROR, f"Unable to unmarshal input: {exc}") from None

    # -- output and leaving ---------------------------------------------------------------------

    def _pump_output(self) -> None:
        poller = select.poll()
        poller.register(self._output_fd, select.POLLIN)
        while True:
            poller.poll()
            with self._send_lock:
                if not self._forward_output():
                    return

    def _forward_output(self) -> bool:
        """Send what is in the output pipe now; False once every writer has closed it."""
        while True:
            try:
                chunk = os.read(self._output_fd, _OUTPUT_CHUNK)
            except BlockingIOError:
                return True
            if not chunk:
                return False
            self._conn.send_bytes(b"O" + chunk)

    def _send_after_output(self, message: bytes | None) -> None:
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):  # the handler may have replaced or closed it
                stream.flush()
        with self._send_lock:
            self._forward_output()
            if message is not None:
                self._conn.send_bytes(message)

    def _exit(self, code: int) -> NoReturn:
        """Leave as the handler asked, after the parent has seen its last output."""
        try:
            self._send_after_output(None)
        finally:
            os._exit(code)

    def _exit_with_traceback(self) -> NoReturn:
        import traceback

        traceback.print_exc()
        self._exit(1)


def _log(text: str) -> None:
    """The runtime's own log text; the handler may have replaced or closed ``sys.stdout``."""
    with contextlib.suppress(Exception):
        sys.stdout.write(text)


def _exit_code(exc: SystemExit) -> int:
    if exc.code is None:
        return 0
    if isinstance(exc.code, int):
        return exc.code & 0xFF
    sys.stderr.write(f"{exc.code}\n")
    return 1


def _exit_when_readable(fd: int) -> None:
    """The pool holds the write end of ``fd`` while it wants us: EOF means it died or let go."""
    select.select([fd], [], [])
    os._exit(0)


def _start_daemon(target: Callable[[], None], name: str) -> None:
    threading.Thread(target=target, name=name, daemon=True).start()


def _json_loads() -> Callable[[bytes], Any]:
    """The stdlib for small events; orjson, imported on first need, for big batches.

    Importing orjson costs more at start-up than the stdlib loses on small payloads.
    """
    import json

    stdlib = json.loads
    fast: Callable[[bytes], Any] | None = None

    def loads(body: bytes) -> Any:
        nonlocal fast
        if len(body) < _ORJSON_FROM_BYTES:
            return stdlib(body)
        if fast is None:
            try:
                import orjson
            except ImportError:
                fast = stdlib
            else:
                fast = orjson.loads
        try:
            return fast(body)
        except ValueError:
            # Integers beyond 64 bits, NaN and friends: the stdlib accepts what AWS accepts.
            return stdlib(body)

    return loads


def _json_dumps() -> Callable[[Any], bytes]:
    """The RIC's encoder: UTF-8 (not ASCII escapes), Decimals as numbers, AWS's error wording."""
    import json

    def default(value: Any) -> Any:
        import decimal

        if isinstance(value, decimal.Decimal):
            if value.is_nan():
                return float("nan")
            return int(value) if value == value.to_integral_value() else float(value)
        raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")

    encode = json.JSONEncoder(ensure_ascii=False, default=default).encode

    def dumps(value: Any) -> bytes:
        return encode(value).encode("utf-8")

    return dumps


def _max_memory_reader() -> Callable[[], int]:
    try:
        import resource
    except ImportError:
        return lambda: 0
    divisor = 1024 * 1024 if sys.platform == "darwin" else 1024

    def read() -> int:
        return (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss + divisor - 1) // divisor

    return read
