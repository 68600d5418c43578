import pytest

from headwater.model.compare import comparable, compare, values_equal


def test_numbers_are_equal_by_value() -> None:
    assert values_equal({"N": "1.0"}, {"N": "1"})


def test_different_types_are_not_equal() -> None:
    assert not values_equal({"N": "1"}, {"S": "1"})


def test_missing_value_equals_nothing() -> None:
    assert not values_equal(None, None)


def test_sets_are_equal_regardless_of_order() -> None:
    assert values_equal({"SS": ["a", "b"]}, {"SS": ["b", "a"]})


def test_number_sets_compare_numerically() -> None:
    assert values_equal({"NS": ["1", "2.0"]}, {"NS": ["2", "1.00"]})


def test_binary_sets_compare_by_bytes() -> None:
    assert values_equal({"BS": ["YQ==", "Yg=="]}, {"BS": ["Yg==", "YQ=="]})


def test_lists_compare_in_order() -> None:
    assert not values_equal({"L": [{"N": "1"}, {"N": "2"}]}, {"L": [{"N": "2"}, {"N": "1"}]})


def test_maps_compare_deeply() -> None:
    a = {"M": {"x": {"L": [{"N": "1"}]}, "y": {"BOOL": True}}}
    b = {"M": {"y": {"BOOL": True}, "x": {"L": [{"N": "1.0"}]}}}
    assert values_equal(a, b)


def test_numbers_order_numerically() -> None:
    assert compare({"N": "9"}, {"N": "10"}) == -1


def test_negative_numbers_order_below_zero() -> None:
    assert compare({"N": "-1e10"}, {"N": "0"}) == -1


def test_strings_order_by_utf8_bytes() -> None:
    assert compare({"S": "\uffff"}, {"S": "\U00010000"}) == -1


def test_binary_orders_by_bytes() -> None:
    assert compare({"B": "AA=="}, {"B": "/w=="}) == -1


def test_equal_values_compare_as_zero() -> None:
    assert compare({"S": "a"}, {"S": "a"}) == 0


def test_mixed_types_are_not_comparable() -> None:
    assert not comparable({"S": "1"}, {"N": "1"})


def test_compare_rejects_non_scalars() -> None:
    with pytest.raises(ValueError):
        compare({"L": []}, {"L": []})
