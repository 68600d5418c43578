"""Running the server: bind first (so port 0 works), then build the runtime, then serve."""

from __future__ import annotations

import logging
import socket
import sys
from collections.abc import Callable
from dataclasses import replace

import uvicorn

from headwater.runtime import Runtime
from headwater.server.app import create_app
from headwater.server.quickack import QuickAckHttpToolsProtocol
from headwater.settings import Settings

log = logging.getLogger("headwater")


def bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


class _ReadyServer(uvicorn.Server):
    def __init__(self, config: uvicorn.Config, on_ready: Callable[[], None]) -> None:
        super().__init__(config)
        self._on_ready = on_ready

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if self.started:
            self._on_ready()


def serve(settings: Settings, on_ready: Callable[[Settings, Runtime], None] | None = None) -> None:
    """Serve until interrupted. ``on_ready`` runs once the port accepts requests."""
    sock = bind(settings.host, settings.port)
    settings = replace(settings, port=sock.getsockname()[1])
    runtime = Runtime(settings)
    app = create_app(runtime)
    config = uvicorn.Config(
        app,
        log_level="warning",
        access_log=False,
        lifespan="on",
        http=QuickAckHttpToolsProtocol,
        timeout_graceful_shutdown=5,
        proxy_headers=False,
        server_header=False,
    )

    def ready() -> None:
        if on_ready is not None:
            on_ready(settings, runtime)
        sys.stdout.flush()

    server = _ReadyServer(config, ready)
    try:
        server.run(sockets=[sock])
    finally:
        runtime.close()
        sock.close()
