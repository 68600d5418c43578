"""Running a real Headwater server from tests: ``HeadwaterServer``.

The server runs as a child process (``python -m headwater serve --port 0``), exactly as a user
runs it; its output is collected so tests can wait for a handler's print.

    with HeadwaterServer(data_dir=tmp_path) as server:
        ddb = server.client("dynamodb")
        ...
        server.wait_for_output("New product added")
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

__all__ = ["HeadwaterServer"]

_READY = re.compile(r"listening on (http://\S+)")


class HeadwaterServer:
    def __init__(
        self,
        data_dir: Path | None = None,
        *,
        in_memory: bool = False,
        extra_args: list[str] | None = None,
        startup_timeout: float = 30.0,
        env: dict[str, str] | None = None,
    ) -> None:
        self.data_dir = data_dir
        self.in_memory = in_memory or data_dir is None
        self.extra_args = extra_args or []
        self.startup_timeout = startup_timeout
        self.env = env or {}
        self.url = ""
        self._process: subprocess.Popen[str] | None = None
        self._lines: list[str] = []
        self._cond = threading.Condition()

    # -- life cycle ----------------------------------------------------------------------

    def start(self) -> HeadwaterServer:
        args = [sys.executable, "-m", "headwater", "serve", "--port", "0", "--log-level", "warning"]
        if self.in_memory:
            args.append("--in-memory")
        else:
            assert self.data_dir is not None
            args += ["--data-dir", str(self.data_dir)]
        env = {**os.environ, "PYTHONUNBUFFERED": "1", **self.env}
        self._lines = []
        self._process = subprocess.Popen(
            args + self.extra_args,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=env,
        )
        threading.Thread(target=self._pump, args=(self._process,), daemon=True).start()
        match = self.wait_for_output(_READY, timeout=self.startup_timeout)
        self.url = match.group(1)
        return self

    def _pump(self, process: subprocess.Popen[str]) -> None:
        assert process.stdout is not None
        for line in process.stdout:
            with self._cond:
                self._lines.append(line.rstrip("\n"))
                self._cond.notify_all()
        with self._cond:
            self._cond.notify_all()

    def stop(self, timeout: float = 30.0) -> int:
        """Ctrl-C (SIGINT) and wait; returns the exit code."""
        process = self._process
        if process is None:
            return 0
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        return process.returncode

    def kill(self) -> None:
        """SIGKILL: a crash, for durability tests."""
        if self._process is not None and self._process.poll() is None:
            self._process.kill()
            self._process.wait()

    @property
    def pid(self) -> int:
        assert self._process is not None
        return self._process.pid

    def __enter__(self) -> HeadwaterServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- output --------------------------------------------------------------------------

    @property
    def output(self) -> list[str]:
        with self._cond:
            return list(self._lines)

    def wait_for_output(
        self, pattern: str | re.Pattern[str], timeout: float = 10.0, *, start: int = 0
    ) -> re.Match[str]:
        """Wait until a line (from index ``start`` on) matches ``pattern``; return the match."""
        regex = re.compile(pattern) if isinstance(pattern, str) else pattern
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for line in self._lines[start:]:
                    found = regex.search(line)
                    if found:
                        return found
                remaining = deadline - time.monotonic()
                exited = self._process is not None and self._process.poll() is not None
                if remaining <= 0 or exited:
                    tail = "\n".join(self._lines[-40:])
                    raise TimeoutError(
                        f"no output line matched {regex.pattern!r} within {timeout}s "
                        f"(server exited: {exited}); last lines:\n{tail}"
                    )
                self._cond.wait(min(remaining, 0.5))

    def count_output(self, pattern: str) -> int:
        regex = re.compile(pattern)
        return sum(1 for line in self.output if regex.search(line))

    # -- clients -------------------------------------------------------------------------

    def client(self, service: str, region: str = "us-east-1") -> Any:
        import boto3
        from botocore.config import Config

        return boto3.client(
            service,
            endpoint_url=self.url,
            region_name=region,
            aws_access_key_id="test",
            aws_secret_access_key="test",
            config=Config(retries={"max_attempts": 1}, read_timeout=60),
        )

    def advance_clock(self, seconds: float) -> None:
        import json
        import urllib.request

        request = urllib.request.Request(
            f"{self.url}/_headwater/clock",
            data=json.dumps({"advance": seconds}).encode(),
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=10):
            pass
