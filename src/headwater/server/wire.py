"""The bytes of HTTP/1.1 answers, and the state of one request on a connection.

Shared by the connection (``protocol.py``) and its ASGI side (``asgi_cycle.py``).
"""

from __future__ import annotations

import asyncio
import time
from email.utils import formatdate
from http import HTTPStatus
from typing import Final

Headers = list[tuple[bytes, bytes]]
CONTINUE: Final = b"HTTP/1.1 100 Continue\r\n\r\n"
_STATUS: Final = {
    status.value: f"HTTP/1.1 {status.value} {status.phrase}\r\n".encode() for status in HTTPStatus
}
TEXT: Final = (b"content-type", b"text/plain; charset=utf-8")
ERROR_500: Final = (500, b"Internal Server Error", [TEXT])

_date_second = -1
_date_line = b""


def date_line() -> bytes:
    """The ``date`` header line, formatted once per second."""
    global _date_second, _date_line
    now = int(time.time())
    if now != _date_second:
        _date_second = now
        _date_line = b"date: " + formatdate(now, usegmt=True).encode() + b"\r\n"
    return _date_line


def status_line(status: int) -> bytes:
    return _STATUS.get(status) or f"HTTP/1.1 {status} \r\n".encode()


class Request:
    """One request on a connection, from its first byte to its answer."""

    __slots__ = (
        "body",
        "buffered",
        "complete",
        "direct",
        "done",
        "event",
        "expect_continue",
        "header_map",
        "headers",
        "keep_alive",
        "method",
        "too_big",
        "url",
        "version",
    )

    def __init__(self) -> None:
        self.url = b""
        self.method = b""
        self.version = "1.1"
        self.headers: Headers = []
        self.header_map: dict[bytes, bytes] = {}
        self.body: list[bytes] = []
        self.buffered = 0
        self.complete = False  # the whole body has been parsed
        self.done = False  # answered (or given up)
        self.keep_alive = True
        self.expect_continue = False
        self.direct = False
        self.too_big = False
        self.event: asyncio.Event | None = None  # ASGI requests: wakes ``receive``

    def wake(self) -> None:
        if self.event is not None:
            self.event.set()

    def connection_line(self) -> bytes:
        """The ``connection`` header line an answer to this request needs, if any."""
        if not self.keep_alive:
            return b"connection: close\r\n"
        return b"connection: keep-alive\r\n" if self.version == "1.0" else b""
