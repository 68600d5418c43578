"""Running unmodified Lambda Python handlers in warm worker processes.

Names are loaded lazily: a worker process imports this package on its way to
``worker_main`` and must not pay for the pool, the zip code or ``headwater.errors``.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from headwater.functions.code import CodeInfo, extract_zip
    from headwater.functions.context import LambdaContext
    from headwater.functions.invocation import InvokeResult, InvokeStatus
    from headwater.functions.pool import WorkerPool
    from headwater.functions.spec import FunctionSpec

__all__ = [
    "CodeInfo",
    "FunctionSpec",
    "InvokeResult",
    "InvokeStatus",
    "LambdaContext",
    "WorkerPool",
    "extract_zip",
]

_HOMES = {
    "CodeInfo": "headwater.functions.code",
    "extract_zip": "headwater.functions.code",
    "LambdaContext": "headwater.functions.context",
    "InvokeResult": "headwater.functions.invocation",
    "InvokeStatus": "headwater.functions.invocation",
    "WorkerPool": "headwater.functions.pool",
    "FunctionSpec": "headwater.functions.spec",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(home), name)
