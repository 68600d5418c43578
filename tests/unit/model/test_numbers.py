import pytest

from headwater.errors import ValidationError
from headwater.model.numbers import OVERFLOW, TOO_PRECISE, UNDERFLOW, add, normalize_number


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("1.50", "1.5"),
        ("01", "1"),
        ("1e2", "100"),
        ("-0", "0"),
        ("0e1000", "0"),
        ("+3", "3"),
        (".123", "0.123"),
        ("5.", "5"),
        ("-17.4E37", "-174" + "0" * 36),
        ("1E-3", "0.001"),
        ("0.000100", "0.0001"),
    ],
)
def test_normalize_number_returns_dynamodb_canonical_text(given: str, expected: str) -> None:
    assert normalize_number(given) == expected


def test_normalize_number_accepts_smallest_magnitude() -> None:
    assert normalize_number("1e-130") == "0." + "0" * 129 + "1"


def test_normalize_number_accepts_largest_magnitude() -> None:
    assert normalize_number("9.99999999e125") == "999999999" + "0" * 117


def test_normalize_number_keeps_38_significant_digits() -> None:
    digits = "3.1415926535897932384626433832795028841"
    assert normalize_number(digits) == digits


def test_empty_number_has_message_without_value() -> None:
    with pytest.raises(ValidationError) as caught:
        normalize_number("")
    assert caught.value.message == "The parameter cannot be converted to a numeric value"


@pytest.mark.parametrize(
    "text", ["NaN", "Infinity", "-Infinity", "dog", " 1", "1 ", "e5", ".", "1e", "1_0", "\u0661"]
)
def test_non_numeric_text_names_the_value(text: str) -> None:
    with pytest.raises(ValidationError) as caught:
        normalize_number(text)
    assert caught.value.message == f"The parameter cannot be converted to a numeric value: {text}"


@pytest.mark.parametrize(
    "text", ["123456789012345678901234567890123456789", "-1.23456789012345678901234567890123456789"]
)
def test_more_than_38_significant_digits_is_rejected(text: str) -> None:
    with pytest.raises(ValidationError) as caught:
        normalize_number(text)
    assert caught.value.message == TOO_PRECISE


def test_trailing_zeros_do_not_count_as_significant_digits() -> None:
    assert normalize_number("1" + "0" * 60) == "1" + "0" * 60


@pytest.mark.parametrize("text", ["1e126", "-1e126", "11e125", "1e99999999999999999999"])
def test_too_large_magnitude_overflows(text: str) -> None:
    with pytest.raises(ValidationError) as caught:
        normalize_number(text)
    assert caught.value.message == OVERFLOW


@pytest.mark.parametrize("text", ["1e-131", "-1e-131", "0.9e-130", "1e-99999999999999999999"])
def test_too_small_magnitude_underflows(text: str) -> None:
    with pytest.raises(ValidationError) as caught:
        normalize_number(text)
    assert caught.value.message == UNDERFLOW


def test_add_is_exact_beyond_float_precision() -> None:
    assert add("1", "10000000000000000000000") == "10000000000000000000001"


def test_subtract_is_exact() -> None:
    assert add("10000000000000000000000", "1", subtract=True) == "9999999999999999999999"


def test_add_decimal_fractions_exactly() -> None:
    assert add("0.1", "0.2") == "0.3"


def test_add_result_beyond_range_overflows() -> None:
    with pytest.raises(ValidationError) as caught:
        add("9e125", "9e125")
    assert caught.value.message == OVERFLOW


def test_add_imprecise_result_is_reported_as_overflow() -> None:
    with pytest.raises(ValidationError) as caught:
        add("1e50", "1")
    assert caught.value.message == OVERFLOW
