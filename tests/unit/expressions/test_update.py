from typing import Any

import pytest

from headwater.errors import ValidationError
from headwater.expressions.names import ExpressionParams
from headwater.expressions.update import apply_update, updated_attributes
from headwater.expressions.updates import parse_update

KEY = {"id": {"S": "k"}}
VALUES: dict[str, Any] = {
    ":one": {"N": "1"},
    ":two": {"N": "2"},
    ":s": {"S": "new"},
    ":l": {"L": [{"S": "z"}]},
    ":ss": {"SS": ["b", "c"]},
    ":ns": {"NS": ["1", "3"]},
    ":bs": {"BS": ["AQ=="]},
    ":big": {"N": "9e125"},
    ":a1": {"S": "a1"},
    ":a2": {"S": "a2"},
    ":a3": {"S": "a3"},
}


def base() -> dict[str, Any]:
    return {
        "id": {"S": "k"},
        "n": {"N": "5"},
        "s": {"S": "old"},
        "ss": {"SS": ["a", "b"]},
        "ns": {"NS": ["1", "2"]},
        "l": {"L": [{"S": "x"}, {"S": "y"}, {"S": "w"}]},
        "m": {"M": {"a": {"N": "1"}, "b": {"M": {}}}},
    }


def run(text: str, item: dict[str, Any] | None = None, *, absent: bool = False) -> dict[str, Any]:
    plan = parse_update(text, ExpressionParams(None, VALUES))
    return apply_update(plan, None if absent else (item or base()), KEY, ("id",))


def error(text: str, item: dict[str, Any] | None = None, *, absent: bool = False) -> str:
    with pytest.raises(ValidationError) as caught:
        run(text, item, absent=absent)
    return caught.value.message


def test_set_replaces_a_top_level_attribute() -> None:
    assert run("SET s = :s")["s"] == {"S": "new"}


def test_the_input_item_is_not_changed() -> None:
    item = base()
    run("SET s = :s, m.a = :two REMOVE l[0] ADD ss :ss", item)
    assert item == base()


def test_absent_item_is_created_from_the_key() -> None:
    assert run("SET s = :s", absent=True) == {"id": {"S": "k"}, "s": {"S": "new"}}


def test_set_nested_map_member() -> None:
    assert run("SET m.b.c = :one")["m"]["M"]["b"] == {"M": {"c": {"N": "1"}}}


def test_set_with_missing_parent_is_an_invalid_path() -> None:
    assert error("SET nope.c = :one") == (
        "The document path provided in the update expression is invalid for update"
    )


def test_set_map_member_on_a_string_is_an_invalid_path() -> None:
    assert "invalid for update" in error("SET s.c = :one")


def test_set_index_on_a_map_is_an_invalid_path() -> None:
    assert "invalid for update" in error("SET m[0] = :one")


def test_set_nested_on_absent_item_is_an_invalid_path() -> None:
    assert "invalid for update" in error("SET m.c = :one", absent=True)


def test_set_list_element_replaces_it() -> None:
    assert run("SET l[1] = :s")["l"]["L"][1] == {"S": "new"}


def test_set_past_the_end_appends_in_index_order() -> None:
    result = run("SET l[84] = :a1, l[37] = :a2, l[17] = :a3")
    assert [v["S"] for v in result["l"]["L"]] == ["x", "y", "w", "a3", "a2", "a1"]


def test_set_plus_adds_numbers() -> None:
    assert run("SET n = n + :two")["n"] == {"N": "7"}


def test_set_minus_subtracts_numbers() -> None:
    assert run("SET n = n - :two")["n"] == {"N": "3"}


def test_arithmetic_on_a_stored_string_is_a_type_error() -> None:
    assert (
        error("SET n = s + :two")
        == "An operand in the update expression has an incorrect data type"
    )


def test_arithmetic_overflow_is_reported() -> None:
    assert error("SET n = :big + :big").startswith("Number overflow.")


def test_set_from_missing_attribute_is_rejected() -> None:
    assert error("SET s = nope") == (
        "The provided expression refers to an attribute that does not exist in the item"
    )


def test_right_hand_sides_read_the_old_item() -> None:
    result = run("SET s = n, n = s")
    assert (result["s"], result["n"]) == ({"N": "5"}, {"S": "old"})


def test_if_not_exists_keeps_the_existing_value() -> None:
    assert run("SET n = if_not_exists(n, :one)")["n"] == {"N": "5"}


def test_if_not_exists_uses_the_default_when_missing() -> None:
    assert run("SET c = if_not_exists(c, :one)")["c"] == {"N": "1"}


def test_list_append_concatenates() -> None:
    assert run("SET l = list_append(l, :l)")["l"]["L"][-1] == {"S": "z"}


def test_list_append_can_prepend() -> None:
    assert run("SET l = list_append(:l, l)")["l"]["L"][0] == {"S": "z"}


def test_list_append_on_a_stored_string_is_a_type_error() -> None:
    assert "incorrect data type" in error("SET l = list_append(s, :l)")


def test_list_append_with_if_not_exists_starts_a_list() -> None:
    assert run("SET c = list_append(if_not_exists(c, :l), :l)")["c"] == {
        "L": [{"S": "z"}, {"S": "z"}]
    }


def test_remove_deletes_attributes() -> None:
    result = run("REMOVE s, m.a")
    assert "s" not in result and "a" not in result["m"]["M"]


def test_remove_list_elements_uses_original_positions() -> None:
    assert run("REMOVE l[0], l[2]")["l"] == {"L": [{"S": "y"}]}


def test_remove_missing_leaf_is_fine() -> None:
    assert run("REMOVE nope, m.zz, l[9]") == base()


def test_remove_under_missing_parent_is_an_invalid_path() -> None:
    assert "invalid for update" in error("REMOVE nope.c")


def test_remove_nested_on_absent_item_is_ignored() -> None:
    assert run("REMOVE x.y", absent=True) == KEY


def test_remove_last_map_member_leaves_an_empty_map() -> None:
    assert run("REMOVE m.a, m.b")["m"] == {"M": {}}


def test_add_number_adds() -> None:
    assert run("ADD n :two")["n"] == {"N": "7"}


def test_add_number_to_missing_attribute_sets_it() -> None:
    assert run("ADD c :two")["c"] == {"N": "2"}


def test_add_set_takes_the_union_in_order() -> None:
    assert run("ADD ss :ss")["ss"] == {"SS": ["a", "b", "c"]}


def test_add_number_set_compares_numerically() -> None:
    assert run("ADD ns :ns")["ns"] == {"NS": ["1", "2", "3"]}


def test_add_to_a_different_type_is_a_type_error() -> None:
    assert "incorrect data type" in error("ADD s :two")


def test_add_string_set_to_number_set_is_a_type_error() -> None:
    assert "incorrect data type" in error("ADD ns :ss")


def test_delete_removes_set_members() -> None:
    assert run("DELETE ss :ss")["ss"] == {"SS": ["a"]}


def test_delete_last_members_removes_the_attribute() -> None:
    assert "ns" not in run("DELETE ns :ns", {**base(), "ns": {"NS": ["3", "1"]}})


def test_delete_from_missing_attribute_is_fine() -> None:
    assert run("DELETE nope :ss") == base()


def test_delete_from_a_different_set_type_is_a_type_error() -> None:
    assert "incorrect data type" in error("DELETE ss :bs")


def test_key_attribute_cannot_be_updated() -> None:
    assert error("SET id = :s") == (
        "One or more parameter values were invalid: Cannot update attribute id. "
        "This attribute is part of the key"
    )


def test_key_attribute_cannot_be_removed() -> None:
    assert "Cannot update attribute id" in error("REMOVE id")


def test_key_attribute_cannot_be_dereferenced() -> None:
    assert error("SET id.x = :s") == (
        "Key attributes must be scalars; list random access '[]' and map lookup '.' are not "
        "allowed: Key: id"
    )


def test_updated_attributes_project_the_touched_paths() -> None:
    plan = parse_update("SET m.a = :two, s = :s REMOVE ns", ExpressionParams(None, VALUES))
    new = apply_update(plan, base(), KEY, ("id",))
    assert updated_attributes(new, plan) == {"m": {"M": {"a": {"N": "2"}}}, "s": {"S": "new"}}


def test_updated_attributes_of_the_old_item() -> None:
    plan = parse_update("SET m.a = :two REMOVE ns", ExpressionParams(None, VALUES))
    assert updated_attributes(base(), plan) == {"m": {"M": {"a": {"N": "1"}}}, "ns": base()["ns"]}


def test_updated_attributes_of_absent_item_is_empty() -> None:
    plan = parse_update("SET s = :s", ExpressionParams(None, VALUES))
    assert updated_attributes(None, plan) == {}
