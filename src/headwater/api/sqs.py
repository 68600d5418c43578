"""SQS (JSON 1.0, ``X-Amz-Target: AmazonSQS.<Op>``) adapter."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from headwater.api.context import RequestContext
from headwater.runtime import Runtime

Body = dict[str, Any]
Handler = Callable[[Runtime, RequestContext, Body], Awaitable[Body]]

OPERATIONS: dict[str, Handler] = {}
