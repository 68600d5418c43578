"""AWS's error objects for failed invocations, and the ``[ERROR]`` log text that goes with them.

Shapes and wording follow the Python runtime interface client (``awslambdaric/bootstrap.py``:
``make_error``, ``build_fault_result``, ``log_error``, ``_get_handler``) because callers and
tests compare them byte for byte with what AWS returns. Imported inside the worker; the
``traceback`` module is only loaded when something has actually failed.
"""

from __future__ import annotations

import importlib
import json
import sys
from collections.abc import Callable
from typing import Any

Handler = Callable[[Any, Any], Any]

MALFORMED_HANDLER_NAME = "Runtime.MalformedHandlerName"
BUILT_IN_MODULE_CONFLICT = "Runtime.BuiltInModuleConflict"
IMPORT_MODULE_ERROR = "Runtime.ImportModuleError"
USER_CODE_SYNTAX_ERROR = "Runtime.UserCodeSyntaxError"
HANDLER_NOT_FOUND = "Runtime.HandlerNotFound"
MARSHAL_ERROR = "Runtime.MarshalError"
UNMARSHAL_ERROR = "Runtime.UnmarshalError"


class Fault(Exception):
    """A runtime-detected failure whose errorType is AWS's ``Runtime.*`` name, not a class name."""

    def __init__(self, error_type: str, message: str, trace: list[str] | None = None) -> None:
        super().__init__(message)
        self.error_type = error_type
        self.message = message
        self.trace = trace or []

    def to_error(self, request_id: str) -> dict[str, Any]:
        return make_error(self.message, self.error_type, self.trace, request_id)


def make_error(
    message: str, error_type: str, stack_trace: list[str], request_id: str
) -> dict[str, Any]:
    return {
        "errorMessage": message,
        "errorType": error_type,
        "requestId": request_id,
        "stackTrace": stack_trace,
    }


def error_from_exception(
    exc: BaseException, request_id: str, skip_files: tuple[str, ...]
) -> dict[str, Any]:
    """The RIC drops its own leading frames so the trace starts in user code; so do we."""
    import traceback

    frames = traceback.extract_tb(exc.__traceback__)
    start = 0
    while start < len(frames) and frames[start].filename in skip_files:
        start += 1
    try:
        message = str(exc)
    except Exception:
        message = f"<unprintable {type(exc).__name__} object>"
    return make_error(
        message, type(exc).__name__, traceback.format_list(frames[start:]), request_id
    )


def error_json(error: dict[str, Any]) -> bytes:
    return json.dumps(error, ensure_ascii=False).encode("utf-8", "backslashreplace")


def error_log_text(error: dict[str, Any]) -> str:
    """``[ERROR] Type: message`` then the trace, one line per trace line (RIC ``log_error``)."""
    description = "[ERROR]"
    error_type = error.get("errorType")
    message = error.get("errorMessage")
    if error_type:
        description += " " + error_type
    if message:
        if error_type:
            description += ":"
        description += " " + message
    lines = [description]
    stack_trace = error.get("stackTrace")
    if stack_trace is not None:
        lines.append("Traceback (most recent call last):")
        for element in stack_trace:
            lines.extend(element.splitlines() if element else [""])
    return "\n".join(lines) + "\n"


def load_handler(handler: str) -> Handler:
    """Import ``module.func`` (``pkg/sub/mod.func`` too); a missing attribute fails per invoke."""
    try:
        module_name, function_name = handler.rsplit(".", 1)
    except ValueError as exc:
        raise Fault(MALFORMED_HANDLER_NAME, f"Bad handler '{handler}': {exc}") from None
    try:
        if module_name.split(".")[0] in sys.builtin_module_names:
            raise Fault(
                BUILT_IN_MODULE_CONFLICT,
                f"Cannot use built-in module {module_name} as a handler module",
            )
        module = importlib.import_module(module_name.replace("/", "."))
    except ImportError as exc:
        message = f"Unable to import module '{module_name}': {exc}"
        raise Fault(IMPORT_MODULE_ERROR, message) from None
    except SyntaxError as exc:
        trace = [f'  File "{exc.filename}" Line {exc.lineno}\n    {exc.text}']
        message = f"Syntax error in module '{module_name}': {exc}"
        raise Fault(USER_CODE_SYNTAX_ERROR, message, trace) from None
    try:
        function = getattr(module, function_name)
    except AttributeError:
        fault = Fault(
            HANDLER_NOT_FOUND, f"Handler '{function_name}' missing on module '{module_name}'"
        )

        def missing_handler(event: Any, context: Any) -> Any:
            raise fault

        return missing_handler
    result: Handler = function
    return result


# -- errors the Lambda service itself reports (built in the parent, compact like its Go code) --

TIMEOUT = "Sandbox.Timedout"
EXIT_ERROR = "Runtime.ExitError"


def timeout_error_json(request_id: str, seconds: float) -> bytes:
    message = f"RequestId: {request_id} Error: Task timed out after {seconds:.2f} seconds"
    return _service_error(message, TIMEOUT)


def exit_message(request_id: str, reason: str) -> str:
    return f"RequestId: {request_id} Error: {reason}"


def exit_error_json(request_id: str, reason: str) -> bytes:
    return _service_error(exit_message(request_id, reason), EXIT_ERROR)


def exit_reason(exitcode: int) -> str:
    """Go's wording, as the Lambda service prints it: ``exit status 3``, ``signal: killed``."""
    if exitcode == 0:
        return "Runtime exited without providing a reason"
    if exitcode > 0:
        return f"Runtime exited with error: exit status {exitcode}"
    import signal

    try:
        name = signal.strsignal(-exitcode) or f"signal {-exitcode}"
    except ValueError:
        name = f"signal {-exitcode}"
    return f"Runtime exited with error: signal: {name.split(':')[0].lower()}"


def _service_error(message: str, error_type: str) -> bytes:
    error = {"errorMessage": message, "errorType": error_type}
    return json.dumps(error, separators=(",", ":")).encode()
