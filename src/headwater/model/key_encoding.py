"""Order-preserving byte encodings of key values, so SQLite can sort and range-scan BLOBs.

SQLite compares BLOBs with memcmp (shorter first on a tie), so each encoding is built so
that byte order equals DynamoDB's order for values of one key type. Imports only the model.
"""

from __future__ import annotations

from typing import Final

from headwater.model.compare import b64_bytes, utf8
from headwater.model.numbers import MIN_EXPONENT, Number, parse_number
from headwater.model.types import AttrValue, type_of

_NEGATIVE: Final = b"\x00"
_ZERO: Final = b"\x01"
_POSITIVE: Final = b"\x02"
# Ends a negative number's digits; above every complemented digit, so a longer negative
# mantissa (a more negative number at equal exponent) sorts first.
_NEGATIVE_END: Final = b"\xff"
_DIGITS: Final = b"0123456789"
_COMPLEMENT: Final = bytes.maketrans(_DIGITS, _DIGITS[::-1])


def encode_number(number: Number) -> bytes:
    """Sign class, then the biased exponent, then the digits (complemented when negative).

    The adjusted exponent lies in -130..125, so ``exponent + 130`` fits one byte exactly.
    """
    if number.is_zero:
        return _ZERO
    biased = number.adjusted - MIN_EXPONENT
    digits = number.digits.encode("ascii")
    if number.negative:
        return _NEGATIVE + bytes([255 - biased]) + digits.translate(_COMPLEMENT) + _NEGATIVE_END
    return _POSITIVE + bytes([biased]) + digits


def encode_key(value: AttrValue) -> bytes:
    """Bytes of one S, N or B key value whose memcmp order is DynamoDB's sort order."""
    type_name = type_of(value)
    raw = value[type_name]
    if type_name == "S":
        return utf8(raw)
    if type_name == "B":
        return b64_bytes(raw)
    if type_name == "N":
        return encode_number(parse_number(raw))
    raise ValueError(f"key values must be S, N or B, not {type_name}")
