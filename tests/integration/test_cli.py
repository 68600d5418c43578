"""The command line as a user runs it: `headwater up` with the example app, and clear errors."""

from __future__ import annotations

import re
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

from headwater.testing import HeadwaterServer

ROOT = Path(__file__).resolve().parents[2]


def _collect(process: subprocess.Popen[str], lines: list[str]) -> None:
    assert process.stdout is not None
    for line in process.stdout:
        lines.append(line.rstrip("\n"))


def _wait(lines: list[str], pattern: str, timeout: float) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for line in list(lines):
            if re.search(pattern, line):
                return line
        time.sleep(0.05)
    raise AssertionError(f"{pattern!r} not printed; output:\n" + "\n".join(lines))


def test_up_runs_the_products_example(tmp_path: Path) -> None:
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "headwater",
            "up",
            str(ROOT / "examples" / "products"),
            "--port",
            "0",
            "--data-dir",
            str(tmp_path / "data"),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: list[str] = []
    threading.Thread(target=_collect, args=(process, lines), daemon=True).start()
    try:
        _wait(lines, r"listening on http://127\.0\.0\.1:\d+", 30)
        _wait(lines, r"Deployed 1 table\(s\), 1 function\(s\), 1 stream trigger\(s\)", 30)
        _wait(lines, r"^New product added: Wireless Mouse$", 30)
    finally:
        process.send_signal(signal.SIGINT)
        assert process.wait(30) == 0
    assert not any("Traceback" in line for line in lines)


def _headwater(*args: str) -> subprocess.CompletedProcess[str]:
    """Run the CLI to its end; its exit code and output are the caller's to check."""
    return subprocess.run(
        [sys.executable, "-m", "headwater", *args], capture_output=True, text=True, timeout=60
    )


def test_port_in_use_is_one_clear_line(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = _headwater("serve", "--port", str(port), "--in-memory")
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1] == (
        f"headwater: error: port {port} on 127.0.0.1 is already in use; choose another with "
        "--port (0 picks a free one)"
    )
    assert "Traceback" not in result.stderr


def test_up_with_a_missing_template_is_one_clear_line(tmp_path: Path) -> None:
    (tmp_path / "app").mkdir()
    result = _headwater("up", str(tmp_path / "app"), "--in-memory")
    assert result.returncode == 1
    assert result.stderr.strip().startswith("headwater: error: cannot read template")
    assert "Traceback" not in result.stderr


def test_a_data_dir_in_use_is_one_clear_line(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with HeadwaterServer(data_dir=data) as first:
        result = _headwater("serve", "--port", "0", "--data-dir", str(data))
        assert result.returncode == 1
        assert result.stderr.strip().splitlines()[-1] == (
            f"headwater: error: another Headwater (pid {first.pid}) is using the data "
            f"directory {data.resolve()}; stop it or choose another data directory"
        )
        assert "Traceback" not in result.stderr
        # The first server is untouched and still serving.
        tables = first.client("dynamodb").list_tables()["TableNames"]
        assert tables == []
