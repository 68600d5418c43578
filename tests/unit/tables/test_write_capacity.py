"""Write capacity units per table and per secondary index, and item collection metrics, in the
table layer over a real Store; and that a write not asked for units sizes nothing."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from headwater.clock import Clock
from headwater.expressions import ExpressionParams, apply_update, parse_update
from headwater.model.capacity import Capacity
from headwater.tables.batch import WriteSpec
from headwater.tables.control import TableSpec
from headwater.tables.index_rules import IndexSpec
from headwater.tables.item_collections import CollectionMetrics
from headwater.tables.items import WriteResult
from headwater.tables.transactions import WriteAction
from tests.unit.tables.tables_world import REGION, Tables

Item = dict[str, Any]
BY_G = IndexSpec("by-g", (("g", "HASH"),), "KEYS_ONLY")
BY_A = IndexSpec("by-a", (("a", "HASH"),), "ALL")
BY_L = IndexSpec("by-l", (("pk", "HASH"), ("l", "RANGE")), "INCLUDE", ("note",))
DEFS = (("pk", "S"), ("sk", "S"), ("g", "S"), ("a", "S"), ("l", "S"))


@pytest.fixture
def world(tmp_path: Path) -> Iterator[Tables]:
    opened = Tables(tmp_path / "headwater.db", Clock())
    spec = TableSpec(
        name="things",
        key_schema=(("pk", "HASH"), ("sk", "RANGE")),
        attribute_definitions=DEFS,
        billing_mode="PAY_PER_REQUEST",
        read_capacity=None,
        write_capacity=None,
        stream=None,
        local_indexes=(BY_L,),
        global_indexes=(BY_G, BY_A),
    )
    opened.control.create_table(REGION, spec)
    yield opened
    opened.close()


def _item(sk: str, **attrs: str) -> Item:
    item: Item = {"pk": {"S": "p"}, "sk": {"S": sk}}
    item.update({name: {"S": value} for name, value in attrs.items()})
    return item


def _key(sk: str) -> Item:
    return {"pk": {"S": "p"}, "sk": {"S": sk}}


def _put(world: Tables, item: Item, *, metrics: bool = False) -> WriteResult:
    return world.items.put_item(REGION, "things", item, measure=True, metrics=metrics).result()


def _update(world: Tables, sk: str, text: str, **values: str) -> Capacity | None:
    params = ExpressionParams(None, {f":{k}": {"S": v} for k, v in values.items()} or None)
    plan = parse_update(text, params)
    result = world.items.update_item(
        REGION,
        "things",
        _key(sk),
        apply=lambda old, key: apply_update(plan, old, key, {"pk", "sk"}),
        measure=True,
    ).result()
    return result.capacity


def test_an_item_in_no_index_costs_the_table_alone(world: Tables) -> None:
    assert _put(world, _item("a", v="x")).capacity == Capacity("things", write=1.0)


def test_entering_indexes_costs_one_write_each_of_the_entry_size(world: Tables) -> None:
    # by-a projects ALL: its entry is the whole item, 1.5 KB (2 units); by-g keeps the keys only.
    spent = _put(world, _item("a", g="G", a="A", v="x" * 1500)).capacity
    assert spent == Capacity(
        "things", write=2.0, global_indexes={"by-g": 1.0, "by-a": 2.0}, local_indexes={}
    )
    assert spent.total == 5.0


def test_an_index_key_change_costs_two_writes(world: Tables) -> None:
    _put(world, _item("a", g="G"))
    spent = _update(world, "a", "SET g = :g", g="H")
    assert spent == Capacity("things", write=1.0, global_indexes={"by-g": 2.0})


def test_a_change_outside_the_projection_costs_no_index_write(world: Tables) -> None:
    _put(world, _item("a", g="G", l="L", note="n"))
    assert _update(world, "a", "SET v = :v", v="new") == Capacity("things", write=1.0)


def test_a_projected_attribute_change_costs_one_write(world: Tables) -> None:
    _put(world, _item("a", g="G", a="A", l="L", note="n"))
    spent = _update(world, "a", "SET note = :n", n="changed")
    # by-a (ALL) and by-l (INCLUDE note) hold note; by-g (KEYS_ONLY) does not.
    assert spent == Capacity(
        "things", write=1.0, global_indexes={"by-a": 1.0}, local_indexes={"by-l": 1.0}
    )


def test_leaving_an_index_costs_one_write(world: Tables) -> None:
    _put(world, _item("a", g="G", l="L"))
    spent = _update(world, "a", "REMOVE g")
    assert spent == Capacity("things", write=1.0, global_indexes={"by-g": 1.0})
    result = world.items.delete_item(REGION, "things", _key("a"), measure=True).result()
    assert result.capacity == Capacity("things", write=1.0, local_indexes={"by-l": 1.0})


def test_the_same_item_again_costs_the_table_write_only(world: Tables) -> None:
    _put(world, _item("a", g="G", a="A"))
    assert _put(world, _item("a", g="G", a="A")).capacity == Capacity("things", write=1.0)


def test_batch_and_transaction_writes_count_index_units(world: Tables) -> None:
    spec = WriteSpec("things", [("put", _item("a", g="G")), ("put", _item("b", a="A"))])
    outcome = world.batch.batch_write(REGION, [spec], measure=True).result()
    assert outcome.capacity == {
        "things": Capacity("things", write=2.0, global_indexes={"by-g": 1.0, "by-a": 1.0})
    }
    actions = [WriteAction("Delete", "things", key=_key("a"))]
    tx = world.tx.write(REGION, actions, measure=True).result()
    # The table's write is transactional (doubled); the index write is not (INFERRED).
    assert tx.capacity == [Capacity("things", write=2.0, global_indexes={"by-g": 1.0})]


def test_without_measure_nothing_is_sized(world: Tables, monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(item: Item) -> int:
        raise AssertionError("sized an item without being asked for units")

    monkeypatch.setattr("headwater.tables.indexes.item_size", refuse)
    monkeypatch.setattr("headwater.model.capacity.item_size", refuse)
    items = world.items
    put = items.put_item(REGION, "things", _item("a", g="G", a="A", l="L")).result()
    plan = parse_update("SET g = :g", ExpressionParams(None, {":g": {"S": "H"}}))
    updated = items.update_item(
        REGION, "things", _key("a"), apply=lambda old, key: apply_update(plan, old, key, {"pk"})
    ).result()
    deleted = items.delete_item(REGION, "things", _key("a")).result()
    assert [r.capacity for r in (put, updated, deleted)] == [None, None, None]
    assert [r.collection for r in (put, updated, deleted)] == [None, None, None]


def test_item_collection_metrics_only_for_tables_with_local_indexes(world: Tables) -> None:
    result = _put(world, _item("a", l="L"), metrics=True)
    assert result.collection == CollectionMetrics("things", {"pk": {"S": "p"}}, 0.0, 1.0)
    world.create("plain", stream=False)
    plain = world.items.put_item(REGION, "plain", {"pk": {"S": "a"}}, metrics=True).result()
    assert plain.collection is None and plain.capacity is None
