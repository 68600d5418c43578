"""S3 object operations: PutObject, CopyObject, GetObject/HeadObject (with ranges).

Objects keep their content headers and ``x-amz-meta-*`` metadata; the ETag is the MD5 of the
bytes, and a ``Content-MD5`` that does not match refuses the upload.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from email.utils import formatdate
from urllib.parse import unquote

from headwater.api.s3_xml import Answer, Headers, S3Request, document, el, iso
from headwater.destinations.buckets import StoredObject
from headwater.destinations.errors import S3Error
from headwater.errors import ValidationError
from headwater.runtime import Runtime

_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")
_STORED_HEADERS = (
    "content-type",
    "content-encoding",
    "content-disposition",
    "content-language",
    "cache-control",
    "expires",
)


def etag(obj: StoredObject) -> str:
    return f'"{obj.etag}"'


def _object_headers(obj: StoredObject) -> Headers:
    out = [
        ("etag", etag(obj)),
        ("last-modified", formatdate(obj.modified, usegmt=True)),
        ("accept-ranges", "bytes"),
    ]
    out += [(name, value) for name, value in obj.headers.items()]
    if "content-type" not in obj.headers:
        out.append(("content-type", "binary/octet-stream"))
    return out


def _check_md5(r: S3Request) -> None:
    given = r.headers.get("content-md5")
    if given is None:
        return
    try:
        digest = base64.b64decode(given, validate=True)
    except binascii.Error:
        digest = b""
    if len(digest) != 16:
        raise S3Error("InvalidDigest", "The Content-MD5 you specified was invalid.")
    if digest != hashlib.md5(r.body, usedforsecurity=False).digest():
        raise S3Error("BadDigest", "The Content-MD5 you specified did not match what we received.")


def _stored_headers(headers: dict[str, str]) -> dict[str, str]:
    out = {k: v for k, v in headers.items() if k in _STORED_HEADERS or k.startswith("x-amz-meta-")}
    encoding = [
        e.strip()
        for e in out.get("content-encoding", "").split(",")
        if e.strip() and e.strip() != "aws-chunked"
    ]
    if encoding:
        out["content-encoding"] = ", ".join(encoding)
    else:
        out.pop("content-encoding", None)
    return out


async def put_object(rt: Runtime, r: S3Request) -> Answer:
    _check_md5(r)
    obj = await rt.read(
        rt.destinations.buckets.put, r.bucket, r.key, r.body, _stored_headers(r.headers)
    )
    return 200, b"", [("etag", etag(obj))]


async def copy_object(rt: Runtime, r: S3Request) -> Answer:
    source = unquote(r.headers["x-amz-copy-source"]).lstrip("/").split("?", 1)[0]
    source_bucket, _, source_key = source.partition("/")
    if not source_bucket or not source_key:
        raise ValidationError(
            "Copy Source must mention the source bucket and key: sourcebucket/sourcekey"
        )
    buckets = rt.destinations.buckets
    original = await rt.read(buckets.head, source_bucket, source_key)
    data = await rt.read(buckets.read, source_bucket, source_key)
    headers = original.headers
    if r.headers.get("x-amz-metadata-directive", "COPY").upper() == "REPLACE":
        headers = _stored_headers(r.headers)
    obj = await rt.read(buckets.put, r.bucket, r.key, data, headers)
    body = document(
        "CopyObjectResult", el("LastModified", iso(obj.modified)) + el("ETag", etag(obj))
    )
    return 200, body, [("content-type", "application/xml")]


def _range(header: str | None, size: int) -> tuple[int, int] | None:
    """(first, last) byte of a ``Range: bytes=...`` header; None for the whole object."""
    if header is None:
        return None
    match = _RANGE.match(header.strip())
    if match is None or (not match.group(1) and not match.group(2)):
        return None  # AWS ignores a Range it cannot read
    first_text, last_text = match.groups()
    if not first_text:
        first, last = max(size - int(last_text), 0), size - 1
        if int(last_text) == 0:
            first = size
    else:
        first = int(first_text)
        last = min(int(last_text), size - 1) if last_text else size - 1
    if first >= size or first > last:
        raise S3Error("InvalidRange", "The requested range is not satisfiable")
    return first, last


async def get_object(rt: Runtime, r: S3Request) -> Answer:
    buckets = rt.destinations.buckets
    obj = await rt.read(buckets.head, r.bucket, r.key)
    headers = _object_headers(obj)
    wanted = _range(r.headers.get("range"), obj.size)
    if r.method == "HEAD":
        return 200, b"", [*headers, ("content-length", str(obj.size))]
    if wanted is None:
        return 200, await rt.read(buckets.read, r.bucket, r.key), headers
    first, last = wanted
    data = await rt.read(buckets.read, r.bucket, r.key, first, last)
    return 206, data, [*headers, ("content-range", f"bytes {first}-{last}/{obj.size}")]
