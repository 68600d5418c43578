"""HTTP/1.1 on the server's one port: asyncio + httptools, without uvicorn's per-request cost.

Nearly every request is a small JSON 1.0 ``POST /`` answered with one small JSON body, and
uvicorn spent more CPU on each than Headwater's own work did (an ASGI task with its scope and
message dicts, a keep-alive timer, two socket writes). This protocol parses with the same C
parser (httptools) and

* hands a request the app accepts as *direct* (``Direct.accepts``: JSON 1.0 ``POST /``) to
  ``Direct.answer`` once its body is in, and writes the answer with one ``write``;
* runs every other request as an ASGI call of the app (S3, SNS, Lambda, ``/_headwater``),
  its body streamed through ``receive`` with back-pressure.

Both keep HTTP's rules: keep-alive and pipelining (answers in request order), HTTP/1.0
clients, ``Content-Length`` and chunked request bodies (httptools decodes them),
``Expect: 100-continue``, HEAD, chunked responses for streamed bodies, TCP_NODELAY and
TCP_QUICKACK (``quickack.py``), idle keep-alive connections closed after
``IDLE_SECONDS``, and a graceful shutdown (``HttpServer.shutdown``) that lets the requests
in flight finish.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import urllib.parse
from collections import deque
from collections.abc import Coroutine
from typing import Any, Final, Protocol, cast

import httptools
from starlette.types import ASGIApp

from headwater.server.asgi_cycle import AsgiCycle
from headwater.server.quickack import nodelay, quickack
from headwater.server.wire import (
    CONTINUE,
    ERROR_500,
    TEXT,
    Headers,
    Request,
    date_line,
    status_line,
)

log = logging.getLogger("headwater.server")

IDLE_SECONDS: Final = 5.0  # as uvicorn's default keep-alive timeout
HIGH_WATER: Final = 64 * 1024  # request body bytes buffered before reading pauses

Answer = tuple[int, bytes, Headers]


class Direct(Protocol):
    """The requests an app answers without ASGI: whole body in, (status, body, headers) out.

    ``answer`` must be a coroutine that awaits nothing but asyncio futures (and coroutines
    that do the same): it is stepped without a Task (``HttpConnection._step``)."""

    max_body: int

    def accepts(self, method: bytes, url: bytes, headers: dict[bytes, bytes]) -> bool: ...

    def answer(self, headers: dict[bytes, bytes], body: bytes) -> Coroutine[Any, Any, Answer]: ...


class HttpConnection(asyncio.Protocol):
    """One client connection. Requests are answered one at a time, in order."""

    def __init__(self, server: HttpServer) -> None:
        self.server = server
        self.loop = server.loop
        self.parser = httptools.HttpRequestParser(self)
        self.transport: asyncio.Transport | None = None
        self.sock: Any = None
        self.parsing: Request | None = None
        self.queue: deque[Request] = deque()  # the head is the one being answered
        self.busy = False
        self.closed = False
        self.paused = False
        self.idle_since = self.loop.time()
        self.client: tuple[str, int] | None = None
        self.local: tuple[str, int] | None = None
        self._write_paused = False
        self._drained: asyncio.Future[None] | None = None

    # -- transport events ------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass
        self.sock = transport.get_extra_info("socket")
        nodelay(self.sock)
        quickack(self.sock)
        self.client = _address(transport.get_extra_info("peername"))
        self.local = _address(transport.get_extra_info("sockname"))
        self.server.opened(self)

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self.server.closed(self)
        for request in self.queue:
            request.wake()
        if self._drained is not None and not self._drained.done():
            self._drained.set_result(None)

    def pause_writing(self) -> None:
        self._write_paused = True

    def resume_writing(self) -> None:
        self._write_paused = False
        if self._drained is not None and not self._drained.done():
            self._drained.set_result(None)

    async def drain(self) -> None:
        if self._write_paused and not self.closed:
            self._drained = self.loop.create_future()
            await self._drained

    def data_received(self, data: bytes) -> None:
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            pass  # no protocol switch here; the request is answered as a plain one
        except httptools.HttpParserError:
            self._bad_request()
            return
        parsing = self.parsing
        if parsing is not None and not parsing.complete:
            # Part of a request is in: ACK it now, or a client that sends the rest after
            # our ACK (Nagle's algorithm) waits ~40 ms for the delayed one.
            quickack(self.sock)

    def eof_received(self) -> bool | None:
        return None  # close our side too

    # -- parser callbacks -------------------------------------------------------------------

    def on_message_begin(self) -> None:
        self.parsing = Request()

    def on_url(self, url: bytes) -> None:
        assert self.parsing is not None
        self.parsing.url += url

    def on_header(self, name: bytes, value: bytes) -> None:
        assert self.parsing is not None
        self.parsing.headers.append((name.lower(), value))

    def on_headers_complete(self) -> None:
        request = self.parsing
        assert request is not None
        parser = self.parser
        request.method = parser.get_method()
        request.version = parser.get_http_version()
        request.keep_alive = parser.should_keep_alive() and not self.server.closing
        headers = request.header_map = dict(request.headers)
        expect = headers.get(b"expect")
        request.expect_continue = expect is not None and expect.lower() == b"100-continue"
        request.direct = self.server.direct.accepts(request.method, request.url, headers)
        if not request.direct:
            request.event = asyncio.Event()
        self.queue.append(request)
        if len(self.queue) == 1:
            self._start()
        else:
            self._pause()  # pipelined: one request at a time

    def on_body(self, body: bytes) -> None:
        request = self.parsing
        assert request is not None
        if request.done or request.too_big:
            return  # answered early; the rest of its body is read and dropped
        request.buffered += len(body)
        if request.direct:
            if request.buffered > self.server.direct.max_body:
                request.too_big = True
                request.body.clear()
                if self.queue and self.queue[0] is request and not self.busy:
                    self._start()
                return
            request.body.append(body)
            return
        request.body.append(body)
        request.wake()
        if request.buffered > HIGH_WATER:
            self._pause()

    def on_message_complete(self) -> None:
        request = self.parsing
        assert request is not None
        request.complete = True
        request.wake()
        if request.direct and self.queue and self.queue[0] is request and not self.busy:
            self._start()

    # -- answering --------------------------------------------------------------------------

    def _start(self) -> None:
        """Begin answering the head of the queue, if it is ready."""
        request = self.queue[0]
        if request.direct:
            if request.too_big:
                request.keep_alive = False
                self._write_answer(request, 413, b"", [(b"content-length", b"0")])
                self._finish(request)
                return
            if not request.complete:
                if request.expect_continue and not request.body:
                    self.write(CONTINUE)
                return
            self.busy = True
            answer = self.server.direct.answer(request.header_map, b"".join(request.body))
            self._step(request, answer, None, None)
            return
        self.busy = True
        self.server.run(self._answer_asgi(request))

    # A direct answer's coroutine runs right here, not in a Task: it only ever waits on
    # futures (the writer's, the readers'), and their done callbacks step it on, as a Task's
    # would. That saves a Task and a turn of the event loop per request.

    def _step(
        self,
        request: Request,
        answer: Coroutine[Any, Any, Answer],
        value: Any,
        error: BaseException | None,
    ) -> None:
        try:
            awaited = answer.send(value) if error is None else answer.throw(error)
        except StopIteration as stop:
            status, body, headers = stop.value
            self._write_answer(request, status, body, headers)
            self._finish(request)
            return
        except asyncio.CancelledError:
            self._abort()
            self._finish(request)
            return
        except Exception:
            log.exception("exception answering %s %s", request.method.decode(), request.url)
            status, body, headers = ERROR_500
            headers = [*headers, (b"content-length", str(len(body)).encode())]
            self._write_answer(request, status, body, headers)
            self._finish(request)
            return
        if awaited is None:  # a bare yield: go round the loop once
            self.loop.call_soon(self._step, request, answer, None, None)
        elif getattr(awaited, "_asyncio_future_blocking", False):
            awaited._asyncio_future_blocking = False
            self.server.waiting[answer] = awaited
            awaited.add_done_callback(functools.partial(self._wake, request, answer))
        else:
            problem = RuntimeError(f"a direct answer awaited {awaited!r}, not a future")
            self.loop.call_soon(self._step, request, answer, None, problem)

    def _wake(
        self, request: Request, answer: Coroutine[Any, Any, Answer], future: asyncio.Future[Any]
    ) -> None:
        self.server.waiting.pop(answer, None)
        try:
            value = future.result()
        except BaseException as error:  # CancelledError too: thrown in, as a Task does
            self._step(request, answer, None, error)
        else:
            self._step(request, answer, value, None)

    def _write_answer(self, request: Request, status: int, body: bytes, headers: Headers) -> None:
        parts = [status_line(status)]
        for name, value in headers:
            parts += (name, b": ", value, b"\r\n")
        parts.append(date_line())
        parts.append(request.connection_line())
        parts.append(b"\r\n")
        parts.append(body)
        self.write(b"".join(parts))

    async def _answer_asgi(self, request: Request) -> None:
        try:
            scope = self._scope(request)
        except httptools.HttpParserInvalidURLError:
            request.keep_alive = False
            self._bad_request()
            self._finish(request)
            return
        cycle = AsgiCycle(self, request)
        try:
            await self.server.app(scope, cycle.receive, cycle.send)
        except asyncio.CancelledError:
            self._abort()
            raise
        except Exception:
            log.exception("exception in the ASGI application")
            if not cycle.started:
                cycle.fail()
            elif not cycle.complete:
                self._abort()
        else:
            if not cycle.started:
                log.error("the ASGI application returned without a response")
                cycle.fail()
            elif not cycle.complete:
                log.error("the ASGI application returned before its response was complete")
                self._abort()
        finally:
            self._finish(request)

    def _scope(self, request: Request) -> dict[str, Any]:
        url = httptools.parse_url(request.url)
        raw_path = url.path or b"/"
        return {
            "type": "http",
            "asgi": {"version": "3.0", "spec_version": "2.3"},
            "http_version": request.version,
            "server": self.local,
            "client": self.client,
            "scheme": "http",
            "method": request.method.decode("ascii"),
            "root_path": "",
            "path": urllib.parse.unquote(raw_path.decode("ascii", "replace")),
            "raw_path": raw_path,
            "query_string": url.query or b"",
            "headers": request.headers,
            "state": {},
        }

    def _finish(self, request: Request) -> None:
        request.done = True
        request.wake()
        if self.queue and self.queue[0] is request:
            self.queue.popleft()
        self.busy = False
        if self.closed:
            return
        if not request.keep_alive or self.server.closing:
            assert self.transport is not None
            self.transport.close()
            return
        self.idle_since = self.loop.time()
        self.resume()  # the next request may still be sending its body
        if self.queue:  # pipelined; on the next turn, so answers never nest
            self.loop.call_soon(self._start_next)

    def _start_next(self) -> None:
        if self.queue and not self.busy and not self.closed:
            self._start()

    # -- the socket -------------------------------------------------------------------------

    def write(self, data: bytes) -> None:
        if not self.closed and self.transport is not None and not self.transport.is_closing():
            self.transport.write(data)

    def _pause(self) -> None:
        if not self.paused and self.transport is not None and not self.closed:
            self.paused = True
            self.transport.pause_reading()

    def resume(self) -> None:
        if self.paused and self.transport is not None and not self.closed:
            self.paused = False
            self.transport.resume_reading()

    def _abort(self) -> None:
        if self.transport is not None and not self.closed:
            self.transport.close()

    def _bad_request(self) -> None:
        body = b"Invalid HTTP request received."
        self.write(
            status_line(400)
            + TEXT[0]
            + b": "
            + TEXT[1]
            + b"\r\ncontent-length: "
            + str(len(body)).encode()
            + b"\r\nconnection: close\r\n\r\n"
            + body
        )
        self._abort()

    @property
    def idle(self) -> bool:
        """No request queued or half-parsed."""
        return not self.queue and (self.parsing is None or self.parsing.done)

    def shutdown(self) -> None:
        """Close now if idle, else once the request being answered is."""
        if self.idle and not self.busy:
            self._abort()
            return
        for request in self.queue:
            request.keep_alive = False


def _address(value: Any) -> tuple[str, int] | None:
    if isinstance(value, tuple) and len(value) >= 2:
        return str(value[0]), int(value[1])
    return None


class HttpServer:
    """The listening socket's connections, the tasks answering them, and shutting down."""

    def __init__(self, app: ASGIApp, direct: Direct) -> None:
        self.app = app
        self.direct = direct
        self.loop = asyncio.get_running_loop()
        self.connections: set[HttpConnection] = set()
        self.tasks: set[asyncio.Task[None]] = set()
        # Direct answers suspended on a future (``HttpConnection._step``), to cancel at the end.
        self.waiting: dict[Coroutine[Any, Any, Answer], asyncio.Future[Any]] = {}
        self.closing = False
        self._server: asyncio.Server | None = None
        self._sweeper: asyncio.TimerHandle | None = None
        self._all_closed: asyncio.Event | None = None

    async def start(self, sock: Any) -> None:
        self._server = await self.loop.create_server(
            lambda: HttpConnection(self), sock=sock, backlog=2048
        )

    def run(self, work: Any) -> None:
        task = self.loop.create_task(work)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    def opened(self, connection: HttpConnection) -> None:
        self.connections.add(connection)
        if self._sweeper is None:
            self._sweeper = self.loop.call_later(1.0, self._sweep)

    def closed(self, connection: HttpConnection) -> None:
        self.connections.discard(connection)
        if not self.connections and self._all_closed is not None:
            self._all_closed.set()

    def _sweep(self) -> None:
        """Close keep-alive connections idle for longer than ``IDLE_SECONDS``."""
        self._sweeper = None
        now = self.loop.time()
        for connection in list(self.connections):
            idle = connection.idle and not connection.busy
            if idle and now - connection.idle_since > IDLE_SECONDS:
                connection.shutdown()
        if self.connections and not self.closing:
            self._sweeper = self.loop.call_later(1.0, self._sweep)

    async def shutdown(self, timeout: float, force: asyncio.Event | None = None) -> None:
        """Stop listening, close idle connections, give requests in flight ``timeout``
        seconds (or until ``force`` is set) to finish, then cut what is left."""
        self.closing = True
        if self._sweeper is not None:
            self._sweeper.cancel()
        if self._server is not None:
            self._server.close()
        for connection in list(self.connections):
            connection.shutdown()
        self._all_closed = asyncio.Event()
        if self.connections:
            waits = [asyncio.ensure_future(self._all_closed.wait())]
            if force is not None:
                waits.append(asyncio.ensure_future(force.wait()))
            _, pending = await asyncio.wait(
                waits, timeout=timeout, return_when=asyncio.FIRST_COMPLETED
            )
            for waiting in pending:
                waiting.cancel()
        for connection in list(self.connections):
            if connection.transport is not None:
                connection.transport.abort()
        for task in list(self.tasks):
            task.cancel()
        for future in list(self.waiting.values()):
            future.cancel()
        if self.tasks:
            await asyncio.wait(list(self.tasks), timeout=timeout)
        await asyncio.sleep(0)  # let the cancelled direct answers unwind
        if self._server is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), timeout)
