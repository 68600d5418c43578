import base64
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from headwater.errors import ValidationError
from headwater.model.size import item_size, value_size
from headwater.model.values import validate_item, validate_sized_item


def test_string_key_size_matches_aws_stream_record() -> None:
    assert item_size({"Username": {"S": "Fred"}}) == 12


def test_number_key_size_matches_aws_stream_record() -> None:
    assert item_size({"Id": {"N": "101"}}) == 5


def test_new_image_size_matches_aws_stream_record() -> None:
    assert item_size({"Message": {"S": "New item!"}, "Id": {"N": "101"}}) == 21


def test_hello_world_key_matches_aws_stream_record() -> None:
    assert item_size({"my_partition_key": {"S": "hello world"}}) == 27


def test_names_and_strings_count_utf8_bytes() -> None:
    assert item_size({"é": {"S": "日本"}}) == 2 + 6


def test_binary_counts_raw_bytes() -> None:
    assert value_size({"B": "YWJj"}) == 3


def test_number_counts_one_byte_per_two_digits_plus_one() -> None:
    assert value_size({"N": "12345"}) == 4


def test_number_ignores_leading_and_trailing_zeros() -> None:
    assert value_size({"N": "100000"}) == 2


def test_bool_and_null_count_one_byte() -> None:
    assert value_size({"BOOL": False}) + value_size({"NULL": True}) == 2


def test_sets_sum_their_members() -> None:
    assert value_size({"SS": ["ab", "c"]}) == 3


def test_list_has_three_bytes_overhead_and_one_per_element() -> None:
    assert value_size({"L": [{"S": "ab"}, {"BOOL": True}]}) == 3 + (2 + 1) + (1 + 1)


def test_map_counts_member_names() -> None:
    assert value_size({"M": {"ab": {"S": "c"}}}) == 3 + 2 + 1 + 1


def test_empty_item_is_zero_bytes() -> None:
    assert item_size({}) == 0


# -- sized validation: PutItem validates and sizes an item in one walk ---------------------

_TEXT = st.text(max_size=6)
_VALUES = st.recursive(
    st.one_of(
        _TEXT.map(lambda s: {"S": s}),
        st.decimals(allow_nan=False, allow_infinity=False, places=4)
        .filter(lambda d: abs(d) < 10**30)
        .map(lambda d: {"N": str(d)}),
        st.binary(max_size=6).map(lambda b: {"B": base64.b64encode(b).decode()}),
        st.booleans().map(lambda b: {"BOOL": b}),
        st.just({"NULL": True}),
        st.sets(_TEXT, min_size=1, max_size=3).map(lambda s: {"SS": sorted(s)}),
        st.sets(st.integers(-(10**9), 10**9), min_size=1, max_size=3).map(
            lambda s: {"NS": [f"{x}00.0" for x in s]}
        ),
        st.sets(st.binary(min_size=1, max_size=3), min_size=1, max_size=3).map(
            lambda s: {"BS": [base64.b64encode(x).decode() for x in s]}
        ),
    ),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3).map(lambda v: {"L": v}),
        st.dictionaries(_TEXT, inner, max_size=3).map(lambda m: {"M": m}),
    ),
    max_leaves=10,
)


@given(st.dictionaries(st.text(min_size=1, max_size=5), _VALUES, max_size=6))
def test_sized_validation_gives_the_validated_item_and_its_model_size(
    raw: dict[str, Any],
) -> None:
    item, size = validate_sized_item(raw)
    assert item == validate_item(raw)
    assert size == item_size(item)


def test_sized_validation_reports_the_same_errors_as_validation() -> None:
    for raw in ({"a": {"S": "x", "N": "1"}}, {"": {"S": "x"}}, {"a": {"NS": ["1", "1.0"]}}):
        with pytest.raises(ValidationError) as plain:
            validate_item(raw)
        with pytest.raises(ValidationError) as sized:
            validate_sized_item(raw)
        assert sized.value.message == plain.value.message
