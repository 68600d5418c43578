"""What every request carries into an adapter: its region (from SigV4) and its request id."""

from __future__ import annotations

import re
import secrets
import string
from dataclasses import dataclass, field

DEFAULT_REGION = "us-east-1"
_CREDENTIAL = re.compile(r"Credential=[^/,\s]+/\d{8}/([a-z0-9-]+)/")
_ALPHABET = string.ascii_uppercase + string.digits


def region_from_authorization(header: str | None) -> str:
    """The region of the SigV4 credential scope; the default when unsigned."""
    if header:
        match = _CREDENTIAL.search(header)
        if match:
            return match.group(1)
    return DEFAULT_REGION


def dynamodb_request_id() -> str:
    return "".join(secrets.choice(_ALPHABET) for _ in range(52))


@dataclass(frozen=True)
class RequestContext:
    region: str
    request_id: str = field(default_factory=dynamodb_request_id)
