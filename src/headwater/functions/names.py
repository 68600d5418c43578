"""Function names, partial and full ARNs, and qualifiers, as Lambda reads them.

``my-fn``, ``123456789012:function:my-fn`` and
``arn:aws:lambda:us-east-1:123456789012:function:my-fn`` name the same function; any of them may
end in a qualifier (``:$LATEST``, a version number, or an alias name).
"""

from __future__ import annotations

import re
import time

from headwater.errors import InvalidParameterValue

_ARN = re.compile(
    r"^(?:arn:aws[a-zA-Z-]*:lambda:(?P<region>[a-z0-9-]+):(?P<account>\d{12}):function:)?"
    r"(?:(?P<acct2>\d{12}):function:)?(?P<name>[a-zA-Z0-9-_]+)(?::(?P<qualifier>[a-zA-Z0-9$_-]+))?$"
)
_VERSION_NUMBER = re.compile(r"[0-9]+")

QUALIFIER_MISMATCH = (
    "The derived qualifier from the function name does not match the specified qualifier."
)


def lambda_timestamp(epoch: float) -> str:
    """Lambda's LastModified format: ``2019-06-11T00:30:51.963+0000``."""
    millis = int(epoch * 1000) % 1000
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(epoch)) + f".{millis:03d}+0000"


def parse_function_name(text: str) -> tuple[str | None, str, str | None]:
    """(region or None, name, qualifier or None) from a name, partial ARN or full ARN."""
    match = _ARN.match(text)
    if match is None:
        raise InvalidParameterValue(f"Invalid function name or ARN: {text}")
    return match.group("region"), match.group("name"), match.group("qualifier")


def split_qualifier(name_or_arn: str, qualifier: str | None) -> tuple[str | None, str, str | None]:
    """Like :func:`parse_function_name`, with the Qualifier parameter merged in: it must agree
    with a qualifier the name or ARN already carries."""
    region, name, in_name = parse_function_name(name_or_arn)
    if qualifier and in_name and qualifier != in_name:
        raise InvalidParameterValue(QUALIFIER_MISMATCH)
    return region, name, qualifier or in_name


def is_version_number(qualifier: str) -> bool:
    return _VERSION_NUMBER.fullmatch(qualifier) is not None
