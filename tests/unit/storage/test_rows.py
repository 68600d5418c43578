"""The SQL of each entity, over a real connection to a fresh database."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from headwater.storage import rows
from headwater.storage.db import connect, initialise


@pytest.fixture
def conn(tmp_path: Path) -> Iterator[sqlite3.Connection]:
    opened = connect(tmp_path / "rows.db")
    initialise(opened)
    yield opened
    opened.close()


# -- tables and items ------------------------------------------------------------------------


def test_inserted_table_is_loaded_with_its_new_id(conn: sqlite3.Connection) -> None:
    first = rows.insert_table(conn, "us-east-1", "a", b'{"x":1}')
    second = rows.insert_table(conn, "us-east-1", "b", b"{}")
    assert second != first
    assert rows.load_tables(conn) == [
        (first, "us-east-1", "a", b'{"x":1}'),
        (second, "us-east-1", "b", b"{}"),
    ]


def test_same_table_name_in_one_region_is_rejected(conn: sqlite3.Connection) -> None:
    rows.insert_table(conn, "us-east-1", "a", b"{}")
    with pytest.raises(sqlite3.IntegrityError):
        rows.insert_table(conn, "us-east-1", "a", b"{}")


def test_same_table_name_in_two_regions_is_allowed(conn: sqlite3.Connection) -> None:
    rows.insert_table(conn, "us-east-1", "a", b"{}")
    rows.insert_table(conn, "eu-west-1", "a", b"{}")
    assert len(rows.load_tables(conn)) == 2


def test_update_table_replaces_the_definition(conn: sqlite3.Connection) -> None:
    table = rows.insert_table(conn, "r", "t", b"old")
    rows.update_table(conn, table, b"new")
    assert rows.load_tables(conn) == [(table, "r", "t", b"new")]


def test_delete_table_removes_its_items_only(conn: sqlite3.Connection) -> None:
    gone = rows.insert_table(conn, "r", "gone", b"{}")
    kept = rows.insert_table(conn, "r", "kept", b"{}")
    rows.put_item(conn, gone, b"h", b"", b"1")
    rows.put_item(conn, kept, b"h", b"", b"2")
    rows.delete_table(conn, gone)
    assert [t[0] for t in rows.load_tables(conn)] == [kept]
    assert rows.count_items(conn, gone) == (0, 0)
    assert rows.get_item(conn, kept, b"h", b"") == b"2"


def test_put_then_get_item(conn: sqlite3.Connection) -> None:
    rows.put_item(conn, 1, b"h", b"r", b"item")
    assert rows.get_item(conn, 1, b"h", b"r") == b"item"


def test_get_missing_item_is_none(conn: sqlite3.Connection) -> None:
    assert rows.get_item(conn, 1, b"h", b"r") is None


def test_put_item_replaces_an_existing_item(conn: sqlite3.Connection) -> None:
    rows.put_item(conn, 1, b"h", b"r", b"old")
    rows.put_item(conn, 1, b"h", b"r", b"new")
    assert rows.get_item(conn, 1, b"h", b"r") == b"new"
    assert rows.count_items(conn, 1) == (1, 3)


def test_items_are_keyed_by_table_hash_and_range(conn: sqlite3.Connection) -> None:
    rows.put_item(conn, 1, b"h", b"r1", b"a")
    rows.put_item(conn, 1, b"h", b"r2", b"b")
    rows.put_item(conn, 2, b"h", b"r1", b"c")
    assert rows.get_item(conn, 1, b"h", b"r1") == b"a"
    assert rows.get_item(conn, 1, b"h", b"r2") == b"b"
    assert rows.get_item(conn, 2, b"h", b"r1") == b"c"


def test_delete_item_removes_only_that_item(conn: sqlite3.Connection) -> None:
    rows.put_item(conn, 1, b"h", b"a", b"1")
    rows.put_item(conn, 1, b"h", b"b", b"2")
    rows.delete_item(conn, 1, b"h", b"a")
    assert rows.get_item(conn, 1, b"h", b"a") is None
    assert rows.get_item(conn, 1, b"h", b"b") == b"2"


def test_count_items_counts_items_and_their_bytes(conn: sqlite3.Connection) -> None:
    rows.put_item(conn, 1, b"a", b"", b"12345")
    rows.put_item(conn, 1, b"b", b"", b"123")
    rows.put_item(conn, 2, b"a", b"", b"x")
    assert rows.count_items(conn, 1) == (2, 8)


def test_count_items_of_an_empty_table_is_zero(conn: sqlite3.Connection) -> None:
    assert rows.count_items(conn, 9) == (0, 0)


def test_scan_items_orders_by_hash_then_range_bytes(conn: sqlite3.Connection) -> None:
    rows.put_item(conn, 1, b"b", b"\x01", b"b1")
    rows.put_item(conn, 1, b"a", b"\x02", b"a2")
    rows.put_item(conn, 1, b"a", b"\x01", b"a1")
    rows.put_item(conn, 2, b"a", b"\x00", b"other")
    assert list(rows.scan_items(conn, 1)) == [b"a1", b"a2", b"b1"]


# -- streams, shards, records ------------------------------------------------------------------


def test_upsert_stream_inserts_then_replaces(conn: sqlite3.Connection) -> None:
    rows.upsert_stream(conn, "arn:s", "r", "t", b"v1")
    rows.upsert_stream(conn, "arn:s", "r", "t", b"v2")
    assert rows.load_streams(conn) == [("arn:s", b"v2")]


def test_inserted_shard_is_loaded_open(conn: sqlite3.Connection) -> None:
    key = rows.insert_shard(conn, "arn:s", "shardId-1", 5, None, 123.5)
    assert rows.load_shards(conn) == [(key, "arn:s", "shardId-1", 5, None, None, 123.5, 0, 0)]


def test_close_shard_sets_its_end(conn: sqlite3.Connection) -> None:
    key = rows.insert_shard(conn, "arn:s", "shardId-1", 5, "parent", 1.0)
    rows.close_shard(conn, key, 9)
    assert rows.load_shards(conn) == [(key, "arn:s", "shardId-1", 5, 9, "parent", 1.0, 0, 0)]


def test_shard_id_is_unique_per_stream(conn: sqlite3.Connection) -> None:
    rows.insert_shard(conn, "arn:s", "shardId-1", 1, None, 1.0)
    with pytest.raises(sqlite3.IntegrityError):
        rows.insert_shard(conn, "arn:s", "shardId-1", 2, None, 1.0)


def test_read_records_from_a_sequence_in_order_with_a_limit(conn: sqlite3.Connection) -> None:
    for seq in (4, 2, 3, 5):
        rows.append_record(conn, 1, seq, float(seq), f"r{seq}".encode())
    rows.append_record(conn, 2, 3, 0.0, b"other shard")
    assert rows.read_records(conn, 1, 3, 2) == [(3, 3.0, b"r3"), (4, 4.0, b"r4")]


def test_read_records_past_the_end_is_empty(conn: sqlite3.Connection) -> None:
    rows.append_record(conn, 1, 2, 0.0, b"r")
    assert rows.read_records(conn, 1, 3, 10) == []


def test_a_sequence_number_is_stored_once_per_shard(conn: sqlite3.Connection) -> None:
    rows.append_record(conn, 1, 2, 0.0, b"r")
    with pytest.raises(sqlite3.IntegrityError):
        rows.append_record(conn, 1, 2, 0.0, b"again")


def test_shard_bounds_of_an_empty_shard_are_none(conn: sqlite3.Connection) -> None:
    assert rows.shard_bounds(conn, 1) == (None, None)


def test_shard_bounds_are_lowest_and_highest_sequence(conn: sqlite3.Connection) -> None:
    for seq in (7, 3, 5):
        rows.append_record(conn, 1, seq, 0.0, b"r")
    rows.append_record(conn, 2, 99, 0.0, b"r")
    assert rows.shard_bounds(conn, 1) == (3, 7)


def test_max_sequence_of_an_empty_database_is_zero(conn: sqlite3.Connection) -> None:
    assert rows.max_sequence(conn) == 0


def test_max_sequence_counts_records_shard_bounds_and_the_saved_sequence(
    conn: sqlite3.Connection,
) -> None:
    key = rows.insert_shard(conn, "arn:s", "shardId-1", 10, None, 1.0)
    assert rows.max_sequence(conn) == 10
    rows.append_record(conn, key, 12, 0.0, b"r")
    assert rows.max_sequence(conn) == 12
    rows.close_shard(conn, key, 20)
    assert rows.max_sequence(conn) == 20
    rows.save_sequence(conn, 50)
    assert rows.max_sequence(conn) == 50


# -- functions, mappings, checkpoints, meta ------------------------------------------------------


def test_function_round_trip(conn: sqlite3.Connection) -> None:
    rows.upsert_function(conn, "r", "f", b"config", b"zip")
    assert rows.load_functions(conn) == [("r", "f", b"config")]
    assert rows.function_code(conn, "r", "f") == b"zip"


def test_code_of_a_missing_function_is_none(conn: sqlite3.Connection) -> None:
    assert rows.function_code(conn, "r", "nope") is None


def test_update_function_config_keeps_the_code(conn: sqlite3.Connection) -> None:
    rows.upsert_function(conn, "r", "f", b"old", b"zip")
    rows.update_function_config(conn, "r", "f", b"new")
    assert rows.load_functions(conn) == [("r", "f", b"new")]
    assert rows.function_code(conn, "r", "f") == b"zip"


def test_delete_function_removes_it(conn: sqlite3.Connection) -> None:
    rows.upsert_function(conn, "r", "f", b"c", b"z")
    rows.delete_function(conn, "r", "f")
    assert rows.load_functions(conn) == []


def test_upsert_mapping_inserts_then_replaces(conn: sqlite3.Connection) -> None:
    rows.upsert_mapping(conn, "u1", "r", b"v1")
    rows.upsert_mapping(conn, "u1", "r", b"v2")
    assert rows.load_mappings(conn) == [("u1", "r", b"v2")]


def test_checkpoint_is_saved_per_shard_and_overwritten(conn: sqlite3.Connection) -> None:
    rows.save_checkpoint(conn, "u1", "shard-a", 3)
    rows.save_checkpoint(conn, "u1", "shard-b", 8)
    rows.save_checkpoint(conn, "u1", "shard-a", 5)
    rows.save_checkpoint(conn, "u2", "shard-a", 1)
    assert rows.load_checkpoints(conn, "u1") == {"shard-a": 5, "shard-b": 8}


def test_delete_mapping_removes_its_checkpoints_only(conn: sqlite3.Connection) -> None:
    rows.upsert_mapping(conn, "u1", "r", b"c")
    rows.upsert_mapping(conn, "u2", "r", b"c")
    rows.save_checkpoint(conn, "u1", "s", 3)
    rows.save_checkpoint(conn, "u2", "s", 4)
    rows.delete_mapping(conn, "u1")
    assert [m[0] for m in rows.load_mappings(conn)] == ["u2"]
    assert rows.load_checkpoints(conn, "u1") == {}
    assert rows.load_checkpoints(conn, "u2") == {"s": 4}


def test_meta_round_trip_and_overwrite(conn: sqlite3.Connection) -> None:
    assert rows.get_meta(conn, "k") is None
    rows.set_meta(conn, "k", "1")
    rows.set_meta(conn, "k", "2")
    assert rows.get_meta(conn, "k") == "2"


def test_trim_records_deletes_only_records_older_than_the_cutoff(
    conn: sqlite3.Connection,
) -> None:
    key = rows.insert_shard(conn, "arn:s", "shardId-1", 1, None, 1.0)
    for seq, created in ((1, 10.0), (2, 20.0), (3, 30.0)):
        rows.append_record(conn, key, seq, created, b"{}")
    assert rows.trim_records(conn, key, 25.0, 100) == 2
    assert [seq for seq, _, _ in rows.read_records(conn, key, 0, 10)] == [3]
    assert rows.load_shards(conn)[0][7] == 2
    assert rows.trim_records(conn, key, 25.0, 100) is None


def test_trim_records_works_in_chunks(conn: sqlite3.Connection) -> None:
    key = rows.insert_shard(conn, "arn:s", "shardId-1", 1, None, 1.0)
    for seq in range(1, 6):
        rows.append_record(conn, key, seq, 1.0, b"{}")
    assert rows.trim_records(conn, key, 2.0, 2) == 2
    assert [seq for seq, _, _ in rows.read_records(conn, key, 0, 10)] == [3, 4, 5]
