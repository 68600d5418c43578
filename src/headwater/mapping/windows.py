"""Tumbling windows (spec §6.9): the event of a windowed invocation, and reading its response.

Windows are aligned to the epoch and hold records by their creation time. Each invocation
carries the window's ``state`` from the previous one; the handler must answer with a ``state``
(else the invocation failed). When the window ends, a final invocation (no records,
``isFinalInvokeForWindow: true``) lets the handler act on the total.
"""

from __future__ import annotations

import math
import time
from typing import Any

import orjson


def window_start(created: float, seconds: int) -> float:
    return math.floor(created / seconds) * seconds


def _iso(epoch: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))


def window_event(
    records: list[bytes],
    *,
    stream_arn: str,
    shard_id: str,
    start: float,
    seconds: int,
    state: Any,
    final: bool,
    terminated_early: bool = False,
) -> bytes:
    suffix = b',"eventSourceARN":' + orjson.dumps(stream_arn) + b"}"
    spliced = b"[" + b",".join(r[:-1] + suffix for r in records) + b"]"
    rest = orjson.dumps(
        {
            "window": {"start": _iso(start), "end": _iso(start + seconds)},
            "state": state,
            "shardId": shard_id,
            "eventSourceARN": stream_arn,
            "isFinalInvokeForWindow": final,
            "isWindowTerminatedEarly": terminated_early,
        }
    )
    return b'{"Records":' + spliced + b"," + rest[1:]


def response_state(payload: bytes) -> tuple[bool, Any]:
    """(ok, new state): a windowed response must be an object with a ``state`` member."""
    try:
        body = orjson.loads(payload) if payload.strip() else None
    except orjson.JSONDecodeError:
        return False, None
    if not isinstance(body, dict) or "state" not in body:
        return False, None
    return True, body["state"]
