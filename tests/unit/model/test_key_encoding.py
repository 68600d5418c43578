import base64
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from headwater.model.key_encoding import encode_key
from headwater.model.numbers import normalize_number


def number(text: str) -> bytes:
    return encode_key({"N": text})


def test_zero_sorts_between_negative_and_positive() -> None:
    assert number("-1e-130") < number("0") < number("1e-130")


def test_negative_zero_encodes_like_zero() -> None:
    assert number("-0") == number("0")


def test_equal_numbers_encode_alike() -> None:
    assert number("1.50") == number("1.5")


@pytest.mark.parametrize(
    ("smaller", "larger"),
    [
        ("1.5", "1.51"),
        ("-1.51", "-1.5"),
        ("9", "10"),
        ("-10", "-9"),
        ("1e125", "9.99e125"),
        ("-9.99e125", "-1e125"),
        ("0.001", "0.01"),
        ("-0.01", "-0.001"),
        ("123", "124"),
    ],
)
def test_numbers_encode_in_numeric_order(smaller: str, larger: str) -> None:
    assert number(smaller) < number(larger)


def test_strings_encode_as_utf8() -> None:
    assert encode_key({"S": "é"}) == "é".encode()


def test_binary_encodes_as_raw_bytes() -> None:
    assert encode_key({"B": "AAH/"}) == b"\x00\x01\xff"


def test_non_key_types_are_rejected() -> None:
    with pytest.raises(ValueError):
        encode_key({"BOOL": True})


digits = st.integers(min_value=-(10**38) + 1, max_value=10**38 - 1)
exponents = st.integers(min_value=-130 - 37, max_value=125 - 37)


@st.composite
def dynamo_numbers(draw: st.DrawFn) -> Decimal:
    mantissa = draw(digits)
    exponent = draw(exponents)
    value = Decimal(mantissa).scaleb(exponent)
    adjusted = value.adjusted()
    if value and not -130 <= adjusted <= 125:
        value = Decimal(mantissa)
    return value


@given(dynamo_numbers(), dynamo_numbers())
def test_number_encoding_preserves_numeric_order(a: Decimal, b: Decimal) -> None:
    ea = number(normalize_number(str(a)))
    eb = number(normalize_number(str(b)))
    assert (ea < eb) == (a < b)
    assert (ea == eb) == (a == b)


@given(st.text(), st.text())
def test_string_encoding_preserves_utf8_order(a: str, b: str) -> None:
    ea, eb = encode_key({"S": a}), encode_key({"S": b})
    ua, ub = a.encode("utf-8", "surrogatepass"), b.encode("utf-8", "surrogatepass")
    assert (ea < eb) == (ua < ub)


@given(st.binary(), st.binary())
def test_binary_encoding_preserves_byte_order(a: bytes, b: bytes) -> None:
    ea = encode_key({"B": base64.b64encode(a).decode()})
    eb = encode_key({"B": base64.b64encode(b).decode()})
    assert (ea < eb) == (a < b)
