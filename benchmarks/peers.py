"""Starting the servers that ``tables.py`` compares: Headwater, moto's server and MiniStack.

Every server runs as a child process on 127.0.0.1 with a port of its own; ``start()`` returns
once it answers a DynamoDB ``ListTables``; ``stop()`` ends that child (and only it). A server
that cannot start raises ``PeerUnavailable`` with the reason, which the benchmark records.

How each starts here:

* Headwater: ``python -m headwater serve --port 0 --data-dir DIR`` (or ``--in-memory``), through
  ``headwater.testing.HeadwaterServer``.
* moto: ``python -m moto.server -H 127.0.0.1 -p PORT`` (the ``moto_server`` script); installed
  with the ``bench`` extras.
* MiniStack: ``GATEWAY_PORT=PORT BIND_HOST=127.0.0.1 ministack`` (foreground). MiniStack pins
  ``botocore==1.43.106`` while Headwater pins ``botocore==1.44.5``, so the two cannot share an
  environment: MiniStack gets its own virtual environment, created on first use under
  ``~/.cache/headwater-bench`` with ``pip install ministack==VERSION``.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from importlib import metadata
from pathlib import Path
from typing import Any

from headwater.testing import HeadwaterServer

MOTO_VERSION = "5.2.5"
MINISTACK_VERSION = "1.5.33"
DEFAULT_VENV_ROOT = Path.home() / ".cache" / "headwater-bench"


class PeerUnavailable(RuntimeError):
    """A server that could not be started here; the message says why."""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def list_tables_ok(url: str, timeout: float = 2.0) -> bool:
    """True when ``url`` answers a DynamoDB ListTables with HTTP 200."""
    request = urllib.request.Request(
        url + "/",
        data=b"{}",
        method="POST",
        headers={
            "Content-Type": "application/x-amz-json-1.0",
            "X-Amz-Target": "DynamoDB_20120810.ListTables",
            "X-Amz-Date": "20260101T000000Z",
            "Authorization": (
                "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/dynamodb/aws4_request, "
                "SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature=" + "0" * 64
            ),
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return bool(response.status == 200 and "TableNames" in json.loads(response.read()))
    except (OSError, urllib.error.URLError, ValueError):
        return False


def cpu_seconds(pid: int) -> float:
    """utime + stime of process ``pid`` (all its threads, living and exited), in seconds."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    # fields[0] is field 3 (state); utime and stime are fields 14 and 15.
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mib(pid: int) -> float | None:
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        return None
    return None


class Server:
    """One server under test. Subclasses fill in ``_launch``."""

    key = ""
    label = ""
    storage = ""
    version = ""

    def __init__(self, log_dir: Path) -> None:
        self.log_dir = log_dir
        self.url = ""
        self.pid = 0
        self.argv: list[str] = []
        self.env: dict[str, str] = {}
        self.startup_seconds = 0.0
        self._process: subprocess.Popen[bytes] | None = None
        self._log_path = log_dir / f"{self.key}.log"

    def describe(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "version": self.version,
            "storage": self.storage,
            "argv": self.argv,
            "env": self.env,
        }

    # -- life cycle ----------------------------------------------------------------------

    def start(self, timeout: float = 60.0) -> Server:
        began = time.monotonic()
        self._launch(timeout)
        self.startup_seconds = round(time.monotonic() - began, 2)
        return self

    def _launch(self, timeout: float) -> None:
        raise NotImplementedError

    def _spawn(self, argv: list[str], env: dict[str, str], timeout: float) -> None:
        """Start ``argv`` with extra ``env``; wait for ListTables to answer."""
        port = free_port()
        argv = [part.replace("{port}", str(port)) for part in argv]
        env = {name: value.replace("{port}", str(port)) for name, value in env.items()}
        self.argv, self.env = argv, env
        log = self._log_path.open("wb")
        try:
            self._process = subprocess.Popen(
                argv,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env={**os.environ, **env},
            )
        except OSError as error:
            raise PeerUnavailable(f"could not run {argv[0]}: {error}") from error
        finally:
            log.close()
        self.pid = self._process.pid
        self.url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise PeerUnavailable(
                    f"exited with code {self._process.returncode} before answering; "
                    f"log tail: {self.log_tail()}"
                )
            if list_tables_ok(self.url):
                return
            time.sleep(0.2)
        self.stop()
        raise PeerUnavailable(f"did not answer ListTables within {timeout}s: {self.log_tail()}")

    def log_tail(self, lines: int = 15) -> str:
        try:
            text = self._log_path.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def stop(self) -> None:
        process = self._process
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


class Headwater(Server):
    def __init__(self, log_dir: Path, *, durable: bool) -> None:
        self.durable = durable
        self.key = "headwater" if durable else "headwater-memory"
        self.label = "Headwater (durable)" if durable else "Headwater --in-memory"
        self.storage = (
            "SQLite in a --data-dir (WAL; each commit group's log synced before its answer)"
            if durable
            else "--in-memory (SQLite, synchronous=OFF, temporary)"
        )
        self.version = metadata.version("headwater") + _git_suffix()
        super().__init__(log_dir)
        self._server: HeadwaterServer | None = None
        self._data: Path | None = None

    def _launch(self, timeout: float) -> None:
        if self.durable:
            self._data = Path(tempfile.mkdtemp(prefix="hw-bench-", dir=self.log_dir))
            self._server = HeadwaterServer(data_dir=self._data, startup_timeout=timeout)
        else:
            self._server = HeadwaterServer(in_memory=True, startup_timeout=timeout)
        self._server.start()
        self.argv = ["python", "-m", "headwater", "serve", "--port", "0", "--log-level"]
        self.argv += (
            ["warning", "--data-dir", "DIR"] if self.durable else ["warning", "--in-memory"]
        )
        self.url, self.pid = self._server.url, self._server.pid

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
        if self._data is not None:
            shutil.rmtree(self._data, ignore_errors=True)

    def log_tail(self, lines: int = 15) -> str:
        return "\n".join(self._server.output[-lines:]) if self._server else ""


class Moto(Server):
    key = "moto"
    label = "moto server"
    storage = "in memory (Python objects)"

    def _launch(self, timeout: float) -> None:
        try:
            self.version = metadata.version("moto")
        except metadata.PackageNotFoundError as error:
            raise PeerUnavailable(
                f"moto is not installed: pip install 'moto[server]=={MOTO_VERSION}' "
                "(or pip install -e '.[bench]')"
            ) from error
        argv = [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", "{port}"]
        self._spawn(argv, {}, timeout)


class MiniStack(Server):
    key = "ministack"
    label = "MiniStack"
    storage = "in memory (Python objects; PERSIST_STATE off)"

    def __init__(self, log_dir: Path, venv_root: Path = DEFAULT_VENV_ROOT) -> None:
        super().__init__(log_dir)
        self.venv = venv_root / f"ministack-{MINISTACK_VERSION}"
        self.version = MINISTACK_VERSION

    def _ensure_venv(self) -> Path:
        script = self.venv / "bin" / "ministack"
        if script.exists():
            return script
        print(f"creating {self.venv} (pip install ministack=={MINISTACK_VERSION}) ...", flush=True)
        steps = [
            [sys.executable, "-m", "venv", str(self.venv)],
            [
                *[str(self.venv / "bin" / "python"), "-m", "pip", "install", "-q"],
                *["--disable-pip-version-check", f"ministack=={MINISTACK_VERSION}"],
            ],
        ]
        for step in steps:
            done = subprocess.run(step, capture_output=True, text=True, timeout=600)
            if done.returncode != 0:
                shutil.rmtree(self.venv, ignore_errors=True)
                tail = (done.stdout + done.stderr).strip().splitlines()[-5:]
                raise PeerUnavailable(f"could not install MiniStack: {' | '.join(tail)}")
        return script

    def _launch(self, timeout: float) -> None:
        script = self._ensure_venv()
        probe = (
            "import importlib.metadata as m; print(m.version('ministack'), m.version('botocore'))"
        )
        found = subprocess.run(
            [str(self.venv / "bin" / "python"), "-c", probe],
            capture_output=True,
            text=True,
            timeout=60,
        ).stdout.split()
        if len(found) == 2:
            self.version = f"{found[0]} (own venv, botocore {found[1]})"
        env = {
            "GATEWAY_PORT": "{port}",
            "BIND_HOST": "127.0.0.1",
            "LOG_LEVEL": "WARNING",
            "PYTHONUNBUFFERED": "1",
        }
        self._spawn([str(script)], env, timeout)


def _git_suffix() -> str:
    root = Path(__file__).resolve().parent.parent
    try:
        head = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            timeout=10,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(root), "status", "--porcelain", "--", "src"],
            capture_output=True,
            text=True,
            timeout=10,
        ).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        return ""
    if not head:
        return ""
    return f" (git {head}{', src modified' if dirty else ''})"
