"""Deployment packages: check a zip, then unpack it where a worker will import it from.

A zip comes from whoever calls the API, so nothing in it may write outside the destination
(``..``, absolute paths, drive letters) or through a symlink; symlink entries are skipped, as
they would point anywhere. The whole archive is checked before anything is written, and it is
unpacked into a staging directory renamed into place, so a bad zip never leaves half a function
behind.
"""

from __future__ import annotations

import base64
import hashlib
import io
import os
import re
import shutil
import stat
import tempfile
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

from headwater.errors import InvalidParameterValue

BAD_ZIP_MESSAGE = "Could not unzip uploaded file. Please check your file, then try to upload again."
# Lambda's quota on unzipped code (functions and layers together).
MAX_UNZIPPED_BYTES = 262_144_000

_DRIVE = re.compile(r"^[A-Za-z]:")
_SEPARATORS = re.compile(r"[\\/]")
_ZIP_ERRORS = (
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    NotImplementedError,
    RuntimeError,
    ValueError,
    EOFError,
    zlib.error,
)


@dataclass(frozen=True)
class CodeInfo:
    sha256_b64: str
    size: int


def code_sha256(zip_bytes: bytes) -> str:
    """Lambda's CodeSha256: base64 of the SHA-256 of the zip as uploaded (not hex)."""
    return base64.b64encode(hashlib.sha256(zip_bytes).digest()).decode("ascii")


def extract_zip(zip_bytes: bytes, dest_dir: Path) -> CodeInfo:
    """Unpack into ``dest_dir``, which must not exist yet or be empty."""
    dest_dir = Path(dest_dir)
    if dest_dir.exists() and any(dest_dir.iterdir()):
        raise FileExistsError(f"{dest_dir} is not empty")
    try:
        archive = zipfile.ZipFile(io.BytesIO(zip_bytes))
    except _ZIP_ERRORS:
        raise InvalidParameterValue(BAD_ZIP_MESSAGE) from None
    with archive:
        plan = _plan(archive)
        dest_dir.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".unzip-", dir=dest_dir.parent))
        try:
            _unpack(archive, plan, staging)
            if dest_dir.exists():
                dest_dir.rmdir()
            staging.rename(dest_dir)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
    return CodeInfo(sha256_b64=code_sha256(zip_bytes), size=len(zip_bytes))


def _plan(archive: zipfile.ZipFile) -> list[tuple[zipfile.ZipInfo, tuple[str, ...]]]:
    """Every entry's safe relative path, or the bad-zip error before anything is written."""
    plan = []
    total = 0
    try:
        infos = archive.infolist()
    except _ZIP_ERRORS:
        raise InvalidParameterValue(BAD_ZIP_MESSAGE) from None
    for info in infos:
        if stat.S_ISLNK(info.external_attr >> 16):
            continue
        parts = _safe_parts(info.filename)
        if parts is None:
            raise InvalidParameterValue(BAD_ZIP_MESSAGE)
        if not parts:
            continue
        total += info.file_size
        if total > MAX_UNZIPPED_BYTES:
            raise InvalidParameterValue(
                f"Unzipped size must be smaller than {MAX_UNZIPPED_BYTES} bytes"
            )
        plan.append((info, parts))
    return plan


def _safe_parts(name: str) -> tuple[str, ...] | None:
    """The path's components, or None when it is absolute or climbs out of the destination."""
    if not name or name[0] in "/\\" or _DRIVE.match(name) or "\0" in name:
        return None
    parts = tuple(part for part in _SEPARATORS.split(name) if part not in ("", "."))
    if ".." in parts:
        return None
    return parts


def _unpack(
    archive: zipfile.ZipFile, plan: list[tuple[zipfile.ZipInfo, tuple[str, ...]]], root: Path
) -> None:
    for info, parts in plan:
        target = root.joinpath(*parts)
        try:
            if info.is_dir():
                target.mkdir(parents=True, exist_ok=True)
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            with archive.open(info) as source, open(target, "wb") as sink:
                shutil.copyfileobj(source, sink, 1024 * 1024)
        except (*_ZIP_ERRORS, NotADirectoryError, IsADirectoryError, FileExistsError):
            raise InvalidParameterValue(BAD_ZIP_MESSAGE) from None
        mode = (info.external_attr >> 16) & 0o777
        os.chmod(target, 0o755 if mode & 0o111 else 0o644)
