"""What every request carries into an adapter: its region (from SigV4) and its request id."""

from __future__ import annotations

import base64
import itertools
import os
import re
from dataclasses import dataclass, field

DEFAULT_REGION = "us-east-1"
_CREDENTIAL = re.compile(r"Credential=[^/,\s]+/\d{8}/([a-z0-9-]+)/")


def region_from_authorization(header: str | None) -> str:
    """The region of the SigV4 credential scope; the default when unsigned."""
    if header:
        match = _CREDENTIAL.search(header)
        if match:
            return match.group(1)
    return DEFAULT_REGION


# A random prefix per process and a counter: unique, 52 characters of [0-9A-Z] as AWS's, and
# far cheaper per request than fresh random bytes.
_ID_PREFIX = base64.b32encode(os.urandom(25)).decode()[:40]
_ID_COUNTER = itertools.count(1)


def dynamodb_request_id() -> str:
    """52 characters of [0-9A-Z], as AWS's."""
    return f"{_ID_PREFIX}{next(_ID_COUNTER):012X}"


@dataclass(frozen=True)
class RequestContext:
    region: str
    request_id: str = field(default_factory=dynamodb_request_id)
