"""S3's wire shapes (rest-xml): the parsed request, response and request documents, and the
error table.

Errors are ``<Error><Code/><Message/>...</Error>`` with the code's HTTP status; a HEAD answer
carries the status alone (botocore then reports the status as the code, e.g. ``"404"``).
"""

from __future__ import annotations

import logging
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import UTC, datetime
from xml.sax.saxutils import escape

from headwater.destinations.errors import NoSuchBucket, S3Error
from headwater.errors import HeadwaterError, NotEmulated, ValidationError

log = logging.getLogger("headwater.api")

NS = "http://s3.amazonaws.com/doc/2006-03-01/"
OWNER_ID = "75aa57f09aa0c8caeab4f8c24e99d10f8e7faeebf76c078efc7c6caea54ba06a"
DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n'

_STATUS = {
    "NoSuchBucket": 404,
    "NoSuchKey": 404,
    "BucketNotEmpty": 409,
    "BucketAlreadyOwnedByYou": 409,
    "BucketAlreadyExists": 409,
    "IllegalLocationConstraintException": 400,
    "InvalidLocationConstraint": 400,
    "InvalidBucketName": 400,
    "KeyTooLongError": 400,
    "InvalidRange": 416,
    "NotImplemented": 501,
    "MethodNotAllowed": 405,
    "MalformedXML": 400,
    "InvalidArgument": 400,
    "BadDigest": 400,
    "InvalidDigest": 400,
    "EntityTooLarge": 400,
    "IncompleteBody": 400,
}


Headers = list[tuple[str, str]]
Answer = tuple[int, bytes, Headers]


@dataclass(frozen=True)
class S3Request:
    method: str
    bucket: str
    key: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes
    region: str


def el(tag: str, value: str | int | None) -> str:
    """``<tag>value</tag>``, escaped; nothing when ``value`` is None."""
    if value is None:
        return ""
    return f"<{tag}>{escape(str(value))}</{tag}>"


def document(root: str, inner: str) -> bytes:
    return f'{DECLARATION}<{root} xmlns="{NS}">{inner}</{root}>'.encode()


def iso(epoch: float) -> str:
    moment = datetime.fromtimestamp(epoch, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def owner() -> str:
    return f"<Owner>{el('ID', OWNER_ID)}{el('DisplayName', 'headwater')}</Owner>"


def malformed() -> S3Error:
    return S3Error(
        "MalformedXML",
        "The XML you provided was not well-formed or did not validate against our published schema",
    )


def parse(body: bytes) -> ET.Element | None:
    """A request document (namespaces stripped from tags); None when the body is empty."""
    if not body.strip():
        return None
    try:
        root = ET.fromstring(body)
    except ET.ParseError:
        raise malformed() from None
    for node in root.iter():
        node.tag = node.tag.rsplit("}", 1)[-1]
    return root


def s3_error(exc: BaseException, request_id: str) -> tuple[int, bytes]:
    """(status, body) for a failed S3 call."""
    if isinstance(exc, S3Error | NoSuchBucket):
        code, extra = exc.code, ""
        if isinstance(exc, NoSuchBucket):
            extra = el("BucketName", exc.bucket)
        elif code == "NoSuchKey":
            extra = el("Key", exc.resource)
        elif exc.resource:
            extra = el("BucketName", exc.resource)
        status = _STATUS.get(code, 400)
    elif isinstance(exc, NotEmulated):
        code, extra, status = "NotImplemented", "", 501
    elif isinstance(exc, ValidationError):
        code, extra, status = "InvalidArgument", "", 400
    elif isinstance(exc, HeadwaterError):
        code, extra, status = "InvalidRequest", "", 400
    else:
        log.error("internal error", exc_info=exc)
        code, extra, status = "InternalError", "", 500
    message = (
        exc.message if isinstance(exc, HeadwaterError) else "We encountered an internal error."
    )
    body = (
        f"{DECLARATION}<Error>{el('Code', code)}{el('Message', message)}{extra}"
        f"{el('RequestId', request_id)}{el('HostId', request_id)}</Error>"
    )
    return status, body.encode()
