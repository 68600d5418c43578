"""The ``context`` object handed to ``handler(event, context)``.

It mirrors AWS's Python runtime interface client (``awslambdaric/lambda_context.py``) member by
member, including its quirks, because handlers are written against that object: the static
fields come from the sandbox's environment variables (so ``memory_limit_in_mb`` is a *string*),
``identity`` is a CognitoIdentity whose attributes are unset, and the deadline is wall-clock
epoch milliseconds. Imported inside the worker, so it imports only ``os``, ``sys`` and ``time``.
"""

from __future__ import annotations

import os
import sys
import time
from typing import Any


class CognitoIdentity:
    """Unset attributes raise AttributeError, exactly like the RIC's slotted class."""

    __slots__ = ("cognito_identity_id", "cognito_identity_pool_id")

    cognito_identity_id: str | None
    cognito_identity_pool_id: str | None

    def __repr__(self) -> str:
        fields = {name: getattr(self, name, None) for name in self.__slots__}
        return f"CognitoIdentity({fields})"


class Client:
    __slots__ = (
        "app_package_name",
        "app_title",
        "app_version_code",
        "app_version_name",
        "installation_id",
    )


class ClientContext:
    __slots__ = ("client", "custom", "env")

    custom: Any
    env: Any
    client: Client | None


_SANDBOX_FIELDS: tuple[str | None, ...] | None = None


def _sandbox_fields() -> tuple[str | None, ...]:
    """Read once per worker: the environment they come from is fixed when the worker starts,
    and five ``os.environ`` lookups would be most of the cost of building a context."""
    global _SANDBOX_FIELDS
    if _SANDBOX_FIELDS is None:
        get = os.environ.get
        _SANDBOX_FIELDS = (
            get("AWS_LAMBDA_LOG_GROUP_NAME"),
            get("AWS_LAMBDA_LOG_STREAM_NAME"),
            get("AWS_LAMBDA_FUNCTION_NAME"),
            get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE"),
            get("AWS_LAMBDA_FUNCTION_VERSION"),
        )
    return _SANDBOX_FIELDS


class LambdaContext:
    """Per-invocation facts; built fresh for every invoke (a handful of attribute stores)."""

    def __init__(
        self,
        aws_request_id: str,
        invoked_function_arn: str,
        deadline_epoch_ms: int,
        client_context: ClientContext | None = None,
        tenant_id: str | None = None,
    ) -> None:
        self.aws_request_id = aws_request_id
        (
            self.log_group_name,
            self.log_stream_name,
            self.function_name,
            self.memory_limit_in_mb,
            self.function_version,
        ) = _sandbox_fields()
        self.invoked_function_arn = invoked_function_arn
        self.tenant_id = tenant_id
        self.client_context = client_context
        self.identity = CognitoIdentity()
        self._epoch_deadline_time_in_ms = deadline_epoch_ms

    def get_remaining_time_in_millis(self) -> int:
        delta_ms = self._epoch_deadline_time_in_ms - int(time.time() * 1000)
        return delta_ms if delta_ms > 0 else 0

    def log(self, msg: object) -> None:
        """Like the RIC's fallback path: the text as given, no newline added."""
        sys.stdout.write(str(msg))

    def __repr__(self) -> str:
        return (
            f"LambdaContext([aws_request_id={self.aws_request_id},"
            f"log_group_name={self.log_group_name},log_stream_name={self.log_stream_name},"
            f"function_name={self.function_name},memory_limit_in_mb={self.memory_limit_in_mb},"
            f"function_version={self.function_version},"
            f"invoked_function_arn={self.invoked_function_arn},"
            f"client_context={self.client_context},identity={self.identity},"
            f"tenant_id={self.tenant_id}])"
        )
