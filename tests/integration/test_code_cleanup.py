"""Unpacked function code leaves the data directory once nothing needs it: after
UpdateFunctionCode, DeleteFunction (of the function or of one version), and only after the
invocations running from it have ended. Published versions keep their code and keep working.

A server of its own with a data directory, so the test can look at
``<data>/functions/<region>/<function>/<digest of CodeSha256>``."""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from headwater.testing import HeadwaterServer
from tests.conftest import wait_until
from tests.integration.versions_support import GATED, TAGGED, create, invoke, set_code


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("data")


@pytest.fixture(scope="module")
def own(data: Path) -> Iterator[HeadwaterServer]:
    with HeadwaterServer(data_dir=data) as server:
        yield server


@pytest.fixture(scope="module")
def lam(own: HeadwaterServer) -> Any:
    return own.client("lambda")


def _function_dir(data: Path, name: str) -> Path:
    return data / "functions" / "us-east-1" / name


def _code_dir(data: Path, name: str, code_sha256: str) -> Path:
    digest = hashlib.sha256(code_sha256.encode()).hexdigest()[:24]
    return _function_dir(data, name) / digest


def _dirs(data: Path, name: str) -> set[Path]:
    folder = _function_dir(data, name)
    return set(folder.iterdir()) if folder.exists() else set()


def _sha(lam: Any, name: str, qualifier: str = "$LATEST") -> str:
    sha: str = lam.get_function_configuration(FunctionName=name, Qualifier=qualifier)["CodeSha256"]
    return sha


def test_replaced_code_goes_and_published_versions_keep_theirs(lam: Any, data: Path) -> None:
    name = create(lam, TAGGED.format(tag="one"))
    one = _code_dir(data, name, _sha(lam, name))
    assert _dirs(data, name) == {one}
    lam.publish_version(FunctionName=name)  # version 1 shares $LATEST's directory

    two = _code_dir(data, name, set_code(lam, name, TAGGED.format(tag="two"))["CodeSha256"])
    wait_until(lambda: _dirs(data, name) == {one, two})  # version 1 still runs "one"
    assert invoke(lam, name, Qualifier="1")[1]["code"] == "one"
    assert invoke(lam, name)[1]["code"] == "two"

    three = _code_dir(data, name, set_code(lam, name, TAGGED.format(tag="three"))["CodeSha256"])
    wait_until(lambda: _dirs(data, name) == {one, three})  # nothing needs "two" any more
    assert invoke(lam, name, Qualifier="1")[1]["code"] == "one"
    assert invoke(lam, name)[1]["code"] == "three"

    lam.delete_function(FunctionName=name, Qualifier="1")
    wait_until(lambda: _dirs(data, name) == {three})
    assert invoke(lam, name)[1]["code"] == "three"

    lam.delete_function(FunctionName=name)
    wait_until(lambda: not _function_dir(data, name).exists())


def test_code_shared_by_a_version_and_latest_stays_until_neither_uses_it(
    lam: Any, data: Path
) -> None:
    name = create(lam, TAGGED.format(tag="one"))
    one = _code_dir(data, name, _sha(lam, name))
    lam.publish_version(FunctionName=name)
    set_code(lam, name, TAGGED.format(tag="two"))
    set_code(lam, name, TAGGED.format(tag="one"))  # back to version 1's code
    wait_until(lambda: _dirs(data, name) == {one})
    assert invoke(lam, name)[1]["code"] == invoke(lam, name, Qualifier="1")[1]["code"] == "one"
    lam.delete_function(FunctionName=name, Qualifier="1")
    assert _dirs(data, name) == {one}  # $LATEST still runs it
    assert invoke(lam, name)[1]["code"] == "one"
    lam.delete_function(FunctionName=name)
    wait_until(lambda: not _function_dir(data, name).exists())


def test_a_running_invocation_keeps_its_code_until_it_ends(
    lam: Any, data: Path, tmp_path: Path
) -> None:
    name = create(lam, GATED.format(tag="one"), Timeout=30)
    one = _code_dir(data, name, _sha(lam, name))
    lam.publish_version(FunctionName=name)
    set_code(lam, name, TAGGED.format(tag="two"))
    gate, started = tmp_path / "gate", tmp_path / "started"
    os.mkfifo(gate)
    results: list[Any] = []
    event = {"started": str(started), "gate": str(gate)}
    call = threading.Thread(target=lambda: results.append(invoke(lam, name, event, Qualifier="1")))
    call.start()
    wait_until(started.exists, timeout=30)

    lam.delete_function(FunctionName=name, Qualifier="1")  # while version 1 runs
    assert one.exists() and (one / "app.py").exists()

    with open(gate, "w") as opened:
        opened.write("go")
    call.join(timeout=30)
    out, body = results[0]
    assert out["ExecutedVersion"] == "1" and body["code"] == "one"
    wait_until(lambda: not one.exists())  # gone once its worker ended
    lam.delete_function(FunctionName=name)
    wait_until(lambda: not _function_dir(data, name).exists())


def test_a_restart_removes_code_nothing_needs(own: HeadwaterServer, lam: Any, data: Path) -> None:
    name = create(lam, TAGGED.format(tag="kept"))
    kept = _code_dir(data, name, _sha(lam, name))
    stray = _function_dir(data, "ghost") / "0123456789abcdef01234567"
    stray.mkdir(parents=True)
    (stray / "app.py").write_text("left by an older Headwater")
    own.stop()
    own.start()
    assert not _function_dir(data, "ghost").exists()
    assert kept.exists()
    assert invoke(own.client("lambda"), name)[1]["code"] == "kept"
