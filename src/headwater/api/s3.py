"""S3 (rest-xml) adapter: buckets and objects kept in a local directory.

Which requests are S3's (they share the port with DynamoDB, Lambda and Headwater's own paths):

* signed for S3: the SigV4 scope (``Authorization`` header, or ``X-Amz-Credential`` in a
  presigned URL) ends in ``/s3/aws4_request``; or
* unsigned (curl, a browser) to a path that is not ``/``, ``/_headwater/...`` or a dated API
  prefix like Lambda's ``/2015-03-31/...``.

Requests signed for other services never come here, and ``GET /`` unsigned stays DynamoDB's
health check. Addressing is path style (``/<bucket>/<key>``, what boto3 uses for an
``endpoint_url``) or virtual-host style when the Host is ``<bucket>.localhost[:port]`` or
``<bucket>.s3.<anything>``.
"""

from __future__ import annotations

import base64
import binascii
import re
from urllib.parse import parse_qsl, quote
from xml.sax.saxutils import escape

from starlette.types import Receive, Scope, Send

from headwater.api import s3_objects
from headwater.api.context import DEFAULT_REGION, RequestContext, region_from_authorization
from headwater.api.s3_xml import (
    Answer,
    S3Request,
    document,
    el,
    iso,
    malformed,
    owner,
    parse,
    s3_error,
)
from headwater.destinations.buckets import Listing
from headwater.destinations.errors import S3Error
from headwater.errors import NotEmulated, ValidationError
from headwater.runtime import Runtime

MAX_OBJECT = 256 * 1024 * 1024
_DATED = re.compile(r"^\d{4}-\d{2}-\d{2}$")
# Query parameters of the bucket operations emulated; any other subresource is NotImplemented.
_BUCKET_PARAMETERS = frozenset(
    {"list-type", "prefix", "delimiter", "max-keys", "encoding-type", "continuation-token",
     "start-after", "fetch-owner", "marker", "location", "delete", "x-id"}
)  # fmt: skip
_OBJECT_PARAMETERS = frozenset({"x-id", "versionId", "partNumber"})

_PRESIGNED_V2 = frozenset({"AWSAccessKeyId", "Signature", "Expires"})  # and X-Amz-* for SigV4


def addressed_to_s3(scope: Scope, headers: dict[bytes, bytes]) -> bool:
    authorization = headers.get(b"authorization", b"")
    if authorization:
        return b"/s3/aws4_request" in authorization
    query: bytes = scope.get("query_string", b"")
    if b"X-Amz-Credential=" in query:
        return b"%2Fs3%2Faws4_request" in query or b"/s3/aws4_request" in query
    path: str = scope["path"]
    if path == "/":
        return _virtual_bucket(headers) is not None
    first = path.split("/", 2)[1]
    return first != "_headwater" and not _DATED.match(first)


def _virtual_bucket(headers: dict[bytes, bytes]) -> str | None:
    host = headers.get(b"host", b"").decode("latin-1").rsplit(":", 1)[0].lower()
    bucket, dot, rest = host.partition(".")
    if dot and bucket and (rest == "localhost" or rest.startswith(("s3.", "s3-"))):
        return bucket
    return None


async def serve(
    rt: Runtime,
    scope: Scope,
    receive: Receive,
    send: Send,
    headers: dict[bytes, bytes],
    body: bytes | None = None,
) -> None:
    """Answer one S3 request (``body`` when the caller has read it already)."""
    ctx = RequestContext(region_from_authorization(headers.get(b"authorization", b"").decode()))
    method: str = scope["method"]
    try:
        if body is None:
            body = await _read_body(receive)
        request = _request(scope, headers, body, ctx.region)
        status, out, out_headers = await _dispatch(rt, request)
    except Exception as exc:
        status, out = s3_error(exc, ctx.request_id)
        out_headers = [("content-type", "application/xml")]
        if method == "HEAD":
            out = b""
    head = [
        (b"x-amz-request-id", ctx.request_id.encode()),
        (b"x-amz-id-2", ctx.request_id.encode()),
    ]
    head += [(k.encode(), v.encode("latin-1")) for k, v in out_headers]
    if not any(k == "content-length" for k, _ in out_headers):
        head.append((b"content-length", str(len(out)).encode()))
    await send({"type": "http.response.start", "status": status, "headers": head})
    await send({"type": "http.response.body", "body": b"" if method == "HEAD" else out})


async def _read_body(receive: Receive) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_OBJECT:
            raise S3Error(
                "EntityTooLarge", "Your proposed upload exceeds the maximum allowed object size."
            )
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _request(scope: Scope, headers: dict[bytes, bytes], body: bytes, region: str) -> S3Request:
    text = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in headers.items()}
    path: str = scope["path"]
    virtual = _virtual_bucket(headers)
    if virtual is not None:
        bucket, key = virtual, path[1:]
    else:
        bucket, _, key = path[1:].partition("/")
    query = {
        name: value
        for name, value in parse_qsl(
            scope.get("query_string", b"").decode(), keep_blank_values=True
        )
        if not name.lower().startswith("x-amz-") and name not in _PRESIGNED_V2
    }
    if "aws-chunked" in text.get("content-encoding", "") or text.get(
        "x-amz-content-sha256", ""
    ).startswith("STREAMING-"):
        body = _decode_chunked(body)
    return S3Request(scope["method"], bucket, key, query, text, body, region)


def _decode_chunked(raw: bytes) -> bytes:
    """The payload of an ``aws-chunked`` body: ``<hex size>[;ext]\\r\\n<data>\\r\\n``... ``0``."""
    out = bytearray()
    pos = 0
    try:
        while True:
            eol = raw.index(b"\r\n", pos)
            size = int(raw[pos:eol].split(b";", 1)[0], 16)
            pos = eol + 2
            if size == 0:
                return bytes(out)
            out += raw[pos : pos + size]
            pos += size + 2
    except ValueError:
        raise S3Error(
            "IncompleteBody", "You did not provide the number of bytes specified"
        ) from None


# -- dispatch ---------------------------------------------------------------------------------


async def _dispatch(rt: Runtime, r: S3Request) -> Answer:
    if not r.bucket:
        if r.method == "GET":
            return await list_buckets(rt, r)
        raise S3Error(
            "MethodNotAllowed", "The specified method is not allowed against this resource."
        )
    if not r.key:
        unsupported = set(r.query) - _BUCKET_PARAMETERS
        if unsupported:
            raise NotEmulated(f"Bucket subresource {sorted(unsupported)[0]} is not emulated.")
        if r.method == "PUT":
            return await create_bucket(rt, r)
        if r.method == "HEAD":
            return await head_bucket(rt, r)
        if r.method == "DELETE":
            return await delete_bucket(rt, r)
        if r.method == "POST" and "delete" in r.query:
            return await delete_objects(rt, r)
        if r.method == "GET":
            if "location" in r.query:
                return await bucket_location(rt, r)
            return await list_objects(rt, r, v2=r.query.get("list-type") == "2")
    else:
        if "uploads" in r.query or "uploadId" in r.query:
            raise NotEmulated("Multipart uploads are not emulated by Headwater.")
        unsupported = set(r.query) - _OBJECT_PARAMETERS
        if unsupported:
            raise NotEmulated(f"Object subresource {sorted(unsupported)[0]} is not emulated.")
        if r.method == "PUT":
            if "x-amz-copy-source" in r.headers:
                return await s3_objects.copy_object(rt, r)
            return await s3_objects.put_object(rt, r)
        if r.method in ("GET", "HEAD"):
            return await s3_objects.get_object(rt, r)
        if r.method == "DELETE":
            await rt.read(rt.destinations.buckets.delete_object, r.bucket, r.key)
            return 204, b"", []
    raise S3Error("MethodNotAllowed", "The specified method is not allowed against this resource.")


# -- buckets ----------------------------------------------------------------------------------


async def list_buckets(rt: Runtime, r: S3Request) -> Answer:
    buckets = await rt.read(rt.destinations.buckets.list_buckets)
    inner = "".join(
        f"<Bucket>{el('Name', b.name)}{el('CreationDate', iso(b.created))}"
        f"{el('BucketRegion', b.region)}</Bucket>"
        for b in buckets
    )
    body = document("ListAllMyBucketsResult", f"{owner()}<Buckets>{inner}</Buckets>")
    return 200, body, [("content-type", "application/xml")]


async def create_bucket(rt: Runtime, r: S3Request) -> Answer:
    config = parse(r.body)
    constraint = (config.findtext("LocationConstraint") if config is not None else None) or ""
    await rt.read(rt.destinations.buckets.create, r.bucket, _bucket_region(r.region, constraint))
    return 200, b"", [("location", f"/{r.bucket}")]


def _bucket_region(endpoint: str, constraint: str) -> str:
    """The region a CreateBucket sent to ``endpoint``'s S3 makes its bucket in, as AWS decides:
    us-east-1 (the global endpoint) takes any other region's constraint or none, but refuses
    ``us-east-1`` spelled out; a regional endpoint needs its own region as the constraint."""
    if endpoint == DEFAULT_REGION:
        if constraint == DEFAULT_REGION:
            raise S3Error(
                "InvalidLocationConstraint", "The specified location-constraint is not valid"
            )
        return constraint or DEFAULT_REGION
    if constraint != endpoint:
        raise S3Error(
            "IllegalLocationConstraintException",
            f"The {constraint or 'unspecified'} location constraint is incompatible for the "
            "region specific endpoint this request was sent to.",
        )
    return constraint


async def head_bucket(rt: Runtime, r: S3Request) -> Answer:
    bucket = await rt.read(rt.destinations.buckets.get, r.bucket)
    return 200, b"", [("x-amz-bucket-region", bucket.region)]


async def delete_bucket(rt: Runtime, r: S3Request) -> Answer:
    await rt.read(rt.destinations.buckets.delete, r.bucket)
    return 204, b"", []


async def bucket_location(rt: Runtime, r: S3Request) -> Answer:
    bucket = await rt.read(rt.destinations.buckets.get, r.bucket)
    region = "" if bucket.region == "us-east-1" else bucket.region
    body = document("LocationConstraint", escape(region))
    return 200, body, [("content-type", "application/xml")]


def _token(value: str) -> str:
    return base64.urlsafe_b64encode(value.encode()).decode()


def _untoken(token: str) -> str:
    try:
        return base64.urlsafe_b64decode(token.encode()).decode()
    except (binascii.Error, UnicodeError, ValueError):
        raise ValidationError("The continuation token provided is incorrect") from None


async def list_objects(rt: Runtime, r: S3Request, *, v2: bool) -> Answer:
    q = r.query
    prefix, delimiter = q.get("prefix", ""), q.get("delimiter", "")
    encode = q.get("encoding-type") == "url"
    try:
        max_keys = int(q.get("max-keys", "1000"))
    except ValueError:
        raise ValidationError("Provided max-keys not an integer or within integer range") from None
    if max_keys < 0:
        raise ValidationError("Argument maxKeys must be an integer between 0 and 2147483647")
    if v2:
        token = q.get("continuation-token")
        after = _untoken(token) if token is not None else q.get("start-after") or None
    else:
        after = q.get("marker") or None
    listing: Listing = await rt.read(
        rt.destinations.buckets.list_objects,
        r.bucket,
        prefix,
        delimiter,
        min(max_keys, 1000),
        after,
    )

    def out(value: str) -> str:
        return quote(value, safe="/~") if encode else value

    show_owner = not v2 or q.get("fetch-owner") == "true"
    contents = "".join(
        f"<Contents>{el('Key', out(o.key))}{el('LastModified', iso(o.modified))}"
        f"{el('ETag', s3_objects.etag(o))}{el('Size', o.size)}{owner() if show_owner else ''}"
        f"{el('StorageClass', 'STANDARD')}</Contents>"
        for o in listing.objects
    )
    prefixes = "".join(
        f"<CommonPrefixes>{el('Prefix', out(p))}</CommonPrefixes>" for p in listing.common_prefixes
    )
    parts = [el("Name", r.bucket)]
    if v2:
        parts += [
            el("Prefix", out(prefix)),
            el("MaxKeys", max_keys),
            el("Delimiter", out(delimiter) if delimiter else None),
            el("EncodingType", "url" if encode else None),
            el("KeyCount", len(listing.objects) + len(listing.common_prefixes)),
            el("IsTruncated", str(listing.truncated).lower()),
            el("ContinuationToken", q.get("continuation-token")),
            el(
                "NextContinuationToken",
                _token(listing.last) if listing.truncated and listing.last else None,
            ),
            el("StartAfter", out(q["start-after"]) if "start-after" in q else None),
        ]
    else:
        next_marker = listing.last if listing.truncated and delimiter and listing.last else None
        parts += [
            el("Prefix", prefix),
            el("Marker", out(q.get("marker", ""))),
            el("MaxKeys", max_keys),
            el("Delimiter", out(delimiter) if delimiter else None),
            el("EncodingType", "url" if encode else None),
            el("IsTruncated", str(listing.truncated).lower()),
            el("NextMarker", out(next_marker) if next_marker else None),
        ]
    body = document("ListBucketResult", "".join(parts) + contents + prefixes)
    return 200, body, [("content-type", "application/xml")]


async def delete_objects(rt: Runtime, r: S3Request) -> Answer:
    request = parse(r.body)
    if request is None or request.tag != "Delete":
        raise malformed()
    quiet = (request.findtext("Quiet") or "").lower() == "true"
    keys = [node.findtext("Key") or "" for node in request.findall("Object")]
    if len(keys) > 1000:
        raise malformed()
    deleted: list[str] = []
    errors: list[str] = []
    for key in keys:
        try:
            await rt.read(rt.destinations.buckets.delete_object, r.bucket, key)
            deleted.append(key)
        except S3Error as exc:
            if exc.code == "NoSuchBucket":
                raise
            errors.append(
                f"<Error>{el('Key', key)}{el('Code', exc.code)}{el('Message', exc.message)}</Error>"
            )
    inner = "" if quiet else "".join(f"<Deleted>{el('Key', k)}</Deleted>" for k in deleted)
    return (
        200,
        document("DeleteResult", inner + "".join(errors)),
        [("content-type", "application/xml")],
    )
