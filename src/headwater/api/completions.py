"""Awaiting the writer's futures on the event loop, with one wake-up per burst.

A future resolved on the loop's own thread (the writer runs the loop's writes there) is handed
over at once. For the others: ``asyncio.wrap_future`` wakes the event loop (a write to its
self-pipe) once per future; the writer thread resolves a whole commit group's futures one after
another, so here they are collected and the loop is woken once, then resolves them all in one
callback. Cancelling the awaiting
future cancels the writer's, so a job whose caller gave up before it ran is dropped, as with
``wrap_future``.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import threading
import weakref
from collections import deque
from concurrent.futures import Future
from typing import Any, TypeVar

__all__ = ["completed"]

T = TypeVar("T")


class _Inbox:
    """Futures resolved on other threads, waiting to be handed to one loop.

    The loop is woken through a pipe of the inbox's own (one byte per burst, one read), which
    costs fewer system calls than the loop's own wake-up channel."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._arrived: deque[tuple[Future[Any], asyncio.Future[Any]]] = deque()
        self._lock = threading.Lock()
        self._scheduled = False
        self._read, self._write = os.pipe()
        os.set_blocking(self._read, False)
        loop.add_reader(self._read, self._drain)
        weakref.finalize(loop, _close, self._read, self._write)

    def arrive(self, source: Future[Any], waiter: asyncio.Future[Any]) -> None:
        """Called on the thread that resolved ``source``."""
        with self._lock:
            self._arrived.append((source, waiter))
            if self._scheduled:
                return
            self._scheduled = True
        with contextlib.suppress(OSError):  # closed with the loop: nobody waits any more
            os.write(self._write, b"\0")

    def _drain(self) -> None:
        with contextlib.suppress(BlockingIOError):
            os.read(self._read, 4096)
        with self._lock:
            arrived = list(self._arrived)
            self._arrived.clear()
            self._scheduled = False
        for source, waiter in arrived:
            _copy(source, waiter)


def _close(read: int, write: int) -> None:
    for fd in (read, write):
        with contextlib.suppress(OSError):
            os.close(fd)


_INBOXES: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Inbox] = weakref.WeakKeyDictionary()


def _inbox(loop: asyncio.AbstractEventLoop) -> _Inbox:
    inbox = _INBOXES.get(loop)
    if inbox is None:
        inbox = _INBOXES[loop] = _Inbox(loop)
    return inbox


def _copy(source: Future[Any], waiter: asyncio.Future[Any]) -> None:
    if waiter.done():
        return
    if source.cancelled():
        waiter.cancel()
        return
    error = source.exception()
    if error is not None:
        waiter.set_exception(error)
    else:
        waiter.set_result(source.result())


def completed(source: Future[T]) -> asyncio.Future[T]:
    """An asyncio future (of the running loop) resolved like ``source``."""
    loop = asyncio.get_running_loop()
    waiter: asyncio.Future[T] = loop.create_future()
    here = threading.get_ident()
    inbox = _inbox(loop)

    def done(source: Future[T]) -> None:
        if threading.get_ident() == here:
            _copy(source, waiter)
        else:
            inbox.arrive(source, waiter)

    source.add_done_callback(done)
    waiter.add_done_callback(lambda awaited: source.cancel() if awaited.cancelled() else None)
    return waiter
