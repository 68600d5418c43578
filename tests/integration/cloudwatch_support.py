"""Helpers shared by the CloudWatch integration tests."""

from __future__ import annotations

import datetime as dt
import json
import urllib.request
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

from headwater.testing import HeadwaterServer


def server_now(server: HeadwaterServer) -> dt.datetime:
    """The server's clock (other tests may have moved it forward)."""
    with urllib.request.urlopen(f"{server.url}/_headwater/clock", timeout=10) as response:
        seconds = json.loads(response.read())["time"]
    return dt.datetime.fromtimestamp(seconds, dt.UTC)


def window(server: HeadwaterServer, minutes: int = 10) -> dict[str, dt.datetime]:
    """StartTime/EndTime from ``minutes`` before the server's now to as many after."""
    now = server_now(server)
    return {
        "StartTime": now - dt.timedelta(minutes=minutes),
        "EndTime": now + dt.timedelta(minutes=minutes),
    }


def client_error(call: Callable[[], Any]) -> dict[str, Any]:
    """The ``Error`` part of the ClientError ``call`` raises."""
    with pytest.raises(ClientError) as caught:
        call()
    error: dict[str, Any] = caught.value.response["Error"]
    return error
