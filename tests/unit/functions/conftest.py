"""Real worker processes running small handlers written into ``tmp_path``."""

from __future__ import annotations

import io
import textwrap
import threading
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from headwater.functions.code import extract_zip
from headwater.functions.pool import WorkerPool
from headwater.functions.spec import FunctionSpec


class Sink:
    """Collects log lines from every thread, in arrival order."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.lines: list[str] = []

    def __call__(self, line: str) -> None:
        with self._lock:
            self.lines.append(line)

    def between(self, request_id: str) -> list[str]:
        """The function's own lines of one invocation: after START, before END."""
        with self._lock:
            lines = list(self.lines)
        start = lines.index(f"START RequestId: {request_id} Version: $LATEST")
        end = lines.index(f"END RequestId: {request_id}")
        return lines[start + 1 : end]


def zip_of(files: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, source in files.items():
            archive.writestr(name, textwrap.dedent(source))
    return buffer.getvalue()


MakeFunction = Callable[..., FunctionSpec]


@pytest.fixture
def make_function(tmp_path: Path) -> MakeFunction:
    counter = iter(range(1000))

    def make(source: str, handler: str = "app.handler", **config: Any) -> FunctionSpec:
        n = next(counter)
        files = config.pop("files", None) or {"app.py": source}
        code_dir = tmp_path / f"code{n}"
        info = extract_zip(zip_of(files), code_dir)
        config.setdefault("name", f"fn{n}")
        return FunctionSpec(
            handler=handler, code_dir=code_dir, code_sha256=info.sha256_b64, **config
        )

    return make


@pytest.fixture
def sink() -> Sink:
    return Sink()


@pytest.fixture
def pool(sink: Sink) -> Iterator[WorkerPool]:
    with WorkerPool(log_sink=sink, base_env={"AWS_ENDPOINT_URL": "http://127.0.0.1:1"}) as p:
        yield p
