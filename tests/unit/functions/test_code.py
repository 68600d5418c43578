from __future__ import annotations

import base64
import hashlib
import io
import os
import stat
import zipfile
from pathlib import Path

import pytest

from headwater.errors import InvalidParameterValue
from headwater.functions.code import BAD_ZIP_MESSAGE, extract_zip


def build_zip(*entries: tuple[str | zipfile.ZipInfo, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in entries:
            archive.writestr(name, data)
    return buffer.getvalue()


def test_extracts_files_and_reports_aws_code_sha256(tmp_path: Path) -> None:
    data = build_zip(("app.py", b"x = 1\n"), ("pkg/sub/mod.py", b"y = 2\n"))
    info = extract_zip(data, tmp_path / "code")
    assert (tmp_path / "code" / "app.py").read_bytes() == b"x = 1\n"
    assert (tmp_path / "code" / "pkg" / "sub" / "mod.py").read_bytes() == b"y = 2\n"
    assert info.sha256_b64 == base64.b64encode(hashlib.sha256(data).digest()).decode()
    assert info.size == len(data)


def test_garbage_is_a_bad_zip(tmp_path: Path) -> None:
    with pytest.raises(InvalidParameterValue) as caught:
        extract_zip(b"not a zip at all", tmp_path / "code")
    assert caught.value.message == BAD_ZIP_MESSAGE
    assert not (tmp_path / "code").exists()


@pytest.mark.parametrize("name", ["../evil.py", "a/../../evil.py", "/etc/evil.py", "C:/evil.py"])
def test_paths_leaving_the_destination_are_refused(tmp_path: Path, name: str) -> None:
    data = build_zip(("ok.py", b""), (name, b"boom"))
    with pytest.raises(InvalidParameterValue, match="Could not unzip"):
        extract_zip(data, tmp_path / "deep" / "code")
    assert not (tmp_path / "deep" / "code").exists()
    assert not (tmp_path / "evil.py").exists()
    assert not (tmp_path / "deep" / "evil.py").exists()


def test_symlinks_are_skipped(tmp_path: Path) -> None:
    link = zipfile.ZipInfo("link")
    link.external_attr = (stat.S_IFLNK | 0o777) << 16
    data = build_zip(("app.py", b""), (link, b"/etc/passwd"))
    extract_zip(data, tmp_path / "code")
    assert sorted(os.listdir(tmp_path / "code")) == ["app.py"]


def test_executable_bits_survive(tmp_path: Path) -> None:
    script = zipfile.ZipInfo("run.sh")
    script.external_attr = (stat.S_IFREG | 0o755) << 16
    extract_zip(build_zip((script, b"#!/bin/sh\n"), ("data.txt", b"")), tmp_path / "code")
    assert os.access(tmp_path / "code" / "run.sh", os.X_OK)
    assert not os.access(tmp_path / "code" / "data.txt", os.X_OK)


def test_a_non_empty_destination_is_a_caller_error(tmp_path: Path) -> None:
    (tmp_path / "code").mkdir()
    (tmp_path / "code" / "old.py").write_text("")
    with pytest.raises(FileExistsError):
        extract_zip(build_zip(("app.py", b"")), tmp_path / "code")
