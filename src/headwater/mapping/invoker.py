"""The interface the mapping runtime calls to run a function; ``functions/`` implements it.

A failed invocation is a value the runtime decides on, not an exception.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal, Protocol

Status = Literal["ok", "function_error", "timeout", "crash", "throttled", "not_found"]


@dataclass(frozen=True)
class Outcome:
    status: Status
    payload: bytes = b""
    request_id: str = ""
    executed_version: str = "$LATEST"  # the version that ran (an alias names one per call)

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    @property
    def reached_function(self) -> bool:
        """Throttles and missing functions never reached the handler (AWS counts no retry)."""
        return self.status not in ("throttled", "not_found")


class Invoker(Protocol):
    def invoke_for_mapping(
        self, function_arn: str, payload: bytes, on_sent: Callable[[], None] | None = None
    ) -> Outcome:
        """Run the function on ``payload`` and wait for its outcome. ``on_sent`` runs once the
        payload has reached the function, while it runs (never if it does not reach it): the
        caller's bookkeeping then costs the invocation no latency."""
        ...
