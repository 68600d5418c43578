"""Answer boto3 in a millisecond, not forty-five.

uvicorn writes a response's headers and body with two writes. On the sockets we hand it, Nagle's
algorithm was left on, so on a kept-alive connection the body waited for the client's delayed
ACK (~40 ms on Linux): every boto3 call took ~45 ms. TCP_NODELAY on each accepted connection
removes that; TCP_QUICKACK, re-armed whenever data arrives (it is one-shot on Linux), covers
the mirror case of clients that send headers and body in two writes with Nagle on (botocore
sets no TCP_NODELAY).
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

_QUICKACK = getattr(socket, "TCP_QUICKACK", None)


def _quickack(transport: Any) -> None:
    sock = transport.get_extra_info("socket") if transport is not None else None
    if sock is not None and _QUICKACK is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.IPPROTO_TCP, _QUICKACK, 1)


class QuickAckHttpToolsProtocol(HttpToolsProtocol):
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        sock = transport.get_extra_info("socket")
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        _quickack(transport)

    def data_received(self, data: bytes) -> None:
        _quickack(self.transport)
        super().data_received(data)
