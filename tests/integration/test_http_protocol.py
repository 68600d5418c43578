"""The server's HTTP/1.1 protocol (``server/protocol.py``) on a real socket, byte for byte.

A small app stands in for Headwater's: its direct route echoes JSON 1.0 ``POST /`` bodies
(optionally after waiting), its ASGI part echoes, streams, fails or waits, so every HTTP rule
the protocol keeps can be seen from a raw client socket.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import uvloop

from headwater.server import protocol
from headwater.server.protocol import HttpServer

WAIT = 10.0


class FakeDirect:
    """POST / with X-Amz-Target: answered without ASGI (as Headwater's JSON 1.0 calls)."""

    max_body = 64 * 1024

    def accepts(self, method: bytes, url: bytes, headers: dict[bytes, bytes]) -> bool:
        return method == b"POST" and url == b"/" and b"x-amz-target" in headers

    async def answer(
        self, headers: dict[bytes, bytes], body: bytes
    ) -> tuple[int, bytes, list[tuple[bytes, bytes]]]:
        target = headers[b"x-amz-target"]
        if target == b"sleep":
            await asyncio.sleep(0.05)
        elif target == b"yield":
            await asyncio.sleep(0)
        elif target == b"boom":
            raise ValueError("boom")
        return 200, body, [(b"content-length", str(len(body)).encode()), (b"x-target", target)]


class FakeApp:
    """The ASGI side: everything the direct route does not take."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.messages: list[dict[str, Any]] = []

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        path = scope["path"]
        if path == "/boom":
            raise RuntimeError("boom")
        if path == "/nothing":
            return
        if path == "/slow":
            while not self.release.is_set():
                await asyncio.sleep(0.01)
        if path == "/early":  # answers without reading the body
            await send({"type": "http.response.start", "status": 413, "headers": []})
            await send({"type": "http.response.body", "body": b"too big"})
            return
        body = b""
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                self.messages.append(message)
                return
            body += message.get("body", b"")
            if not message.get("more_body", False):
                break
        if path == "/wait-disconnect":
            self.messages.append(await receive())
            return
        if path == "/stream":
            await send({"type": "http.response.start", "status": 200, "headers": []})
            for part in (b"one,", b"two,", b"three"):
                await send({"type": "http.response.body", "body": part, "more_body": True})
            await send({"type": "http.response.body", "body": b""})
            return
        if path == "/half":
            await send({"type": "http.response.start", "status": 200, "headers": []})
            await send({"type": "http.response.body", "body": b"part", "more_body": True})
            return
        shown = f"{scope['method']} {scope['path']} {scope['query_string'].decode()} ".encode()
        out = shown + body
        headers = [(b"content-type", b"text/plain"), (b"content-length", str(len(out)).encode())]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": out})


class Running:
    """An ``HttpServer`` on 127.0.0.1 in a thread of its own."""

    def __init__(self, loop: str = "asyncio") -> None:
        self.app = FakeApp()
        self.port = 0
        self.server: HttpServer | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._ready = threading.Event()
        factory = uvloop.new_event_loop if loop == "uvloop" else None
        self._thread = threading.Thread(target=self._run, args=(factory,), daemon=True)

    def _run(self, factory: Callable[[], asyncio.AbstractEventLoop] | None) -> None:
        with asyncio.Runner(loop_factory=factory) as runner:
            runner.run(self._main())

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        sock.listen(16)
        self.port = sock.getsockname()[1]
        self.server = HttpServer(self.app, FakeDirect())
        await self.server.start(sock)
        self._ready.set()
        await self._stop.wait()
        await self.server.shutdown(WAIT)

    def start(self) -> Running:
        self._thread.start()
        assert self._ready.wait(WAIT)
        return self

    def begin_shutdown(self) -> None:
        assert self._loop is not None and self._stop is not None
        self._loop.call_soon_threadsafe(self._stop.set)

    def stop(self) -> None:
        self.app.release.set()
        if self._thread.is_alive():
            self.begin_shutdown()
            self._thread.join(WAIT)

    def connect(self) -> Client:
        return Client(socket.create_connection(("127.0.0.1", self.port), timeout=WAIT))


class Client:
    """A raw socket and a parser for the responses that come back."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.buffer = b""

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def _fill(self) -> bool:
        data = self.sock.recv(65536)
        self.buffer += data
        return bool(data)

    def read_head(self) -> tuple[str, dict[str, str]]:
        while b"\r\n\r\n" not in self.buffer:
            if not self._fill():
                raise ConnectionError(f"closed before a response head: {self.buffer!r}")
        head, self.buffer = self.buffer.split(b"\r\n\r\n", 1)
        status, *lines = head.decode("latin-1").split("\r\n")
        headers = {}
        for line in lines:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        return status, headers

    def read_exactly(self, size: int) -> bytes:
        while len(self.buffer) < size:
            if not self._fill():
                raise ConnectionError("closed inside a body")
        out, self.buffer = self.buffer[:size], self.buffer[size:]
        return out

    def read_line(self) -> bytes:
        while b"\r\n" not in self.buffer:
            if not self._fill():
                raise ConnectionError("closed inside a chunk")
        line, self.buffer = self.buffer.split(b"\r\n", 1)
        return line

    def read_response(self, head_only: bool = False) -> tuple[str, dict[str, str], bytes]:
        status, headers = self.read_head()
        if head_only:
            return status, headers, b""
        if "content-length" in headers:
            return status, headers, self.read_exactly(int(headers["content-length"]))
        if headers.get("transfer-encoding") == "chunked":
            body = b""
            while True:
                size = int(self.read_line(), 16)
                if size == 0:
                    self.read_line()
                    return status, headers, body
                body += self.read_exactly(size)
                self.read_line()
        while self._fill():  # delimited by the connection closing
            pass
        body, self.buffer = self.buffer, b""
        return status, headers, body

    def closed_by_server(self) -> bool:
        try:
            return not self.buffer and self.sock.recv(1) == b""
        except (ConnectionResetError, TimeoutError):
            return False

    def close(self) -> None:
        self.sock.close()


@pytest.fixture(params=["asyncio", "uvloop"])
def http(request: pytest.FixtureRequest) -> Iterator[Running]:
    """The protocol under the standard event loop and under uvloop's (which serve.py prefers)."""
    running = Running(request.param).start()
    try:
        yield running
    finally:
        running.stop()


def direct(body: bytes, target: str = "Echo.Call", extra: str = "") -> bytes:
    return (
        f"POST / HTTP/1.1\r\nHost: x\r\nX-Amz-Target: {target}\r\n"
        f"Content-Length: {len(body)}\r\n{extra}\r\n"
    ).encode() + body


def test_direct_requests_share_a_kept_alive_connection(http: Running) -> None:
    client = http.connect()
    for body in (b'{"n":1}', b'{"n":2}'):
        client.send(direct(body))
        status, headers, out = client.read_response()
        assert status == "HTTP/1.1 200 OK"
        assert out == body
        assert "connection" not in headers
        assert "date" in headers


def test_a_direct_answer_that_waits_on_a_future_is_answered(http: Running) -> None:
    client = http.connect()
    for target in ("sleep", "yield"):
        client.send(direct(b"{}", target))
        status, headers, _ = client.read_response()
        assert status == "HTTP/1.1 200 OK"
        assert headers["x-target"] == target


def test_pipelined_requests_are_answered_in_order(http: Running) -> None:
    client = http.connect()
    client.send(direct(b"1", "sleep") + b"GET /a?x=1 HTTP/1.1\r\nHost: x\r\n\r\n" + direct(b"3"))
    assert client.read_response()[2] == b"1"
    assert client.read_response()[2] == b"GET /a x=1 "
    assert client.read_response()[2] == b"3"


def test_chunked_request_bodies_are_decoded(http: Running) -> None:
    client = http.connect()
    chunked = b'4\r\n{"a"\r\n5\r\n:"bc"\r\n1\r\n}\r\n0\r\n\r\n'
    client.send(
        b"POST / HTTP/1.1\r\nHost: x\r\nX-Amz-Target: T\r\nTransfer-Encoding: chunked\r\n\r\n"
        + chunked
    )
    assert client.read_response()[2] == b'{"a":"bc"}'
    client.send(b"PUT /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" + chunked)
    assert client.read_response()[2] == b'PUT /echo  {"a":"bc"}'


@pytest.mark.parametrize(
    ("head", "shown"),
    [
        ("POST / HTTP/1.1\r\nHost: x\r\nX-Amz-Target: T\r\n", b""),
        ("PUT /bucket/key HTTP/1.1\r\nHost: x\r\n", b"PUT /bucket/key  "),
    ],
)
def test_expect_100_continue_gets_its_interim_answer_before_the_body(
    http: Running, head: str, shown: bytes
) -> None:
    client = http.connect()
    client.send(f"{head}Content-Length: 5\r\nExpect: 100-continue\r\n\r\n".encode())
    status, _ = client.read_head()
    assert status == "HTTP/1.1 100 Continue"
    client.send(b"hello")
    status, _, body = client.read_response()
    assert status == "HTTP/1.1 200 OK"
    assert body == shown + b"hello"


def test_an_http_1_0_client_gets_its_answer_and_the_connection_closes(http: Running) -> None:
    client = http.connect()
    client.send(b"GET /plain HTTP/1.0\r\n\r\n")
    status, headers, body = client.read_response()
    assert status == "HTTP/1.1 200 OK"
    assert headers["connection"] == "close"
    assert body == b"GET /plain  "
    assert client.closed_by_server()


def test_an_http_1_0_client_may_ask_to_keep_the_connection(http: Running) -> None:
    client = http.connect()
    for _ in range(2):
        client.send(
            b"POST / HTTP/1.0\r\nX-Amz-Target: T\r\nConnection: keep-alive\r\n"
            b"Content-Length: 2\r\n\r\n{}"
        )
        status, headers, body = client.read_response()
        assert (status, headers["connection"], body) == ("HTTP/1.1 200 OK", "keep-alive", b"{}")


def test_connection_close_from_the_client_closes_after_the_answer(http: Running) -> None:
    client = http.connect()
    client.send(direct(b"{}", extra="Connection: close\r\n"))
    _, headers, _ = client.read_response()
    assert headers["connection"] == "close"
    assert client.closed_by_server()


def test_head_answers_carry_no_body_and_the_connection_goes_on(http: Running) -> None:
    client = http.connect()
    client.send(b"HEAD /thing HTTP/1.1\r\nHost: x\r\n\r\n")
    status, headers, _ = client.read_response(head_only=True)
    assert status == "HTTP/1.1 200 OK"
    assert headers["content-length"] == str(len(b"HEAD /thing  "))
    client.send(direct(b"after"))
    assert client.read_response()[2] == b"after"


def test_a_streamed_answer_is_chunked_for_http_1_1(http: Running) -> None:
    client = http.connect()
    client.send(b"GET /stream HTTP/1.1\r\nHost: x\r\n\r\n")
    _, headers, body = client.read_response()
    assert headers["transfer-encoding"] == "chunked"
    assert body == b"one,two,three"
    client.send(direct(b"next"))
    assert client.read_response()[2] == b"next"


def test_a_streamed_answer_ends_with_the_connection_for_http_1_0(http: Running) -> None:
    client = http.connect()
    client.send(b"GET /stream HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
    _, headers, body = client.read_response()
    assert "transfer-encoding" not in headers
    assert headers["connection"] == "close"
    assert body == b"one,two,three"


def test_a_malformed_request_gets_400_and_a_closed_connection(http: Running) -> None:
    client = http.connect()
    client.send(b"NOT HTTP AT ALL\r\n\r\n")
    status, _, body = client.read_response()
    assert status == "HTTP/1.1 400 Bad Request"
    assert body == b"Invalid HTTP request received."
    assert client.closed_by_server()


@pytest.mark.parametrize("path", ["/boom", "/nothing"])
def test_an_application_without_an_answer_gives_500(http: Running, path: str) -> None:
    client = http.connect()
    client.send(f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    status, headers, body = client.read_response()
    assert status == "HTTP/1.1 500 Internal Server Error"
    assert body == b"Internal Server Error"
    assert headers["connection"] == "close"


def test_a_failing_direct_answer_gives_500(http: Running) -> None:
    client = http.connect()
    client.send(direct(b"{}", "boom"))
    assert client.read_response()[0] == "HTTP/1.1 500 Internal Server Error"


def test_an_unfinished_streamed_answer_closes_the_connection(http: Running) -> None:
    client = http.connect()
    client.send(b"GET /half HTTP/1.1\r\nHost: x\r\n\r\n")
    status, headers = client.read_head()
    assert status == "HTTP/1.1 200 OK"
    assert headers["transfer-encoding"] == "chunked"
    assert client.read_line() == b"4"
    assert client.read_line() == b"part"
    assert client.closed_by_server()


def test_a_direct_body_over_its_limit_gets_413_and_a_closed_connection(http: Running) -> None:
    client = http.connect()
    body = b"x" * (FakeDirect.max_body + 1)
    client.send(direct(body))
    status, headers, _ = client.read_response()
    assert status == "HTTP/1.1 413 Request Entity Too Large"
    assert headers["connection"] == "close"
    assert client.closed_by_server()


def test_an_answer_sent_before_the_body_was_read_keeps_the_connection_usable(
    http: Running,
) -> None:
    client = http.connect()
    client.send(b"POST /early HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello")
    assert client.read_response()[:1] == ("HTTP/1.1 413 Request Entity Too Large",)
    client.send(direct(b"after"))
    assert client.read_response()[2] == b"after"


def test_a_client_that_goes_away_is_a_disconnect_for_the_application(http: Running) -> None:
    client = http.connect()
    client.send(b"GET /wait-disconnect HTTP/1.1\r\nHost: x\r\n\r\n")
    time.sleep(0.1)  # let the request reach the application before leaving
    client.close()
    deadline = time.monotonic() + WAIT
    while not http.app.messages and time.monotonic() < deadline:
        time.sleep(0.01)
    assert http.app.messages == [{"type": "http.disconnect"}]


def test_idle_kept_alive_connections_are_closed(
    http: Running, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(protocol, "IDLE_SECONDS", 0.2)
    client = http.connect()
    client.send(direct(b"{}"))
    client.read_response()
    assert client.closed_by_server()  # within the sweep's second, not the test's WAIT


def test_shutdown_closes_idle_connections_and_finishes_requests_in_flight(
    http: Running,
) -> None:
    idle, busy = http.connect(), http.connect()
    idle.send(direct(b"{}"))
    idle.read_response()
    busy.send(b"GET /slow HTTP/1.1\r\nHost: x\r\n\r\n")
    time.sleep(0.1)
    http.begin_shutdown()
    assert idle.closed_by_server()
    http.app.release.set()
    status, headers, body = busy.read_response()
    assert (status, headers["connection"], body) == ("HTTP/1.1 200 OK", "close", b"GET /slow  ")
    assert busy.closed_by_server()
    with pytest.raises(OSError):
        http.connect().send(direct(b"{}"))


def test_accepted_connections_have_nagle_off(http: Running) -> None:
    client = http.connect()
    client.send(direct(b"{}"))
    client.read_response()
    assert http.server is not None
    (connection,) = list(http.server.connections)
    assert connection.sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0
