"""Where functions' unpacked code lives, and when it goes.

Each distinct code of a function is unpacked once, under
``<root>/<region>/<function>/<digest of its CodeSha256>``: ``$LATEST`` and the published versions
with the same code share the directory, and warm workers import from it. A directory is still
needed while any of these uses it:

* a configuration (``$LATEST`` or a published version) whose code it holds;
* an invocation under way (:meth:`CodeDirectories.running`);
* a live worker of the pool: busy, idle, or still starting (``in_use``).

When a function is deleted, a version is deleted or ``$LATEST`` gets new code, the directories
that may no longer be needed are handed to :meth:`CodeDirectories.forget`; each is removed as
soon as nothing above uses it, which for a busy worker is when its invocation ends (the pool
calls :meth:`CodeDirectories.sweep` whenever a worker ends). Removal renames the directory out
of the way under the lock, so an install of the same code at the same moment never loses it.
"""

from __future__ import annotations

import hashlib
import logging
import shutil
import threading
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from headwater.functions.code import extract_zip
from headwater.functions.config import FunctionConfig

log = logging.getLogger("headwater.functions")

STAGING = ".staging"  # zips are unpacked here, then renamed into place
TRASH = ".trash"  # directories renamed here are removed outside the lock


class CodeDirectories:
    """Thread-safe. ``needed`` answers which directories configurations still use (the
    registry's), ``in_use`` whether a live worker imports from a directory (the pool's)."""

    def __init__(
        self,
        root: Path,
        needed: Callable[[], set[Path]],
        in_use: Callable[[Path], bool],
    ) -> None:
        self.root = root
        self._needed = needed
        self._in_use = in_use
        self._lock = threading.Lock()
        self._running: dict[Path, int] = {}  # invocations under way per directory
        self._doomed: set[Path] = set()  # maybe unneeded now; removed once nothing uses them

    def path(self, config: FunctionConfig) -> Path:
        digest = hashlib.sha256(config.code_sha256.encode()).hexdigest()[:24]
        return self.root / config.region / config.name / digest

    def staging(self) -> Path:
        """A fresh directory name to unpack a zip into before :meth:`install`."""
        return self.root / STAGING / uuid.uuid4().hex

    def install(self, config: FunctionConfig, staging: Path) -> None:
        """Move unpacked code into ``config``'s directory (or drop it: the same code is there)."""
        target = self.path(config)
        with self._lock:
            self._doomed.discard(target)  # wanted again
            if not target.exists():
                target.parent.mkdir(parents=True, exist_ok=True)
                try:
                    staging.rename(target)
                    return
                except OSError:
                    pass  # a concurrent install of the same code won the race
        _remove_tree(staging)

    def discard(self, staging: Path) -> None:
        """Unpacked code that will not be installed after all."""
        _remove_tree(staging)

    def install_missing(self, config: FunctionConfig, code: bytes | None) -> None:
        if not self.path(config).exists():
            staging = self.staging()
            extract_zip(code or b"", staging)
            self.install(config, staging)

    @contextmanager
    def running(self, path: Path) -> Iterator[None]:
        """An invocation importing from ``path`` is under way: the directory stays."""
        with self._lock:
            self._running[path] = self._running.get(path, 0) + 1
        try:
            yield
        finally:
            with self._lock:
                left = self._running[path] - 1
                if left:
                    self._running[path] = left
                else:
                    del self._running[path]
            self.sweep()

    def forget(self, paths: Iterable[Path]) -> None:
        """These directories may no longer be needed: each goes once nothing uses it."""
        with self._lock:
            self._doomed.update(paths)
        self.sweep()

    def sweep(self) -> None:
        """Remove the forgotten directories nothing uses any more; the rest wait for the next
        sweep (when an invocation or a worker ends)."""
        with self._lock:
            if not self._doomed:
                return
            needed = self._needed()
            trash: list[Path] = []
            for path in list(self._doomed):
                if path in needed:
                    self._doomed.discard(path)
                elif not self._running.get(path) and not self._in_use(path):
                    self._doomed.discard(path)
                    moved = self._move_to_trash(path)
                    if moved is not None:
                        trash.append(moved)
        for path in trash:
            _remove_tree(path)

    def prune(self) -> None:
        """At start-up, before any worker runs: remove every directory no configuration needs
        (left by an older Headwater, or by a stop in the middle of a change) and any half-done
        unpacking."""
        needed = self._needed()
        with self._lock:
            doomed = [
                code
                for region in _subdirectories(self.root)
                if region.name not in (STAGING, TRASH)
                for function in _subdirectories(region)
                for code in _subdirectories(function)
                if code not in needed
            ]
            trash = [moved for path in doomed if (moved := self._move_to_trash(path)) is not None]
        for path in trash:
            _remove_tree(path)
        _remove_tree(self.root / STAGING)
        _remove_tree(self.root / TRASH)

    def _move_to_trash(self, path: Path) -> Path | None:
        """Under the lock: rename ``path`` away (removing it is slow), and its function's and
        region's directories if that left them empty."""
        if not path.exists():
            return None
        moved = self.root / TRASH / uuid.uuid4().hex
        try:
            moved.parent.mkdir(parents=True, exist_ok=True)
            path.rename(moved)
        except OSError:
            log.warning("could not remove the code directory %s", path, exc_info=True)
            return None
        for parent in (path.parent, path.parent.parent):
            try:
                parent.rmdir()  # only if empty
            except OSError:
                break
        return moved


def _subdirectories(path: Path) -> list[Path]:
    try:
        return [child for child in path.iterdir() if child.is_dir()]
    except OSError:
        return []


def _remove_tree(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)
