"""Running the server: bind first (so port 0 works), build the runtime, then serve.

HTTP is ``protocol.py`` (asyncio + httptools) on the one socket. Ctrl-C (SIGINT) or SIGTERM
starts a graceful shutdown: no new connections, idle ones closed, requests in flight get up
to ``GRACEFUL_SECONDS`` to finish (a second signal cuts that short); then the runtime closes
and the signal is raised again with its default handling, so Ctrl-C ends as a
``KeyboardInterrupt`` (which the CLI turns into exit status 0).
"""

from __future__ import annotations

import asyncio
import gc
import logging
import signal
import socket
import sys
from collections.abc import Callable
from dataclasses import replace

from headwater.runtime import Runtime
from headwater.server.app import create_app
from headwater.server.protocol import HttpServer
from headwater.settings import Settings

log = logging.getLogger("headwater")

GRACEFUL_SECONDS = 5.0
_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


async def _serve(
    runtime: Runtime, sock: socket.socket, on_ready: Callable[[], None], signals: list[int]
) -> None:
    loop = asyncio.get_running_loop()
    stop, force = asyncio.Event(), asyncio.Event()

    def on_signal(number: int) -> None:
        signals.append(number)
        (force if stop.is_set() else stop).set()

    for number in _SIGNALS:
        loop.add_signal_handler(number, on_signal, number)
    runtime.start()
    # Small reads run inline on this loop: give it a reader connection of its own.
    runtime.store.readers.reserve_for_this_thread()
    # ...and item writes submitted here run here too, grouped per turn of the loop.
    runtime.store.writer.attach(asyncio.get_running_loop())
    try:
        app = create_app(runtime)
        server = HttpServer(app, app)
        await server.start(sock)
        _freeze_startup_objects()
        on_ready()
        await stop.wait()
        await server.shutdown(GRACEFUL_SECONDS, force)
    finally:
        # From here on this thread is not a loop any more (runtime.close() runs on it next).
        runtime.store.writer.detach()


def _freeze_startup_objects() -> None:
    """Move everything made while starting (modules, models, the runtime: ~45,000 objects) out
    of the garbage collector's sight. A full collection walks every tracked object while the
    thread that triggered it holds the interpreter: 30-38 ms on the benchmark machine with
    them, 7 ms without, and it struck in the middle of requests and deliveries."""
    gc.collect()
    gc.freeze()


def serve(settings: Settings, on_ready: Callable[[Settings, Runtime], None] | None = None) -> None:
    """Serve until interrupted. ``on_ready`` runs once the port accepts requests."""
    sock = bind(settings.host, settings.port)
    settings = replace(settings, port=sock.getsockname()[1])
    runtime = Runtime(settings)

    def ready() -> None:
        if on_ready is not None:
            on_ready(settings, runtime)
        sys.stdout.flush()

    signals: list[int] = []
    try:
        with asyncio.Runner(loop_factory=_loop_factory()) as runner:
            runner.run(_serve(runtime, sock, ready, signals))
    finally:
        runtime.close()
        sock.close()
    # The loop has put the default handlers back: end the way the signal asks (Ctrl-C raises
    # KeyboardInterrupt here, as it did under uvicorn).
    for number in reversed(signals):
        signal.raise_signal(number)


def _loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop's event loop when it is installed (HEADWATER_LOOP=asyncio forces the standard one)."""
    import os

    if os.environ.get("HEADWATER_LOOP") == "asyncio":
        return None
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.new_event_loop
