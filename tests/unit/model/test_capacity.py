"""Capacity-unit arithmetic: reads, writes, one item's change, per-index and per-table sums."""

from __future__ import annotations

from typing import Any

import pytest

from headwater.model.capacity import (
    Capacity,
    item_write_units,
    per_table,
    read_units,
    write_units,
)

Item = dict[str, Any]


def _item(filler: int) -> Item:
    """An item of exactly ``filler + 4`` bytes: "pk" (2) + "a" (1), "v" (1) + filler."""
    return {"pk": {"S": "a"}, "v": {"S": "x" * filler}}


@pytest.mark.parametrize(
    ("size", "consistent", "transactional", "units"),
    [
        (0, False, False, 0.5),
        (4096, False, False, 0.5),
        (4097, False, False, 1.0),
        (4097, True, False, 2.0),
        (4097, False, True, 4.0),
    ],
)
def test_read_units(size: int, consistent: bool, transactional: bool, units: float) -> None:
    assert read_units(size, consistent=consistent, transactional=transactional) == units


@pytest.mark.parametrize(("size", "units"), [(0, 1.0), (1024, 1.0), (1025, 2.0), (2049, 3.0)])
def test_write_units(size: int, units: float) -> None:
    assert write_units(size) == units
    assert write_units(size, transactional=True) == units * 2


def test_an_item_write_is_sized_by_the_larger_of_old_and_new() -> None:
    small, big = _item(10), _item(1500)  # 14 bytes, 1504 bytes
    assert item_write_units(None, small) == 1.0
    assert item_write_units(None, big) == 2.0
    assert item_write_units(big, small) == 2.0  # a shrinking put still pays for the old item
    assert item_write_units(big, None) == 2.0  # a delete pays for what it deleted
    assert item_write_units(None, None) == 1.0  # a delete of nothing costs the minimum
    assert item_write_units(small, big, transactional=True) == 4.0
    assert item_write_units(small, None, new_size=3000) == 3.0  # a size the caller knows


def test_index_writes_add_up_per_index_and_into_the_total() -> None:
    spent = Capacity("t", write=1.0)
    spent.add_index_write("g1", True, 100)
    spent.add_index_write("g1", True, 1500)
    spent.add_index_write("l1", False, 10)
    assert spent.global_indexes == {"g1": 3.0}
    assert spent.local_indexes == {"l1": 1.0}
    assert spent.index_write == 4.0
    assert spent.total == 5.0


def test_per_table_folds_entries_of_one_table() -> None:
    first = Capacity("a", write=1.0, global_indexes={"g": 1.0})
    second = Capacity("b", read=0.5)
    third = Capacity("a", write=2.0, global_indexes={"g": 2.0, "h": 1.0})
    totals = per_table([first, second, third])
    assert totals == [
        Capacity("a", write=3.0, global_indexes={"g": 3.0, "h": 1.0}),
        Capacity("b", read=0.5),
    ]
    assert first == Capacity("a", write=1.0, global_indexes={"g": 1.0})  # inputs unchanged
