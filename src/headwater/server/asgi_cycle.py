"""The ASGI side of one request: ``receive`` streams the body in, ``send`` writes the answer.

Bodies come in as the connection parses them (reading pauses past ``protocol.HIGH_WATER``
buffered bytes and resumes as ``receive`` drains them); ``Expect: 100-continue`` is answered
when the application first asks for the body. An answer without ``content-length`` is sent
chunked to HTTP/1.1 clients and ended by closing the connection for HTTP/1.0 ones; HEAD
answers carry no body.
"""

from __future__ import annotations

from typing import Protocol

from starlette.types import Message

from headwater.server.wire import CONTINUE, ERROR_500, Headers, Request, date_line, status_line


class Connection(Protocol):
    """What a cycle needs of its connection."""

    closed: bool

    def write(self, data: bytes) -> None: ...

    def resume(self) -> None: ...

    async def drain(self) -> None: ...


class AsgiCycle:
    """The ASGI ``receive``/``send`` pair of one request."""

    def __init__(self, connection: Connection, request: Request) -> None:
        self.connection = connection
        self.request = request
        self.started = False
        self.complete = False
        self.status = 200
        self.headers: Headers = []
        self.head_written = False
        self.chunked = False
        self.continue_sent = False
        self.body_done = False
        self.head_only = request.method == b"HEAD"

    async def receive(self) -> Message:
        request, connection = self.request, self.connection
        assert request.event is not None
        if self.body_done:
            while not self.complete and not connection.closed:
                request.event.clear()
                await request.event.wait()
            return {"type": "http.disconnect"}
        if (
            request.expect_continue
            and not self.continue_sent
            and not self.started
            and not request.complete
            and not request.body
        ):
            self.continue_sent = True
            connection.write(CONTINUE)
        while not request.body and not request.complete and not connection.closed:
            connection.resume()
            request.event.clear()
            await request.event.wait()
        if connection.closed and not request.complete:
            return {"type": "http.disconnect"}
        body = b"".join(request.body)
        request.body.clear()
        request.buffered = 0
        connection.resume()
        self.body_done = request.complete
        return {"type": "http.request", "body": body, "more_body": not request.complete}

    async def send(self, message: Message) -> None:
        kind = message["type"]
        if kind == "http.response.start":
            if self.started:
                raise RuntimeError("the response has already started")
            self.started = True
            self.status = int(message["status"])
            self.headers = [(bytes(k), bytes(v)) for k, v in message.get("headers", ())]
            return
        if kind != "http.response.body":
            raise RuntimeError(f"unexpected ASGI message {kind!r}")
        if not self.started or self.complete:
            raise RuntimeError("http.response.body outside a response")
        body: bytes = message.get("body", b"")
        more = bool(message.get("more_body", False))
        parts: list[bytes] = []
        if not self.head_written:
            self.head_written = True
            parts.append(self._head(body, more))
        if not self.head_only:
            if self.chunked:
                if body:
                    parts += (b"%x\r\n" % len(body), body, b"\r\n")
                if not more:
                    parts.append(b"0\r\n\r\n")
            else:
                parts.append(body)
        self.connection.write(b"".join(parts))
        if not more:
            self.complete = True
            self.request.wake()
        else:
            await self.connection.drain()

    def _head(self, body: bytes, more: bool) -> bytes:
        request = self.request
        names = {name.lower(): value for name, value in self.headers}
        status = self.status
        extra: Headers = []
        if names.get(b"connection", b"").lower() == b"close":
            request.keep_alive = False
        if b"transfer-encoding" in names:
            self.chunked = names[b"transfer-encoding"].lower() == b"chunked"
        elif b"content-length" not in names and status >= 200 and status not in (204, 304):
            if not more:
                if not self.head_only:
                    extra.append((b"content-length", str(len(body)).encode()))
            elif request.version == "1.1":
                self.chunked = True
                extra.append((b"transfer-encoding", b"chunked"))
            else:
                request.keep_alive = False  # HTTP/1.0: the body ends when the connection does
        parts = [status_line(status)]
        for name, value in (*self.headers, *extra):
            if name.lower() == b"connection":
                continue
            parts += (name, b": ", value, b"\r\n")
        parts.append(date_line())
        parts.append(request.connection_line())
        parts.append(b"\r\n")
        return b"".join(parts)

    def fail(self) -> None:
        """A 500 for an application that failed before it started its response."""
        self.request.keep_alive = False
        status, body, headers = ERROR_500
        self.headers = [*headers, (b"content-length", str(len(body)).encode())]
        self.status = status
        self.started = True
        self.connection.write(self._head(body, False) + (b"" if self.head_only else body))
        self.complete = True
