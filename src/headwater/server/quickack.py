"""Answer boto3 in a millisecond, not forty-five: TCP_NODELAY and TCP_QUICKACK.

On a kept-alive connection, a response written in two pieces waited for the client's delayed
ACK (~40 ms on Linux) behind Nagle's algorithm: every boto3 call took ~45 ms. TCP_NODELAY on
each accepted connection removes that (the protocol also writes each answer at once);
TCP_QUICKACK, re-armed whenever data arrives (it is one-shot on Linux), covers the mirror case
of clients that send headers and body in two writes with Nagle on (botocore sets no
TCP_NODELAY).
"""

from __future__ import annotations

import contextlib
import socket
from typing import Any

_QUICKACK = getattr(socket, "TCP_QUICKACK", None)


def nodelay(sock: Any) -> None:
    """Turn Nagle's algorithm off on an accepted connection's socket."""
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


def quickack(sock: Any) -> None:
    """ACK the next segment at once (Linux; a no-op elsewhere)."""
    if sock is not None and _QUICKACK is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.IPPROTO_TCP, _QUICKACK, 1)
