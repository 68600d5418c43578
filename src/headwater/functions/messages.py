"""The byte protocol between the pool and a worker process.

Messages are raw byte strings over a ``multiprocessing.connection`` pipe; the first byte names
the kind. Payloads are carried as the JSON bytes they already are, so neither side parses or
pickles an event or a response it only forwards. Nothing is pickled: the worker learns its
function from its environment, as a Lambda runtime does.

Parent → worker::

    INVOKE   b"I" request_id b"\\0" invoked_arn b"\\0" deadline_epoch_ms b"\\0" event-json

Worker → parent::

    OUTPUT   b"O" raw bytes the function wrote to fd 1/2 (not split into lines)
    READY    b"Y" max_memory_mb             the handler imported; waiting for invokes
    INIT_ERR b"X" error-json                the handler could not be loaded; the worker exits
    RESULT   b"R" status duration b"," max_memory_mb b"\\0" payload
             status is RESULT_OK (response JSON) or RESULT_ERROR (AWS error object)

Imported inside the worker, so it imports nothing heavier than ``typing``.
"""

from __future__ import annotations

from typing import NamedTuple

INVOKE = b"I"[0]
OUTPUT = b"O"[0]
READY = b"Y"[0]
INIT_ERROR = b"X"[0]
RESULT = b"R"[0]

RESULT_OK = b"o"[0]
RESULT_ERROR = b"e"[0]


class Result(NamedTuple):
    ok: bool
    duration_ms: float
    max_memory_mb: int
    payload: bytes


class Invoke(NamedTuple):
    request_id: str
    invoked_arn: str
    deadline_ms: int
    payload: bytes


def encode_invoke(request_id: str, invoked_arn: str, deadline_ms: int, payload: bytes) -> bytes:
    head = f"I{request_id}\0{invoked_arn}\0{deadline_ms}\0".encode()
    return head + payload


def decode_invoke(message: bytes) -> Invoke:
    first = message.index(0, 1)
    second = message.index(0, first + 1)
    third = message.index(0, second + 1)
    return Invoke(
        message[1:first].decode(),
        message[first + 1 : second].decode(),
        int(message[second + 1 : third]),
        message[third + 1 :],
    )


def encode_result(ok: bool, duration_ms: float, max_memory_mb: int, payload: bytes) -> bytes:
    head = b"Ro" if ok else b"Re"
    numbers = f"{duration_ms:.3f},{max_memory_mb}".encode()
    return b"".join((head, numbers, b"\0", payload))


def decode_result(message: bytes) -> Result:
    end = message.index(0, 2)
    duration, memory = message[2:end].split(b",")
    return Result(message[1] == RESULT_OK, float(duration), int(memory), message[end + 1 :])


class Channel:
    """The worker's end of the pipe: ``multiprocessing.connection``'s framing, minus its imports.

    A 4-byte big-endian signed length (or -1 and an 8-byte length) then the bytes, exactly as
    ``Connection.send_bytes`` writes them, so the parent keeps a standard ``Connection``. The
    worker does not import ``multiprocessing.connection`` (pickle, socket, tempfile, ...) only
    to frame bytes: every millisecond of imports is a millisecond of every cold start.
    """

    def __init__(self, fd: int) -> None:
        self._fd = fd
        self._reader = open(fd, "rb", buffering=65536, closefd=False)  # noqa: SIM115

    def fileno(self) -> int:
        return self._fd

    def recv_bytes(self) -> bytes:
        """Raises EOFError once the parent has closed its end."""
        size = int.from_bytes(self._read_exactly(4), "big", signed=True)
        if size == -1:
            size = int.from_bytes(self._read_exactly(8), "big")
        return self._read_exactly(size)

    def send_bytes(self, data: bytes) -> None:
        size = len(data)
        if size > 0x7FFFFFFF:
            header = b"\xff\xff\xff\xff" + size.to_bytes(8, "big")
        else:
            header = size.to_bytes(4, "big", signed=True)
        if size <= 16384:
            self._write_all(header + data)
        else:
            self._write_all(header)
            self._write_all(data)

    def _read_exactly(self, size: int) -> bytes:
        data = self._reader.read(size)
        if data is None or len(data) != size:
            raise EOFError
        return data

    def _write_all(self, data: bytes) -> None:
        import os

        view = memoryview(data)
        while view:
            view = view[os.write(self._fd, view) :]
