"""DynamoDB numbers: parsing, range rules, canonical text and exact arithmetic.

DynamoDB numbers are decimals of at most 38 significant digits with a magnitude between
1E-130 and 9.99..E+125; they are kept as canonical strings, never floats. Pure: imports only
the standard library and ``headwater.errors``.
"""

from __future__ import annotations

import decimal
import re
from dataclasses import dataclass
from typing import Final

from headwater.errors import ValidationError

MAX_DIGITS: Final = 38
MAX_EXPONENT: Final = 125
MIN_EXPONENT: Final = -130

NOT_NUMERIC: Final = "The parameter cannot be converted to a numeric value"
TOO_PRECISE: Final = "Attempting to store more than 38 significant digits in a Number"
OVERFLOW: Final = (
    "Number overflow. Attempting to store a number with magnitude larger than supported range"
)
UNDERFLOW: Final = (
    "Number underflow. Attempting to store a number with magnitude smaller than supported range"
)

_NUMBER = re.compile(r"([+-]?)([0-9]*)(?:\.([0-9]*))?(?:[eE]([+-]?[0-9]+))?")
# An exponent this long is out of range whatever the mantissa; it also keeps int() cheap.
_MAX_EXPONENT_CHARS: Final = 12
# Enough precision that adding any two in-range numbers is exact (125 + 130 + 38 < 400).
_EXACT: Final = decimal.Context(prec=400, Emax=10_000, Emin=-10_000, traps=[])


@dataclass(frozen=True)
class Number:
    """A decimal as ``(-1)**negative * int(digits) * 10**exponent``, in canonical form.

    Canonical means no leading or trailing zeros in ``digits``; zero is ``digits == ""``.
    Two equal numbers therefore always have equal fields, which makes equality, hashing and
    the order-preserving key encoding simple.
    """

    negative: bool
    digits: str
    exponent: int

    @property
    def is_zero(self) -> bool:
        return not self.digits

    @property
    def adjusted(self) -> int:
        """Power of ten of the leading digit (``101`` → 2, ``0.05`` → -2)."""
        return self.exponent + len(self.digits) - 1

    def to_decimal(self) -> decimal.Decimal:
        if self.is_zero:
            return decimal.Decimal(0)
        return decimal.Decimal((int(self.negative), tuple(map(int, self.digits)), self.exponent))

    def text(self) -> str:
        """Plain notation, the way DynamoDB returns numbers (``1E+2`` → ``100``)."""
        if self.is_zero:
            return "0"
        sign = "-" if self.negative else ""
        if self.exponent >= 0:
            return sign + self.digits + "0" * self.exponent
        point = len(self.digits) + self.exponent
        if point > 0:
            return f"{sign}{self.digits[:point]}.{self.digits[point:]}"
        return f"{sign}0.{'0' * -point}{self.digits}"


ZERO: Final = Number(False, "", 0)


def _canonical(negative: bool, digits: str, exponent: int) -> Number:
    digits = digits.lstrip("0")
    stripped = digits.rstrip("0")
    exponent += len(digits) - len(stripped)
    if not stripped:
        return ZERO
    return Number(negative, stripped, exponent)


def parse_number(text: str) -> Number:
    """Parse and range-check a number string, raising AWS's exact messages."""
    if not text:
        raise ValidationError(NOT_NUMERIC)
    match = _NUMBER.fullmatch(text)
    if match is None:
        raise ValidationError(f"{NOT_NUMERIC}: {text}")
    sign, whole, fraction, exponent_text = match.groups()
    fraction = fraction or ""
    if not whole and not fraction:
        raise ValidationError(f"{NOT_NUMERIC}: {text}")
    mantissa = (whole + fraction).lstrip("0")
    if not mantissa.rstrip("0"):
        return ZERO
    exponent_text = exponent_text or "0"
    exponent_digits = exponent_text.lstrip("+-").lstrip("0")
    if len(exponent_digits) > _MAX_EXPONENT_CHARS:
        raise ValidationError(UNDERFLOW if exponent_text.startswith("-") else OVERFLOW)
    number = _canonical(sign == "-", whole + fraction, int(exponent_text) - len(fraction))
    check_range(number)
    return number


def check_range(number: Number) -> None:
    """Raise when a number is outside what DynamoDB can store."""
    if number.is_zero:
        return
    if number.adjusted > MAX_EXPONENT:
        raise ValidationError(OVERFLOW)
    if number.adjusted < MIN_EXPONENT:
        raise ValidationError(UNDERFLOW)
    if len(number.digits) > MAX_DIGITS:
        raise ValidationError(TOO_PRECISE)


def normalize_number(text: str) -> str:
    """Validate a number string and return DynamoDB's canonical text for it."""
    return parse_number(text).text()


def from_decimal(value: decimal.Decimal) -> Number:
    sign, digits, exponent = value.as_tuple()
    if not isinstance(exponent, int):  # NaN or infinity: never produced from valid input
        raise ValidationError(OVERFLOW)
    return _canonical(bool(sign), "".join(map(str, digits)), exponent)


def add(left: str, right: str, *, subtract: bool = False) -> str:
    """Exact ``left ± right``; like DynamoDB, an imprecise result is reported as overflow."""
    a = parse_number(left).to_decimal()
    b = parse_number(right).to_decimal()
    result = from_decimal(_EXACT.subtract(a, b) if subtract else _EXACT.add(a, b))
    if len(result.digits) > MAX_DIGITS:
        raise ValidationError(OVERFLOW)
    check_range(result)
    return result.text()
