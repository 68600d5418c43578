"""Secondary indexes in the table layer, over a real Store: definitions and their rules, the
rows every write path keeps, backfill and drop in chunks, and restart."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from headwater.clock import Clock
from headwater.errors import LimitExceeded, ResourceNotFound, ValidationError
from headwater.expressions import ExpressionParams, apply_update, parse_update
from headwater.expressions.key_condition import KeyPredicate
from headwater.model.keys import KeySchema
from headwater.storage import index_rows
from headwater.tables import index_rules, indexes
from headwater.tables.batch import WriteSpec
from headwater.tables.catalog import TableInfo
from headwater.tables.control import TableSpec
from headwater.tables.index_rules import IndexSpec, IndexUpdate
from headwater.tables.indexes import IndexDef
from headwater.tables.query import QueryRequest, ScanRequest, TableReads
from headwater.tables.transactions import WriteAction
from headwater.tables.ttl import TimeToLive
from tests.unit.tables.tables_world import REGION, Tables

Item = dict[str, Any]
TABLE_KEYS = KeySchema("pk", "S", "sk", "S")
BY_G = IndexSpec("by-g", (("g", "HASH"), ("n", "RANGE")), "INCLUDE", ("x",))
BY_L = IndexSpec("by-l", (("pk", "HASH"), ("l", "RANGE")), "KEYS_ONLY")
DEFS = (("pk", "S"), ("sk", "S"), ("g", "S"), ("n", "N"), ("l", "N"))


@pytest.fixture
def world(tmp_path: Path) -> Iterator[Tables]:
    opened = Tables(tmp_path / "headwater.db", Clock())
    yield opened
    opened.close()


def _create(world: Tables, name: str = "things", **extra: Any) -> TableInfo:
    spec = TableSpec(
        name=name,
        key_schema=(("pk", "HASH"), ("sk", "RANGE")),
        attribute_definitions=extra.pop("defs", DEFS),
        billing_mode="PAY_PER_REQUEST",
        read_capacity=None,
        write_capacity=None,
        stream=None,
        local_indexes=extra.pop("local", (BY_L,)),
        global_indexes=extra.pop("global_", (BY_G,)),
    )
    return world.control.create_table(REGION, spec)


def _item(sk: str, **attrs: Any) -> Item:
    item: Item = {"pk": {"S": "p"}, "sk": {"S": sk}}
    for name, value in attrs.items():
        item[name] = {"N": str(value)} if isinstance(value, int) else {"S": value}
    return item


def _rows(world: Tables, name: str = "things", index: str = "by-g") -> list[Item]:
    """The stored projected items of one index, in index order."""
    info = world.catalog.get(REGION, name)
    assert info is not None

    def read(conn: Any) -> list[Item]:
        scanned = index_rows.scan_index(conn, info.table_id, index)
        return [orjson.loads(raw) for _hk, raw, _p, _r in scanned]

    return world.store.read(read)


def _sks(rows: list[Item]) -> list[str]:
    return [row["sk"]["S"] for row in rows]


# -- what an index holds --------------------------------------------------------------------


def test_an_item_without_every_index_key_is_not_in_the_index() -> None:
    index = IndexDef("i", True, KeySchema("g", "S", "n", "N"), "ALL")
    assert indexes.entry_key(index, _item("a", g="G", n=1)) is not None
    assert indexes.entry_key(index, _item("a", g="G")) is None
    assert indexes.entry_key(index, _item("a", n=1)) is None


def test_a_value_an_index_cannot_hold_keeps_the_item_out_of_it() -> None:
    index = IndexDef("i", True, KeySchema("g", "S"), "ALL")
    assert indexes.entry_key(index, _item("a", g=5)) is None
    assert indexes.entry_key(index, _item("a", g="")) is None
    assert indexes.entry_key(index, _item("a", g="x" * 2049)) is None
    assert indexes.entry_key(index, _item("a", g="x" * 2048)) is not None


@pytest.mark.parametrize(
    ("projection", "non_key", "kept"),
    [
        ("KEYS_ONLY", (), {"pk", "sk", "g"}),
        ("INCLUDE", ("x", "absent"), {"pk", "sk", "g", "x"}),
        ("ALL", (), {"pk", "sk", "g", "x", "y"}),
    ],
)
def test_projection_keeps_the_keys_and_what_it_names(
    projection: str, non_key: tuple[str, ...], kept: set[str]
) -> None:
    index = IndexDef("i", True, KeySchema("g", "S"), projection, non_key)
    assert set(indexes.project(index, TABLE_KEYS, _item("a", g="G", x="1", y="2"))) == kept


def test_definitions_survive_json() -> None:
    index = IndexDef("i", True, KeySchema("g", "S", "n", "N"), "INCLUDE", ("x",), 3, 4, "CREATING")
    assert IndexDef.from_json(orjson.loads(orjson.dumps(index.to_json()))) == index


# -- CreateTable rules ----------------------------------------------------------------------


def _create_error(
    local: tuple[IndexSpec, ...] | None,
    global_: tuple[IndexSpec, ...] | None,
    defs: tuple[tuple[str, str], ...] = DEFS,
    billing: str = "PAY_PER_REQUEST",
    table_keys: KeySchema = TABLE_KEYS,
) -> str:
    with pytest.raises(ValidationError) as error:
        index_rules.create_indexes(table_keys, defs, billing, local, global_)
    return error.value.message


P = "One or more parameter values were invalid: "


@pytest.mark.parametrize(
    ("local", "global_", "message"),
    [
        ((), None, P + "List of LocalSecondaryIndexes is empty"),
        (None, (), P + "List of GlobalSecondaryIndexes is empty"),
        (
            (IndexSpec("l1", (("pk", "HASH"), ("zz", "RANGE")), "ALL"),),
            None,
            P + "Some index key attributes are not defined in AttributeDefinitions. Keys: [pk, zz],"
            " AttributeDefinitions: [pk, sk, g, n, l]",
        ),
        (
            (IndexSpec("l1", (("pk", "HASH"),), "ALL"),),
            None,
            P + "Index KeySchema does not have a range key for index: l1",
        ),
        (
            (IndexSpec("l1", (("g", "HASH"), ("l", "RANGE")), "ALL"),),
            None,
            P + "Index KeySchema does not have the same leading hash key as table KeySchema for "
            "index: l1. index hash key: g, table hash key: pk",
        ),
        (
            (IndexSpec("l1", (("pk", "HASH"), ("pk", "RANGE")), "ALL"),),
            None,
            "Both the Hash Key and the Range Key element in the KeySchema have the same name",
        ),
        (
            None,
            (IndexSpec("g1", (("g", "RANGE"),), "ALL"),),
            "Invalid KeySchema: The first KeySchemaElement is not a HASH key type",
        ),
        (
            None,
            (IndexSpec("g1", (("g", "HASH"), ("n", "HASH")), "ALL"),),
            "Invalid KeySchema: The second KeySchemaElement is not a RANGE key type",
        ),
        (None, (IndexSpec("g1", (("g", "HASH"),), None),), P + "Unknown ProjectionType: null"),
        (
            None,
            (IndexSpec("g1", (("g", "HASH"),), "ALL", ("x",)),),
            P + "ProjectionType is ALL, but NonKeyAttributes is specified",
        ),
        (
            (IndexSpec("l1", (("pk", "HASH"), ("l", "RANGE")), "KEYS_ONLY", ("x",)),),
            None,
            P + "ProjectionType is KEYS_ONLY, but NonKeyAttributes is specified",
        ),
        (
            None,
            (IndexSpec("g1", (("g", "HASH"),), "INCLUDE"),),
            P + "ProjectionType is INCLUDE, but NonKeyAttributes is not specified",
        ),
        (
            (BY_L,),
            (IndexSpec("by-l", (("g", "HASH"),), "ALL"),),
            P + "Duplicate index name: by-l",
        ),
        (
            None,
            (IndexSpec("g1", (("g", "HASH"),), "ALL", None, 1, 1),),
            P + "ProvisionedThroughput should not be specified for index: g1 when BillingMode "
            "is PAY_PER_REQUEST",
        ),
        (
            tuple(IndexSpec(f"l{i}", (("pk", "HASH"), ("l", "RANGE")), "ALL") for i in range(6)),
            None,
            P + "Number of LocalSecondaryIndexes exceeds per-table limit of 5",
        ),
        (
            None,
            tuple(IndexSpec(f"g{i}", (("g", "HASH"),), "ALL") for i in range(21)),
            P + "GlobalSecondaryIndex count exceeds the per-table limit of 20",
        ),
        (
            None,
            (IndexSpec("g1", (("g", "HASH"),), "ALL"),),
            P + "Some AttributeDefinitions are not used. AttributeDefinitions: [pk, sk, g, n, l],"
            " keys used: [pk, sk, g]",
        ),
    ],
)
def test_create_table_index_rules(
    local: tuple[IndexSpec, ...] | None, global_: tuple[IndexSpec, ...] | None, message: str
) -> None:
    assert _create_error(local, global_) == message


def test_a_local_index_needs_a_table_with_a_sort_key() -> None:
    assert _create_error(
        (BY_L,), None, defs=(("pk", "S"), ("l", "N")), table_keys=KeySchema("pk", "S")
    ) == (
        P + "Table KeySchema does not have a range key, which is required when specifying a "
        "LocalSecondaryIndex"
    )


def test_a_provisioned_table_needs_throughput_for_each_global_index() -> None:
    spec = IndexSpec("g1", (("g", "HASH"),), "ALL")
    defs = (("pk", "S"), ("sk", "S"), ("g", "S"))
    assert _create_error(None, (spec,), defs=defs, billing="PROVISIONED") == (
        P + "ProvisionedThroughput is not specified for index: g1"
    )
    made = index_rules.create_indexes(
        TABLE_KEYS,
        defs,
        "PROVISIONED",
        None,
        (IndexSpec("g1", (("g", "HASH"),), "ALL", None, 3, 4),),
    )
    assert (made[0].read_capacity, made[0].write_capacity) == (3, 4)


def test_create_table_builds_the_definitions(world: Tables) -> None:
    info = _create(world)
    by_l, by_g = info.indexes
    assert (by_l.is_global, by_l.key_schema) == (False, KeySchema("pk", "S", "l", "N"))
    assert (by_g.is_global, by_g.key_schema) == (True, KeySchema("g", "S", "n", "N"))
    assert by_g.non_key_attributes == ("x",)
    assert info.index_arn("by-g").endswith(":table/things/index/by-g")


# -- the write paths keep the rows ------------------------------------------------------------


def test_put_update_and_delete_keep_the_index(world: Tables) -> None:
    _create(world)
    items = world.items
    items.put_item(REGION, "things", _item("a", g="G", n=2, x="1", y="2")).result()
    items.put_item(REGION, "things", _item("b", g="G", n=1)).result()
    items.put_item(REGION, "things", _item("c", y="no index keys")).result()
    assert _sks(_rows(world)) == ["b", "a"]
    assert _rows(world)[1] == _item("a", g="G", n=2, x="1")  # INCLUDE x, not y
    plan = parse_update("SET n = :n", ExpressionParams(None, {":n": {"N": "3"}}))
    items.update_item(
        REGION,
        "things",
        {"pk": {"S": "p"}, "sk": {"S": "b"}},
        apply=lambda old, key: apply_update(plan, old, key, {"pk", "sk"}),
    ).result()
    assert _sks(_rows(world)) == ["a", "b"]
    items.delete_item(REGION, "things", {"pk": {"S": "p"}, "sk": {"S": "a"}}).result()
    assert _sks(_rows(world)) == ["b"]
    assert _sks(_rows(world, index="by-l")) == []


def test_removing_an_index_key_takes_the_item_out(world: Tables) -> None:
    _create(world)
    world.items.put_item(REGION, "things", _item("a", g="G", n=1)).result()
    world.items.put_item(REGION, "things", _item("a", g="G")).result()
    assert _rows(world) == []


def test_batch_writes_and_transactions_keep_the_index(world: Tables) -> None:
    _create(world)
    world.batch.batch_write(
        REGION,
        [WriteSpec("things", [("put", _item("a", g="G", n=1)), ("put", _item("b", g="G", n=2))])],
    ).result()
    assert _sks(_rows(world)) == ["a", "b"]
    world.tx.write(
        REGION,
        [
            WriteAction("Put", "things", item=_item("c", g="G", n=0)),
            WriteAction("Delete", "things", key={"pk": {"S": "p"}, "sk": {"S": "a"}}),
        ],
    ).result()
    assert _sks(_rows(world)) == ["c", "b"]
    world.batch.batch_write(
        REGION, [WriteSpec("things", [("delete", {"pk": {"S": "p"}, "sk": {"S": "b"}})])]
    ).result()
    assert _sks(_rows(world)) == ["c"]


def test_a_bad_index_key_in_a_batch_writes_nothing(world: Tables) -> None:
    _create(world)
    future = world.batch.batch_write(
        REGION,
        [WriteSpec("things", [("put", _item("a", g="G", n=1)), ("put", _item("b", g=7))])],
    )
    with pytest.raises(
        ValidationError, match="Type mismatch for Index Key g Expected: S Actual: N"
    ):
        future.result()
    assert _rows(world) == []
    assert world.items.get_item(REGION, "things", {"pk": {"S": "p"}, "sk": {"S": "a"}}) is None


def test_ttl_deletes_keep_the_index(world: Tables) -> None:
    _create(world)
    ttl = TimeToLive(world.store, world.catalog, world.streams, world.clock)
    ttl.install()
    ttl.update(REGION, "things", enabled=True, attribute="exp")
    item = {**_item("a", g="G", n=1), "exp": {"N": str(int(world.clock.time()) - 10)}}
    world.items.put_item(REGION, "things", item).result()
    assert len(_rows(world)) == 1
    info = world.catalog.get(REGION, "things")
    assert info is not None
    keys, _ = ttl.expired_page(info, "exp", world.clock.time(), None, 10)
    assert ttl.delete_expired(info, "exp", keys).result() == 1
    assert _rows(world) == []


def test_delete_table_removes_the_index_rows(world: Tables) -> None:
    info = _create(world)
    world.items.put_item(REGION, "things", _item("a", g="G", n=1, l=1)).result()
    world.control.delete_table(REGION, "things")
    assert world.store.read(lambda conn: index_rows.stats(conn, info.table_id)) == {}


# -- checks on writes -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("item", "message"),
    [
        (
            _item("a", g=1),
            P + "Type mismatch for Index Key g Expected: S Actual: N IndexName: by-g",
        ),
        (
            {**_item("a"), "l": {"NULL": True}},
            P + "Type mismatch for Index Key l Expected: N Actual: NULL IndexName: by-l",
        ),
        (
            _item("a", g=""),
            "One or more parameter values are not valid. A value specified for a secondary index "
            "key is not supported. The AttributeValue for a key attribute cannot contain an empty "
            "string value. IndexName: by-g, IndexKey: g",
        ),
        (
            _item("a", g="x" * 2049),
            P + "Size of hashkey has exceeded the maximum size limit of2048 bytes",
        ),
    ],
)
def test_put_refuses_index_keys_an_index_cannot_hold(
    world: Tables, item: Item, message: str
) -> None:
    _create(world)
    with pytest.raises(ValidationError) as error:
        world.items.put_item(REGION, "things", item)
    assert error.value.message == message


def test_update_plans_are_checked_against_index_keys(world: Tables) -> None:
    info = _create(world)

    def check(text: str, values: Item | None = None) -> str:
        plan = parse_update(text, ExpressionParams(None, values))
        with pytest.raises(ValidationError) as error:
            indexes.check_update_plan(info, plan)
        return error.value.message

    assert check("SET g = :v", {":v": {"N": "1"}}) == (
        P + "Type mismatch for Index Key g Expected: S Actual: N IndexName: by-g"
    )
    assert check("SET g = a + :v", {":v": {"N": "1"}}).startswith(P + "Type mismatch")
    assert check("SET g.deep = :v", {":v": {"S": "1"}}) == (
        "Key attributes must be scalars; list random access '[]' and map lookup '.' are not "
        "allowed: IndexKey: g"
    )
    assert check("SET y = l[0]").endswith("IndexKey: l")
    indexes.check_update_plan(info, parse_update("SET g = src", ExpressionParams(None, None)))


def test_an_update_computing_a_wrong_index_type_is_refused(world: Tables) -> None:
    _create(world)
    world.items.put_item(REGION, "things", _item("a", src=5)).result()
    plan = parse_update("SET g = src", ExpressionParams(None, None))
    future = world.items.update_item(
        REGION,
        "things",
        {"pk": {"S": "p"}, "sk": {"S": "a"}},
        apply=lambda old, key: apply_update(plan, old, key, {"pk", "sk"}),
    )
    with pytest.raises(ValidationError, match="^" + indexes.UPDATE_TYPE + "$"):
        future.result()


# -- reads ----------------------------------------------------------------------------------


def test_query_pages_carry_table_and_index_keys(world: Tables) -> None:
    _create(world)
    for sk in "dcba":
        world.items.put_item(REGION, "things", _item(sk, g="G", n=1)).result()
    reads = TableReads(world.store, world.catalog)
    condition = {"g": KeyPredicate("EQ", ({"S": "G"},))}
    seen: list[str] = []
    start = None
    while True:
        page = reads.query(
            REGION,
            "things",
            QueryRequest(conditions=condition, index_name="by-g", limit=3, start_key=start),
        )
        seen.extend(_sks(page.items))
        if page.last_key is None:
            break
        assert set(page.last_key) == {"pk", "sk", "g", "n"}
        start = page.last_key
    assert seen == ["a", "b", "c", "d"]  # equal index keys: table key order


def test_scan_of_an_index_splits_into_segments(world: Tables) -> None:
    _create(world)
    for i in range(20):
        world.items.put_item(REGION, "things", _item(f"s{i:02}", g=f"G{i}", n=i)).result()
    reads = TableReads(world.store, world.catalog)
    found: list[str] = []
    for segment in range(3):
        page = reads.scan(
            REGION, "things", ScanRequest(index_name="by-g", segment=segment, total_segments=3)
        )
        found.extend(_sks(page.items))
    assert sorted(found) == [f"s{i:02}" for i in range(20)]


# -- UpdateTable: create with backfill, delete -----------------------------------------------


def _add_gsi(world: Tables, name: str = "by-y", attr: str = "y") -> TableInfo:
    return world.control.update_table(
        REGION,
        "things",
        stream=None,
        billing_mode=None,
        read_capacity=None,
        write_capacity=None,
        deletion_protection=None,
        index_updates=(
            IndexUpdate(("Create",), name, IndexSpec(name, ((attr, "HASH"),), "KEYS_ONLY")),
        ),
        attribute_definitions=((attr, "S"),),
    )


def _drop_gsi(world: Tables, name: str) -> TableInfo:
    return world.control.update_table(
        REGION,
        "things",
        stream=None,
        billing_mode=None,
        read_capacity=None,
        write_capacity=None,
        deletion_protection=None,
        index_updates=(IndexUpdate(("Delete",), name),),
    )


def test_a_new_index_is_backfilled_in_chunks_with_writes_in_between(world: Tables) -> None:
    _create(world)
    world.control.index_builder.chunk = 3
    for i in range(10):
        world.items.put_item(REGION, "things", _item(f"s{i}", y=f"Y{i}")).result()
    world.items.put_item(REGION, "things", _item("wrong", y=5)).result()  # skipped, not refused
    world.items.put_item(REGION, "things", _item("none")).result()
    info = _add_gsi(world)
    created = indexes.find(info, "by-y")
    assert created is not None and created.status == "CREATING" and created.backfilling
    world.items.put_item(REGION, "things", _item("late", y="Z")).result()
    assert world.control.index_builder.wait_idle(10)
    final = world.catalog.get(REGION, "things")
    assert final is not None
    done = indexes.find(final, "by-y")
    assert done is not None and (done.status, done.backfilling) == ("ACTIVE", False)
    assert sorted(_sks(_rows(world, index="by-y"))) == sorted(
        [f"s{i}" for i in range(10)] + ["late"]
    )
    assert ("y", "S") in final.attribute_definitions
    with pytest.raises(ValidationError, match="Type mismatch for Index Key y"):
        world.items.put_item(REGION, "things", _item("again", y=5))


def test_a_building_index_cannot_be_read_and_blocks_another_change(world: Tables) -> None:
    _create(world)
    world.control.index_builder.schedule = lambda info, index: None  # type: ignore[method-assign]
    _add_gsi(world)  # stays CREATING: nothing builds it
    reads = TableReads(world.store, world.catalog)
    with pytest.raises(ValidationError, match=r"^Cannot read from backfilling global secondary"):
        reads.scan(REGION, "things", ScanRequest(index_name="by-y"))
    with pytest.raises(LimitExceeded, match="Only 1 online index"):
        _drop_gsi(world, "by-g")


def test_one_index_change_at_a_time(world: Tables) -> None:
    _create(world)
    with pytest.raises(LimitExceeded, match="Only 1 online index"):
        index_rules.check_update_request(
            [IndexUpdate(("Delete",), "a"), IndexUpdate(("Delete",), "b")]
        )


def test_dropping_an_index_removes_its_rows_then_its_definition(world: Tables) -> None:
    _create(world)
    world.control.index_builder.chunk = 2
    for i in range(5):
        world.items.put_item(REGION, "things", _item(f"s{i}", g="G", n=i)).result()
    info = _drop_gsi(world, "by-g")
    dropping = indexes.find(info, "by-g")
    assert dropping is not None and dropping.status == "DELETING"
    assert world.control.index_builder.wait_idle(10)
    final = world.catalog.get(REGION, "things")
    assert final is not None and indexes.find(final, "by-g") is None
    assert _rows(world) == []
    with pytest.raises(ResourceNotFound):
        _drop_gsi(world, "by-g")


def test_an_interrupted_backfill_resumes_after_a_restart(world: Tables) -> None:
    _create(world)
    for i in range(4):
        world.items.put_item(REGION, "things", _item(f"s{i}", y=f"Y{i}")).result()
    # Stop the builder before it runs: the index stays CREATING on disk.
    world.control.index_builder.schedule = lambda info, index: None  # type: ignore[method-assign]
    _add_gsi(world)
    world.reopen()
    assert world.control.index_builder.wait_idle(10)
    info = world.catalog.get(REGION, "things")
    assert info is not None
    by_y = indexes.find(info, "by-y")
    assert by_y is not None and by_y.status == "ACTIVE"
    assert len(_rows(world, index="by-y")) == 4


def test_a_new_index_may_not_redefine_an_attribute(world: Tables) -> None:
    _create(world)
    with pytest.raises(ValidationError) as error:
        world.control.update_table(
            REGION,
            "things",
            stream=None,
            billing_mode=None,
            read_capacity=None,
            write_capacity=None,
            deletion_protection=None,
            index_updates=(
                IndexUpdate(("Create",), "by-n", IndexSpec("by-n", (("n", "HASH"),), "ALL")),
            ),
            attribute_definitions=(("n", "S"),),
        )
    assert error.value.message == (
        P + "Attributes cannot be redefined. Please check that your attribute has the same type "
        "as previously defined. Existing schema: Schema:[SchemaElement: key{n:N:RANGE}] "
        "New schema: Schema:[SchemaElement: key{n:S:HASH}]"
    )
