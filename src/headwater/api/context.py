"""What every request carries into an adapter: its region (from SigV4) and its request id."""

from __future__ import annotations

import base64
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


def dynamodb_request_id() -> str:
    """52 characters of [0-9A-Z], as AWS's; base32 of random bytes is cheap and fits."""
    return base64.b32encode(os.urandom(35)).decode()[:52]


@dataclass(frozen=True)
class RequestContext:
    region: str
    request_id: str = field(default_factory=dynamodb_request_id)
