"""Query and Scan pages over a real store: limits, the 1 MB page, segments, sizes."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from headwater.errors import ResourceNotFound, ValidationError
from headwater.expressions.ast import Compare, Literal, Projection
from headwater.expressions.ast import Path as DocPath
from headwater.expressions.key_condition import KeyPredicate
from headwater.model.keys import KeySchema, encode_key
from headwater.model.size import item_size
from headwater.model.values import validate_item
from headwater.storage import rows
from headwater.storage.store import Store, Txn
from headwater.tables.catalog import Catalog, TableInfo
from headwater.tables.query import (
    MAX_PAGE_BYTES,
    OverBudget,
    QueryRequest,
    ScanRequest,
    TableReads,
    segment_of,
    stored_item_size,
)

REGION = "us-east-1"
PK_A = {"pk": KeyPredicate("EQ", ({"S": "a"},))}


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    opened = Store(tmp_path / "headwater.db")
    yield opened
    opened.close()


@pytest.fixture
def reads(store: Store) -> TableReads:
    catalog = Catalog()
    catalog.put(
        TableInfo(
            table_id=7,
            region=REGION,
            account="000000000000",
            name="things",
            key_schema=KeySchema("pk", "S", "sk", "N"),
            attribute_definitions=(("pk", "S"), ("sk", "N")),
            created=0.0,
        )
    )
    return TableReads(store, catalog)


def put(store: Store, *items: dict[str, Any]) -> None:
    def job(txn: Txn) -> None:
        for raw in items:
            item = validate_item(raw)
            hk, rk = encode_key(item["pk"]), encode_key(item["sk"])
            rows.put_item(txn.conn, 7, hk, rk, orjson.dumps(item))

    store.write(job)


def item(pk: str, sk: int, **extra: Any) -> dict[str, Any]:
    return {"pk": {"S": pk}, "sk": {"N": str(sk)}, **extra}


def sks(items: list[dict[str, Any]]) -> list[str]:
    return [entry["sk"]["N"] for entry in items]


# -- Query -----------------------------------------------------------------------------------


def test_query_reads_one_partition_in_order(store: Store, reads: TableReads) -> None:
    put(store, item("a", 3), item("a", 1), item("b", 2), item("a", 2))
    page = reads.query(REGION, "things", QueryRequest(conditions=PK_A))
    assert sks(page.items) == ["1", "2", "3"]
    assert (page.count, page.scanned, page.last_key) == (3, 3, None)


def test_limit_counts_items_evaluated_before_the_filter(store: Store, reads: TableReads) -> None:
    put(store, *(item("a", i, odd={"BOOL": i % 2 == 1}) for i in range(6)))
    only_odd = Compare("=", DocPath(("odd",)), Literal(":t", {"BOOL": True}))
    page = reads.query(REGION, "things", QueryRequest(conditions=PK_A, filter=only_odd, limit=3))
    assert (page.scanned, page.count, sks(page.items)) == (3, 1, ["1"])
    assert page.last_key == {"pk": {"S": "a"}, "sk": {"N": "2"}}


def test_reaching_the_limit_sets_the_last_key_even_at_the_end(
    store: Store, reads: TableReads
) -> None:
    put(store, item("a", 1), item("a", 2))
    page = reads.query(REGION, "things", QueryRequest(conditions=PK_A, limit=2))
    assert page.last_key == {"pk": {"S": "a"}, "sk": {"N": "2"}}


def test_backward_query_resumes_below_the_start_key(store: Store, reads: TableReads) -> None:
    put(store, *(item("a", i) for i in range(5)))
    start = {"pk": {"S": "a"}, "sk": {"N": "3"}}
    request = QueryRequest(conditions=PK_A, forward=False, start_key=start)
    assert sks(reads.query(REGION, "things", request).items) == ["2", "1", "0"]


def test_page_stops_before_passing_one_megabyte(store: Store, reads: TableReads) -> None:
    big = "x" * 300_000
    put(store, *(item("a", i, blob={"S": big}) for i in range(5)))
    page = reads.query(REGION, "things", QueryRequest(conditions=PK_A, count_only=True))
    assert page.scanned == 3 and page.count == 3 and page.items == []
    assert page.last_key == {"pk": {"S": "a"}, "sk": {"N": "2"}}
    assert MAX_PAGE_BYTES - 300_100 < page.read_bytes <= MAX_PAGE_BYTES


# -- pages of stored JSON (``raw``) and row budgets --------------------------------------------


@pytest.mark.parametrize(
    "options",
    [{}, {"limit": 2}, {"limit": 9}, {"forward": False, "limit": 3}, {"count_only": True}],
)
def test_a_raw_page_is_the_parsed_page_as_stored_json(
    store: Store, reads: TableReads, options: dict[str, Any]
) -> None:
    put(store, *(item("a", i, name={"S": "é" * i}, n={"N": "1.50"}) for i in range(6)))
    common = {"conditions": PK_A, "measure": False, **options}
    parsed = reads.query(REGION, "things", QueryRequest(**common))
    raw = reads.query(REGION, "things", QueryRequest(raw=True, **common))
    assert raw.items == [] and parsed.raw_items is None
    kept = raw.raw_items or []
    assert [orjson.loads(entry) for entry in kept] == parsed.items
    assert (raw.count, raw.scanned, raw.last_key) == (parsed.count, parsed.scanned, parsed.last_key)
    assert (raw.raw_items is None) == bool(options.get("count_only"))


def test_a_raw_request_that_must_be_parsed_or_measured_gets_items(
    store: Store, reads: TableReads
) -> None:
    put(store, item("a", 1, odd={"BOOL": True}), item("a", 2, odd={"BOOL": False}))
    only_odd = Compare("=", DocPath(("odd",)), Literal(":t", {"BOOL": True}))
    for request in (
        QueryRequest(conditions=PK_A, raw=True, filter=only_odd, measure=False),
        QueryRequest(conditions=PK_A, raw=True, projection=Projection((DocPath(("sk",)),))),
        QueryRequest(conditions=PK_A, raw=True),  # measured: capacity units need sizes
    ):
        page = reads.query(REGION, "things", request)
        assert page.raw_items is None and page.items


def test_a_raw_page_near_one_megabyte_stops_where_the_parsed_one_does(
    store: Store, reads: TableReads
) -> None:
    put(store, *(item("a", i, blob={"S": "x" * 300_000}) for i in range(5)))
    parsed = reads.query(REGION, "things", QueryRequest(conditions=PK_A, measure=False))
    raw = reads.query(REGION, "things", QueryRequest(conditions=PK_A, measure=False, raw=True))
    assert raw.scanned == parsed.scanned == 3
    assert raw.last_key == parsed.last_key == {"pk": {"S": "a"}, "sk": {"N": "2"}}
    assert sks(raw.items) == sks(parsed.items)


def test_a_read_over_its_row_budget_stops(store: Store, reads: TableReads) -> None:
    put(store, *(item("a", i) for i in range(5)))
    with pytest.raises(OverBudget):
        reads.query(REGION, "things", QueryRequest(conditions=PK_A), budget=4)
    with pytest.raises(OverBudget):
        reads.scan(REGION, "things", ScanRequest(), budget=4)
    assert reads.query(REGION, "things", QueryRequest(conditions=PK_A), budget=5).count == 5
    assert reads.scan(REGION, "things", ScanRequest(limit=4), budget=4).count == 4


def test_read_bytes_is_the_dynamodb_size_of_what_was_evaluated(
    store: Store, reads: TableReads
) -> None:
    entries = [item("a", i, name={"S": "é" * i}, n={"N": "12.50"}) for i in range(4)]
    put(store, *entries)
    page = reads.query(REGION, "things", QueryRequest(conditions=PK_A))
    assert page.read_bytes == sum(item_size(validate_item(entry)) for entry in entries)
    unmeasured = reads.query(REGION, "things", QueryRequest(conditions=PK_A, measure=False))
    assert unmeasured.read_bytes == 0


def test_projection_keeps_only_the_named_paths(store: Store, reads: TableReads) -> None:
    put(store, item("a", 1, x={"S": "1"}, y={"S": "2"}))
    projection = Projection((DocPath(("x",)),))
    page = reads.query(REGION, "things", QueryRequest(conditions=PK_A, projection=projection))
    assert page.items == [{"x": {"S": "1"}}]


def test_filter_naming_a_key_is_refused(reads: TableReads) -> None:
    on_key = Compare(">", DocPath(("sk",)), Literal(":n", {"N": "1"}))
    with pytest.raises(ValidationError) as caught:
        reads.query(REGION, "things", QueryRequest(conditions=PK_A, filter=on_key))
    assert caught.value.message == (
        "Filter Expression can only contain non-primary key attributes: Primary key attribute: sk"
    )


def test_projection_into_a_key_is_refused(reads: TableReads) -> None:
    projection = Projection((DocPath(("pk", "inner")),))
    with pytest.raises(ValidationError) as caught:
        reads.query(REGION, "things", QueryRequest(conditions=PK_A, projection=projection))
    assert caught.value.message == (
        "Key attributes must be scalars; list random access '[]' and map lookup '.' are not "
        "allowed: Key: pk"
    )


def test_unknown_table_is_checked_before_the_key_conditions(reads: TableReads) -> None:
    with pytest.raises(ResourceNotFound):
        reads.query(REGION, "nothing", QueryRequest(conditions={"zz": PK_A["pk"]}))


def test_an_unknown_index_name_is_refused(reads: TableReads) -> None:
    with pytest.raises(
        ValidationError, match=r"^The table does not have the specified index: by-x$"
    ):
        reads.query(REGION, "things", QueryRequest(conditions=PK_A, index_name="by-x"))


# -- Scan ------------------------------------------------------------------------------------


def test_scan_pages_through_every_item_once(store: Store, reads: TableReads) -> None:
    put(store, *(item(p, i) for p in "abc" for i in range(4)))
    seen: list[tuple[str, str]] = []
    start = None
    while True:
        page = reads.scan(REGION, "things", ScanRequest(limit=5, start_key=start))
        seen += [(entry["pk"]["S"], entry["sk"]["N"]) for entry in page.items]
        start = page.last_key
        if start is None:
            break
    assert sorted(seen) == sorted((p, str(i)) for p in "abc" for i in range(4))
    assert len(seen) == 12


def test_segments_split_the_table_by_partition(store: Store, reads: TableReads) -> None:
    put(store, *(item(f"p{n}", i) for n in range(40) for i in range(2)))
    found: list[str] = []
    for segment in range(4):
        page = reads.scan(REGION, "things", ScanRequest(segment=segment, total_segments=4))
        partitions = {entry["pk"]["S"] for entry in page.items}
        assert all(segment_of(p.encode(), 4) == segment for p in partitions)
        found += [entry["pk"]["S"] for entry in page.items]
    assert sorted(found) == sorted(f"p{n}" for n in range(40) for _ in range(2))


def test_scan_start_key_from_another_segment_is_refused(store: Store, reads: TableReads) -> None:
    put(store, item("a", 1))
    wrong = 1 - segment_of(b"a", 2)
    start = {"pk": {"S": "a"}, "sk": {"N": "1"}}
    with pytest.raises(ValidationError) as caught:
        reads.scan(REGION, "things", ScanRequest(segment=wrong, total_segments=2, start_key=start))
    assert caught.value.message == (
        "The provided starting key is invalid: Invalid ExclusiveStartKey. Please use "
        f"ExclusiveStartKey with correct Segment. TotalSegments: 2 Segment: {wrong}"
    )


def test_scan_start_key_not_matching_the_schema(reads: TableReads) -> None:
    with pytest.raises(ValidationError) as caught:
        reads.scan(REGION, "things", ScanRequest(start_key={"pk": {"S": "a"}, "sk": {"S": "1"}}))
    assert caught.value.message == (
        "The provided starting key is invalid: The provided key element does not match the schema"
    )


@given(st.integers(min_value=1, max_value=1000), st.binary(max_size=40))
def test_segment_of_is_within_the_total(total: int, hk: bytes) -> None:
    assert 0 <= segment_of(hk, total) < total


# -- sizes -----------------------------------------------------------------------------------

_SCALAR_TEXT = st.text(max_size=6)
_NUMBER = st.decimals(allow_nan=False, allow_infinity=False, places=3).filter(
    lambda d: abs(d) < 10**20
)
_B64 = st.binary(max_size=6).map(lambda b: base64.b64encode(b).decode())
_VALUES = st.recursive(
    st.one_of(
        _SCALAR_TEXT.map(lambda s: {"S": s}),
        _NUMBER.map(lambda d: {"N": str(d)}),
        _B64.map(lambda b: {"B": b}),
        st.booleans().map(lambda b: {"BOOL": b}),
        st.just({"NULL": True}),
        st.sets(_SCALAR_TEXT, min_size=1, max_size=3).map(lambda s: {"SS": sorted(s)}),
        st.sets(st.integers(-(10**6), 10**6), min_size=1, max_size=3).map(
            lambda s: {"NS": [str(x * 10) for x in s]}
        ),
        st.sets(st.binary(min_size=1, max_size=3), min_size=1, max_size=3).map(
            lambda s: {"BS": [base64.b64encode(x).decode() for x in s]}
        ),
    ),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3).map(lambda v: {"L": v}),
        st.dictionaries(_SCALAR_TEXT, inner, max_size=3).map(lambda m: {"M": m}),
    ),
    max_leaves=8,
)


@given(st.dictionaries(st.text(min_size=1, max_size=5), _VALUES, max_size=5))
def test_stored_item_size_equals_the_model_size(raw: dict[str, Any]) -> None:
    stored = orjson.loads(orjson.dumps(validate_item(raw)))
    assert stored_item_size(stored) == item_size(stored)
