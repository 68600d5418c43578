"""PartiQL without a server: the parser (with its parameters), WHERE → key range planning,
and the statements against a real Store (records, conditions, batches, transactions)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path as FilePath
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from headwater.clock import Clock
from headwater.errors import (
    ConditionalCheckFailed,
    DuplicateItem,
    NotEmulated,
    ResourceNotFound,
    TransactionCanceled,
    ValidationError,
)
from headwater.expressions.ast import (
    AddAction,
    And,
    Arithmetic,
    Between,
    Call,
    Compare,
    DeleteAction,
    In,
    Literal,
    Not,
    Or,
    Path,
    RemoveAction,
    SetAction,
)
from headwater.model.keys import KeySchema
from headwater.tables.control import StreamSpec, TableSpec
from headwater.tables.partiql import ORDER_WITHOUT_WHERE, PartiQLOps
from headwater.tables.partiql_parse import (
    PARAMETER_COUNT,
    Delete,
    Exists,
    Insert,
    Select,
    Update,
    parse_statement,
)
from headwater.tables.partiql_values import MALFORMED
from headwater.tables.partiql_where import (
    NO_KEY_EQUALITY,
    partition_choices,
    query_conditions,
    split_key,
)
from headwater.tables.query import TableReads
from tests.unit.tables.tables_world import REGION, Tables

S = {"S": "x"}


def _select(text: str, *params: Any) -> Select:
    parsed = parse_statement(text, list(params))
    assert isinstance(parsed, Select)
    return parsed


def _where(text: str, *params: Any) -> Any:
    return _select(f"SELECT * FROM t WHERE {text}", *params).where


def _p(*elements: str | int) -> Path:
    return Path(tuple(elements))


def _values(node: Any) -> Any:
    """A condition's literals as plain values (their placeholder names are positions)."""
    if isinstance(node, Literal):
        return node.value
    if isinstance(node, Compare):
        return (node.op, _values(node.left), _values(node.right))
    if isinstance(node, Path):
        return node.elements
    raise AssertionError(node)


def _malformed(text: str, *params: Any) -> str:
    with pytest.raises(ValidationError) as caught:
        parse_statement(text, list(params))
    assert caught.value.message.startswith(MALFORMED)
    return caught.value.message


# -- the parser: SELECT ---------------------------------------------------------------------


def test_select_star_names_the_table_and_no_projection() -> None:
    parsed = _select('SELECT * FROM "my-table"')
    assert (parsed.table, parsed.index, parsed.projection, parsed.where) == (
        "my-table",
        None,
        None,
        None,
    )


def test_select_projection_keeps_nested_and_quoted_paths() -> None:
    parsed = _select("""SELECT a, b.c[2], "d e", m['k'] FROM t""")
    assert parsed.projection is not None
    assert parsed.projection.paths == (_p("a"), _p("b", "c", 2), _p("d e"), _p("m", "k"))


def test_select_from_an_index_names_it() -> None:
    parsed = _select('SELECT * FROM "t"."by_name"')
    assert (parsed.table, parsed.index) == ("t", "by_name")


def test_keywords_are_case_insensitive() -> None:
    parsed = _select("select * from t where a = 1 order by a desc")
    assert parsed.order == (_p("a"), True)


@pytest.mark.parametrize(
    ("text", "op"),
    [("=", "="), ("<>", "<>"), ("!=", "<>"), ("<", "<"), ("<=", "<="), (">", ">"), (">=", ">=")],
)
def test_comparisons(text: str, op: str) -> None:
    assert _values(_where(f"a.b[0] {text} 5")) == (op, ("a", "b", 0), {"N": "5"})


def test_between_binds_its_own_and() -> None:
    where = _where("a BETWEEN 1 AND 3 AND b = 'x'")
    assert isinstance(where, And)
    assert isinstance(where.items[0], Between) and isinstance(where.items[1], Compare)


@pytest.mark.parametrize("choices", ["[1, 2, 3]", "(1, 2, 3)"])
def test_in_takes_a_list_or_parenthesised_values(choices: str) -> None:
    where = _where(f"a IN {choices}")
    assert isinstance(where, In)
    assert [c.value for c in where.choices] == [{"N": "1"}, {"N": "2"}, {"N": "3"}]


def test_not_in_and_not_between_negate() -> None:
    assert isinstance(_where("a NOT IN [1]"), Not)
    assert isinstance(_where("a NOT BETWEEN 1 AND 2"), Not)


def test_is_missing_and_is_not_missing_are_existence_tests() -> None:
    assert _where("a IS MISSING") == Call("attribute_not_exists", (_p("a"),))
    assert _where("a.b IS NOT MISSING") == Not(Call("attribute_not_exists", (_p("a", "b"),)))


def test_functions_parse_case_insensitively() -> None:
    assert isinstance(_where("BEGINS_WITH(a, 'x')"), Call)
    where = _where("contains(a, ?) AND attribute_exists(b) AND size(c) > 2", S)
    assert isinstance(where, And)
    assert [type(i).__name__ for i in where.items] == ["Call", "Call", "Compare"]


def test_and_binds_tighter_than_or_and_not_tighter_than_and() -> None:
    where = _where("a = 1 OR NOT b = 2 AND c = 3")
    assert isinstance(where, Or)
    second = where.items[1]
    assert isinstance(second, And) and isinstance(second.items[0], Not)


def test_parentheses_group_conditions() -> None:
    where = _where("(a = 1 OR b = 2) AND c = 3")
    assert isinstance(where, And) and isinstance(where.items[0], Or)


# -- the parser: values and parameters ------------------------------------------------------


def test_literals_of_every_kind() -> None:
    parsed = parse_statement(
        "INSERT INTO t VALUE {'s': 'it''s', 'n': -1.50, 'e': 1e3, 't': TRUE, 'f': false, "
        "'z': NULL, 'l': [1, 'a'], 'm': {'k': [ ]}, 'ss': <<'a', 'b'>>, 'ns': <<1, 2>>}"
    )
    assert isinstance(parsed, Insert)
    assert parsed.item == {
        "s": {"S": "it's"},
        "n": {"N": "-1.5"},
        "e": {"N": "1000"},
        "t": {"BOOL": True},
        "f": {"BOOL": False},
        "z": {"NULL": True},
        "l": {"L": [{"N": "1"}, {"S": "a"}]},
        "m": {"M": {"k": {"L": []}}},
        "ss": {"SS": ["a", "b"]},
        "ns": {"NS": ["1", "2"]},
    }


def test_parameters_bind_in_the_order_of_the_question_marks() -> None:
    parsed = parse_statement(
        "UPDATE t SET a = ? WHERE pk = ? AND b = ?", [{"N": "1"}, {"S": "k"}, {"BOOL": True}]
    )
    assert isinstance(parsed, Update)
    action = parsed.plan.actions[0]
    assert isinstance(action, SetAction) and isinstance(action.value, Literal)
    assert action.value.value == {"N": "1"}
    assert isinstance(parsed.where, And)
    assert [_values(c)[2] for c in parsed.where.items] == [{"S": "k"}, {"BOOL": True}]


def test_a_parameter_can_sit_inside_a_map_or_list() -> None:
    parsed = parse_statement("INSERT INTO t VALUE {'pk': ?, 'l': [?]}", [S, {"BS": ["AA=="]}])
    assert isinstance(parsed, Insert)
    assert parsed.item == {"pk": S, "l": {"L": [{"BS": ["AA=="]}]}}


@pytest.mark.parametrize("params", [[], [S, S]])
def test_parameter_count_must_match(params: list[Any]) -> None:
    with pytest.raises(ValidationError, match=PARAMETER_COUNT):
        parse_statement("SELECT * FROM t WHERE a = ?", params)


def test_a_set_literal_must_hold_one_scalar_type() -> None:
    with pytest.raises(ValidationError, match="set literal"):
        parse_statement("INSERT INTO t VALUE {'s': <<1, 'a'>>}")


def test_insert_needs_a_map_with_distinct_names() -> None:
    with pytest.raises(ValidationError, match="map value"):
        parse_statement("INSERT INTO t VALUE [1]")
    with pytest.raises(ValidationError, match="Duplicate attribute name"):
        parse_statement("INSERT INTO t VALUE {'a': 1, 'a': 2}")


def test_insert_value_may_be_one_map_parameter() -> None:
    parsed = parse_statement("INSERT INTO t VALUE ?", [{"M": {"pk": S}}])
    assert isinstance(parsed, Insert) and parsed.item == {"pk": S}


# -- the parser: UPDATE, DELETE, EXISTS -----------------------------------------------------


def test_update_actions_in_order() -> None:
    parsed = parse_statement(
        "UPDATE t SET a = a + 1, b = c - ? SET l = list_append(l, [2]) "
        "SET s = set_add(s, <<'x'>>) SET s2 = set_delete(s2, <<1>>) REMOVE d, e[1] "
        "WHERE pk = 'k' RETURNING MODIFIED NEW *",
        [{"N": "2"}],
    )
    assert isinstance(parsed, Update)
    kinds = [type(a) for a in parsed.plan.actions]
    assert kinds == [
        SetAction,
        SetAction,
        SetAction,
        AddAction,
        DeleteAction,
        RemoveAction,
        RemoveAction,
    ]
    first = parsed.plan.actions[0]
    assert isinstance(first, SetAction) and isinstance(first.value, Arithmetic)
    third = parsed.plan.actions[2]
    assert isinstance(third, SetAction) and isinstance(third.value, Call)
    assert third.value.name == "list_append"
    assert parsed.returning == "MODIFIED NEW"


def test_set_add_must_name_the_attribute_it_sets() -> None:
    with pytest.raises(ValidationError, match="set_add must name"):
        parse_statement("UPDATE t SET a = set_add(b, <<'x'>>) WHERE pk = 'k'")


def test_update_needs_an_action_and_a_where() -> None:
    assert "expected SET or REMOVE" in _malformed("UPDATE t WHERE pk = 'k'")
    assert "expected WHERE" in _malformed("UPDATE t SET a = 1")


def test_delete_returns_only_all_old() -> None:
    parsed = parse_statement("DELETE FROM t WHERE pk = 'k' RETURNING ALL OLD *")
    assert isinstance(parsed, Delete) and parsed.returning == "ALL OLD"
    with pytest.raises(ValidationError, match="RETURNING ALL OLD"):
        parse_statement("DELETE FROM t WHERE pk = 'k' RETURNING ALL NEW *")


def test_exists_and_not_exists_wrap_a_select() -> None:
    parsed = parse_statement("NOT EXISTS(SELECT * FROM t WHERE pk = ?)", [S])
    assert isinstance(parsed, Exists) and parsed.negated
    assert parsed.select.table == "t"


# -- the parser: syntax errors --------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "detail"),
    [
        ("SELEC * FROM t", "Unexpected token 'SELEC' at line 1, column 1"),
        ("SELECT * FROM t WHERE", "Unexpected end of statement"),
        ("SELECT * FROM select", "Unexpected keyword SELECT"),
        ("SELECT * FROM t WHERE a = 'open", 'Unexpected character "\'"'),
        ("SELECT * FROM t extra", "Unexpected token 'extra'"),
        ("SELECT * FROM t WHERE a = 1 AND", "expected a condition"),
        ("SELECT *\nFROM t WHERE a == 1", "line 2, column 17"),
        ('SELECT * FROM ""', "Empty identifier"),
    ],
)
def test_syntax_errors_say_what_and_where(text: str, detail: str) -> None:
    assert detail in _malformed(text)


def test_deep_nesting_is_a_validation_error() -> None:
    assert "nested too deeply" in _malformed("SELECT * FROM t WHERE " + "(" * 500 + "a = 1")


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("SELECT*FROMWHERE t'\"?.[]{}<>=(),:-+1a "))))
def test_any_text_parses_or_raises_a_validation_error(text: str) -> None:
    with contextlib.suppress(ValidationError):
        parse_statement(text, [])


@settings(max_examples=200, deadline=None)
@given(st.text())
def test_any_unicode_parses_or_raises_a_validation_error(text: str) -> None:
    with contextlib.suppress(ValidationError):
        parse_statement("SELECT * FROM t WHERE " + text, [])


# -- WHERE → key range ----------------------------------------------------------------------

SCHEMA = KeySchema("pk", "S", "sk", "N")


def test_an_equality_on_the_partition_key_plans_a_query() -> None:
    conditions = query_conditions(SCHEMA, _where("x = 1 AND pk = 'a' AND sk >= 3"))
    assert conditions is not None
    assert {name: (p.op, p.values) for name, p in conditions.items()} == {
        "pk": ("EQ", ({"S": "a"},)),
        "sk": ("GE", ({"N": "3"},)),
    }


def test_a_value_on_the_left_is_mirrored() -> None:
    conditions = query_conditions(SCHEMA, _where("'a' = pk AND 3 < sk"))
    assert conditions is not None and conditions["sk"].op == "GT"


def test_between_and_begins_with_narrow_the_sort_key() -> None:
    between = query_conditions(SCHEMA, _where("pk = 'a' AND sk BETWEEN 1 AND 4"))
    assert between is not None and between["sk"].op == "BETWEEN"
    text_schema = KeySchema("pk", "S", "sk", "S")
    prefix = query_conditions(text_schema, _where("pk = 'a' AND begins_with(sk, 'x')"))
    assert prefix is not None and prefix["sk"].op == "BEGINS_WITH"


@pytest.mark.parametrize(
    "where",
    [
        "pk = 'a' OR pk = 'b'",
        "pk IN ['a']",
        "pk = 1",  # wrong type: nothing can match, the scan finds nothing
        "pk <> 'a'",
        "sk = 1",
        "pk.x = 'a'",
        "pk = ''",
    ],
)
def test_anything_else_is_a_scan(where: str) -> None:
    assert query_conditions(SCHEMA, _where(where)) is None


def test_a_sort_key_condition_of_the_wrong_type_stays_a_filter() -> None:
    conditions = query_conditions(SCHEMA, _where("pk = 'a' AND sk = 'x' AND begins_with(sk, 1)"))
    assert conditions is not None and set(conditions) == {"pk"}


def test_split_key_takes_the_key_and_leaves_the_condition() -> None:
    key, rest = split_key(SCHEMA, _where("a > 1 AND pk = 'k' AND sk = 2"))
    assert key == {"pk": {"S": "k"}, "sk": {"N": "2"}}
    assert rest is not None and _values(rest) == (">", ("a",), {"N": "1"})


@pytest.mark.parametrize("where", ["pk = 'k'", "pk = 'k' OR sk = 1", "pk = 'k' AND sk > 1"])
def test_split_key_needs_every_key_attribute_pinned(where: str) -> None:
    with pytest.raises(ValidationError, match=NO_KEY_EQUALITY):
        split_key(SCHEMA, _where(where))


# -- statements against a store -------------------------------------------------------------


@pytest.fixture
def tables(tmp_path: FilePath) -> Iterator[Tables]:
    opened = Tables(tmp_path / "headwater.db", Clock())
    yield opened
    opened.close()


@pytest.fixture
def ops(tables: Tables) -> PartiQLOps:
    tables.create("orders")
    tables.control.create_table(
        REGION,
        TableSpec(
            name="events",
            key_schema=(("pk", "HASH"), ("sk", "RANGE")),
            attribute_definitions=(("pk", "S"), ("sk", "N")),
            billing_mode="PAY_PER_REQUEST",
            read_capacity=None,
            write_capacity=None,
            stream=StreamSpec(True, "NEW_AND_OLD_IMAGES"),
        ),
    )
    return PartiQLOps(tables.items, tables.clock)


def _run(ops: PartiQLOps, text: str, *params: Any, on_fail: bool = False) -> Any:
    parsed = parse_statement(text, list(params))
    if isinstance(parsed, Select):
        return ops.select(REGION, parsed)
    assert isinstance(parsed, Insert | Update | Delete)
    return ops.write(REGION, parsed, return_old_on_fail=on_fail).result()


def _events(tables: Tables, table: str = "orders") -> list[str]:
    return [str(r["eventName"]) for r in tables.records(table)]


def _get(tables: Tables, pk: str) -> Any:
    return tables.items.get_item(REGION, "orders", {"pk": {"S": pk}})


def test_insert_update_delete_each_append_their_record(ops: PartiQLOps, tables: Tables) -> None:
    _run(ops, "INSERT INTO orders VALUE {'pk': 'a', 'n': 1}")
    _run(ops, "UPDATE orders SET n = n + 1 WHERE pk = 'a'")
    _run(ops, "DELETE FROM orders WHERE pk = 'a'")
    assert _events(tables) == ["INSERT", "MODIFY", "REMOVE"]
    records = tables.records("orders")
    modify = records[1]["dynamodb"]
    assert isinstance(modify, dict)
    assert modify["OldImage"]["n"] == {"N": "1"} and modify["NewImage"]["n"] == {"N": "2"}


def test_insert_of_an_existing_item_is_a_duplicate(ops: PartiQLOps, tables: Tables) -> None:
    _run(ops, "INSERT INTO orders VALUE {'pk': 'a'}")
    with pytest.raises(DuplicateItem, match="Duplicate primary key exists in table"):
        _run(ops, "INSERT INTO orders VALUE {'pk': 'a', 'x': 1}")
    assert _get(tables, "a") == {"pk": {"S": "a"}}
    assert _events(tables) == ["INSERT"]


def test_insert_checks_the_key(ops: PartiQLOps) -> None:
    with pytest.raises(ValidationError, match="Missing the key pk"):
        _run(ops, "INSERT INTO orders VALUE {'x': 1}")
    with pytest.raises(ValidationError, match="Type mismatch for key pk"):
        _run(ops, "INSERT INTO orders VALUE {'pk': 1}")


def test_update_of_a_missing_item_fails_and_writes_nothing(ops: PartiQLOps, tables: Tables) -> None:
    with pytest.raises(ConditionalCheckFailed):
        _run(ops, "UPDATE orders SET n = 1 WHERE pk = 'nope'")
    assert _get(tables, "nope") is None
    assert _events(tables) == []


def test_extra_where_conditions_guard_the_write(ops: PartiQLOps, tables: Tables) -> None:
    _run(ops, "INSERT INTO orders VALUE {'pk': 'a', 'n': 1}")
    with pytest.raises(ConditionalCheckFailed) as caught:
        _run(ops, "UPDATE orders SET n = 5 WHERE pk = 'a' AND n > 1", on_fail=True)
    assert caught.value.item == {"pk": {"S": "a"}, "n": {"N": "1"}}
    with pytest.raises(ConditionalCheckFailed) as no_item:
        _run(ops, "DELETE FROM orders WHERE pk = 'a' AND n = 2")
    assert no_item.value.item is None
    _run(ops, "DELETE FROM orders WHERE pk = 'a' AND n = 1")
    assert _get(tables, "a") is None
    assert _events(tables) == ["INSERT", "REMOVE"]


def test_an_update_that_changes_nothing_leaves_no_record(ops: PartiQLOps, tables: Tables) -> None:
    _run(ops, "INSERT INTO orders VALUE {'pk': 'a', 'n': 1}")
    _run(ops, "UPDATE orders SET n = 1 WHERE pk = 'a'")
    assert _events(tables) == ["INSERT"]


def test_delete_of_a_missing_item_is_quietly_nothing(ops: PartiQLOps, tables: Tables) -> None:
    outcome = _run(ops, "DELETE FROM orders WHERE pk = 'ghost' RETURNING ALL OLD *")
    assert outcome.items == []
    assert _events(tables) == []


def test_returning_gives_old_new_or_modified_parts(ops: PartiQLOps) -> None:
    _run(ops, "INSERT INTO orders VALUE {'pk': 'a', 'n': 1, 'keep': 'k'}")
    old = _run(ops, "UPDATE orders SET n = 2 WHERE pk = 'a' RETURNING ALL OLD *")
    assert old.items == [{"pk": {"S": "a"}, "n": {"N": "1"}, "keep": {"S": "k"}}]
    new = _run(ops, "UPDATE orders SET n = 3 WHERE pk = 'a' RETURNING MODIFIED NEW *")
    assert new.items == [{"n": {"N": "3"}}]
    gone = _run(ops, "DELETE FROM orders WHERE pk = 'a' RETURNING ALL OLD *")
    assert gone.items[0]["n"] == {"N": "3"}


def test_update_functions_append_and_change_sets(ops: PartiQLOps, tables: Tables) -> None:
    _run(ops, "INSERT INTO orders VALUE {'pk': 'a', 'l': [1], 's': <<'x', 'y'>>}")
    _run(
        ops,
        "UPDATE orders SET l = list_append(l, ?) SET s = set_add(s, <<'z'>>) "
        "SET s = set_delete(s, <<'x'>>) WHERE pk = 'a'",
        {"L": [{"N": "2"}]},
    )
    item = _get(tables, "a")
    assert item["l"] == {"L": [{"N": "1"}, {"N": "2"}]}
    assert sorted(item["s"]["SS"]) == ["y", "z"]


def test_updating_a_key_attribute_is_refused(ops: PartiQLOps) -> None:
    _run(ops, "INSERT INTO orders VALUE {'pk': 'a'}")
    with pytest.raises(ValidationError, match="part of the key"):
        _run(ops, "UPDATE orders SET pk = 'b' WHERE pk = 'a'")


def test_a_missing_table_is_not_found(ops: PartiQLOps) -> None:
    with pytest.raises(ResourceNotFound):
        _run(ops, "SELECT * FROM nowhere")
    with pytest.raises(ResourceNotFound):
        _run(ops, "DELETE FROM nowhere WHERE pk = 'a'")


def _fill_events(ops: PartiQLOps) -> None:
    for pk in ("a", "b", "c"):
        for sk in range(4):
            _run(ops, "INSERT INTO events VALUE {'pk': ?, 'sk': ?, 'odd': ?}", *_row(pk, sk))


def _row(pk: str, sk: int) -> list[Any]:
    return [{"S": pk}, {"N": str(sk)}, {"BOOL": sk % 2 == 1}]


def test_select_with_the_partition_pinned_queries(
    ops: PartiQLOps, monkeypatch: pytest.MonkeyPatch
) -> None:
    _fill_events(ops)
    calls: list[str] = []
    original_query, original_scan = TableReads.query, TableReads.scan

    def query(self: TableReads, *args: Any) -> Any:
        calls.append("query")
        return original_query(self, *args)

    def scan(self: TableReads, *args: Any) -> Any:
        calls.append("scan")
        return original_scan(self, *args)

    monkeypatch.setattr(TableReads, "query", query)
    monkeypatch.setattr(TableReads, "scan", scan)
    by_query = _run(ops, "SELECT sk FROM events WHERE pk = 'b' AND sk > 0 AND odd = true")
    by_scan = _run(
        ops, "SELECT sk FROM events WHERE (pk = 'b' OR pk = 'none') AND sk > 0 AND odd = true"
    )
    assert calls == ["query", "scan"]
    assert by_query.items == [{"sk": {"N": "1"}}, {"sk": {"N": "3"}}]
    assert sorted(i["sk"]["N"] for i in by_scan.items) == ["1", "3"]


def test_order_by_desc_reads_the_partition_backwards(ops: PartiQLOps) -> None:
    _fill_events(ops)
    page = _run(ops, "SELECT sk FROM events WHERE pk = 'a' ORDER BY sk DESC")
    assert [i["sk"]["N"] for i in page.items] == ["3", "2", "1", "0"]
    with pytest.raises(ValidationError, match=ORDER_WITHOUT_WHERE):
        _run(ops, "SELECT * FROM events ORDER BY sk")
    with pytest.raises(ValidationError, match="ORDER BY can only name a key attribute"):
        _run(ops, "SELECT * FROM events WHERE pk = 'a' ORDER BY odd")


def test_limit_counts_items_evaluated_and_pages_resume(ops: PartiQLOps) -> None:
    _fill_events(ops)
    statement = _select("SELECT sk FROM events WHERE pk = 'c' AND odd = true")
    first = ops.select(REGION, statement, limit=2)
    assert first.items == [{"sk": {"N": "1"}}]
    assert first.last_key == {"pk": {"S": "c"}, "sk": {"N": "1"}}
    second = ops.select(REGION, statement, limit=2, start_key=first.last_key)
    assert second.items == [{"sk": {"N": "3"}}]
    assert second.last_key == {"pk": {"S": "c"}, "sk": {"N": "3"}}
    third = ops.select(REGION, statement, limit=2, start_key=second.last_key)
    assert (third.items, third.last_key) == ([], None)


def test_select_from_an_index_is_not_emulated_yet(ops: PartiQLOps) -> None:
    with pytest.raises((NotEmulated, ValidationError)):
        _run(ops, 'SELECT * FROM "events"."by_odd"')


def test_batch_writes_succeed_or_fail_one_by_one(ops: PartiQLOps, tables: Tables) -> None:
    _run(ops, "INSERT INTO orders VALUE {'pk': 'dup'}")
    statements: list[Any] = [
        (parse_statement("INSERT INTO orders VALUE {'pk': 'new'}"), False),
        (parse_statement("INSERT INTO orders VALUE {'pk': 'dup'}"), False),
        (parse_statement("UPDATE orders SET x = 1 WHERE pk = 'ghost'"), False),
        (ValidationError("bad statement"), False),
        (parse_statement("DELETE FROM orders WHERE pk = 'dup'"), False),
    ]
    results = ops.batch_write(REGION, statements).result()
    errors = [type(r.error).__name__ if r.error else None for r in results]
    assert errors == [None, "DuplicateItem", "ConditionalCheckFailed", "ValidationError", None]
    assert _get(tables, "new") is not None and _get(tables, "dup") is None
    assert _events(tables) == ["INSERT", "INSERT", "REMOVE"]


def test_batch_reads_need_the_full_key(ops: PartiQLOps) -> None:
    _fill_events(ops)
    statements: list[Any] = [
        (_select("SELECT odd FROM events WHERE pk = 'a' AND sk = 1"), False),
        (_select("SELECT * FROM events WHERE pk = 'a' AND sk = 9"), False),
        (_select("SELECT * FROM events WHERE pk = 'a'"), False),
        (_select("SELECT * FROM events WHERE pk = 'a' AND sk = 2 AND odd = true"), True),
    ]
    results = ops.batch_get(REGION, statements)
    assert results[0].item == {"odd": {"BOOL": True}}
    assert results[1].item is None and results[1].error is None
    assert isinstance(results[2].error, ValidationError)
    assert results[3].item is None and results[3].units == 1.0


def test_a_transaction_is_all_or_nothing(ops: PartiQLOps, tables: Tables) -> None:
    for pk in ("taken", "held", "seen", "there"):
        _run(ops, "INSERT INTO orders VALUE {'pk': ?, 'n': 1}", {"S": pk})
    statements: list[Any] = [
        (parse_statement("INSERT INTO orders VALUE {'pk': 'fresh'}"), False),
        (parse_statement("INSERT INTO orders VALUE {'pk': 'taken'}"), False),
        (parse_statement("UPDATE orders SET n = 2 WHERE pk = 'held' AND n = 7"), True),
        (parse_statement("EXISTS(SELECT * FROM orders WHERE pk = 'seen')"), False),
        (parse_statement("NOT EXISTS(SELECT * FROM orders WHERE pk = 'there')"), False),
    ]
    with pytest.raises(TransactionCanceled) as caught:
        ops.transact_write(REGION, statements).result()
    reasons = [(r.code, r.item) for r in caught.value.reasons]
    assert reasons == [
        ("None", None),
        ("DuplicateItem", None),
        ("ConditionalCheckFailed", {"pk": {"S": "held"}, "n": {"N": "1"}}),
        ("None", None),
        ("ConditionalCheckFailed", None),
    ]
    assert _get(tables, "fresh") is None
    assert _get(tables, "held")["n"] == {"N": "1"}
    assert _events(tables) == ["INSERT"] * 4


def test_a_transaction_that_passes_writes_every_item(ops: PartiQLOps, tables: Tables) -> None:
    _run(ops, "INSERT INTO orders VALUE {'pk': 'b', 'n': 1}")
    _run(ops, "INSERT INTO orders VALUE {'pk': 'c', 'n': 1}")
    statements: list[Any] = [
        (parse_statement("INSERT INTO orders VALUE {'pk': 'a'}"), False),
        (parse_statement("UPDATE orders SET n = n + 1 WHERE pk = 'b'"), False),
        (parse_statement("EXISTS(SELECT * FROM orders WHERE pk = 'c' AND n = 1)"), False),
        (parse_statement("DELETE FROM orders WHERE pk = 'c2'"), False),
    ]
    outcome = ops.transact_write(REGION, statements, measure=True).result()
    assert [(c.table, c.read, c.write) for c in outcome.capacity] == [("orders", 2.0, 6.0)]
    assert _get(tables, "b")["n"] == {"N": "2"}
    assert _events(tables) == ["INSERT", "INSERT", "INSERT", "MODIFY"]


def test_transactional_reads_are_keyed_gets(ops: PartiQLOps) -> None:
    _fill_events(ops)
    got = ops.transact_get(
        REGION,
        [
            _select("SELECT odd FROM events WHERE pk = 'a' AND sk = 3"),
            _select("SELECT * FROM events WHERE pk = 'z' AND sk = 3"),
        ],
    )
    assert got.items == [{"odd": {"BOOL": True}}, None]
    with pytest.raises(ValidationError, match="only have equality conditions"):
        ops.transact_get(
            REGION, [_select("SELECT * FROM events WHERE pk = 'a' AND sk = 1 AND x = 1")]
        )


def test_partition_choices_need_every_value_of_the_key_type() -> None:
    schema = KeySchema("pk", "S", "sk", "N")
    assert partition_choices(schema, _where("pk IN ['a', 'b', 'a'] AND sk > 1")) == [
        {"S": "a"},
        {"S": "b"},
    ]
    assert partition_choices(schema, _where("pk IN ['a', 1]")) is None  # a number: no
    assert partition_choices(schema, _where("sk IN [1, 2]")) is None  # not the partition key
    assert partition_choices(schema, _where("pk IN ['a'] OR sk = 1")) is None  # not top-level
