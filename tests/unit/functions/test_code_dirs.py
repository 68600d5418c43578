"""CodeDirectories: a forgotten code directory goes only once no configuration, invocation or
live worker uses it; start-up removes what nothing needs."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest

from headwater.functions.code_dirs import CodeDirectories
from headwater.functions.config import FunctionConfig


def _zip(text: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("app.py", text)
    return buffer.getvalue()


def _config(name: str, sha: str, version: str = "$LATEST") -> FunctionConfig:
    return FunctionConfig(
        name=name,
        region="us-east-1",
        account="000000000000",
        runtime="python3.11",
        handler="app.handler",
        role="r",
        code_sha256=sha,
        code_size=1,
        version=version,
    )


class _World:
    """What the registry and the pool would answer."""

    def __init__(self) -> None:
        self.configs: list[FunctionConfig] = []
        self.workers: set[Path] = set()


@pytest.fixture
def world() -> _World:
    return _World()


@pytest.fixture
def dirs(tmp_path: Path, world: _World) -> CodeDirectories:
    def needed() -> set[Path]:
        return {code.path(c) for c in world.configs}

    code = CodeDirectories(tmp_path / "functions", needed, lambda p: p in world.workers)
    return code


def _installed(dirs: CodeDirectories, config: FunctionConfig) -> Path:
    dirs.install_missing(config, _zip(f"# {config.code_sha256}"))
    path = dirs.path(config)
    assert (path / "app.py").exists()
    return path


def test_forgotten_code_goes_when_nothing_uses_it(dirs: CodeDirectories, world: _World) -> None:
    old, new = _config("fn", "A"), _config("fn", "B")
    old_path, new_path = _installed(dirs, old), _installed(dirs, new)
    world.configs = [new]
    dirs.forget([old_path])
    assert not old_path.exists()
    assert new_path.exists()
    world.configs = []
    dirs.forget([new_path])
    assert not (dirs.root / "us-east-1").exists()  # the emptied parents go too


def test_a_configuration_keeps_its_code(dirs: CodeDirectories, world: _World) -> None:
    version = _config("fn", "A", version="1")
    path = _installed(dirs, version)
    world.configs = [version]
    dirs.forget([path])
    assert path.exists()
    # Still needed when looked at, it is no longer waiting to go: only forgetting it again
    # (the next change that drops a user) removes it.
    world.configs = []
    dirs.sweep()
    assert path.exists()
    dirs.forget([path])
    assert not path.exists()


def test_a_running_invocation_keeps_its_code_until_it_ends(dirs: CodeDirectories) -> None:
    path = _installed(dirs, _config("fn", "A"))
    with dirs.running(path):
        dirs.forget([path])
        assert path.exists()
    assert not path.exists()  # the invocation's end swept it


def test_a_live_worker_keeps_its_code_until_it_ends(dirs: CodeDirectories, world: _World) -> None:
    path = _installed(dirs, _config("fn", "A"))
    world.workers.add(path)
    dirs.forget([path])
    assert path.exists()
    world.workers.clear()
    dirs.sweep()  # what the pool calls when workers end
    assert not path.exists()


def test_installing_the_same_code_again_keeps_it(dirs: CodeDirectories, world: _World) -> None:
    config = _config("fn", "A")
    path = _installed(dirs, config)
    world.workers.add(path)
    dirs.forget([path])
    world.configs = [config]
    staging = dirs.staging()
    staging.mkdir(parents=True)
    dirs.install(config, staging)  # the same code uploaded again
    world.workers.clear()
    dirs.sweep()
    assert path.exists()
    assert not staging.exists()


def test_prune_at_start_up(dirs: CodeDirectories, world: _World) -> None:
    kept_config = _config("fn", "A")
    kept = _installed(dirs, kept_config)
    stray = _installed(dirs, _config("gone", "B"))
    half_done = dirs.staging()
    half_done.mkdir(parents=True)
    world.configs = [kept_config]
    dirs.prune()
    assert kept.exists()
    assert not stray.exists() and not stray.parent.exists()
    assert not half_done.parent.exists()
