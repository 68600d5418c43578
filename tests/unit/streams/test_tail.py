"""The in-memory tail of each shard: answers only what it holds completely."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from headwater.streams import tail
from headwater.streams.tail import RecentRecords


def _row(seq: int, size: int = 10) -> tuple[int, float, bytes]:
    return (seq, float(seq), b"x" * size)


def test_reads_from_the_first_cached_record_on_and_not_before() -> None:
    recent = RecentRecords()
    for seq in (5, 7, 9):
        recent.committed(1, _row(seq))
    assert recent.read(1, 4, 10) is None  # 4 and below may exist only in the database
    assert recent.read(1, 5, 10) == [_row(5), _row(7), _row(9)]
    assert recent.read(1, 6, 1) == [_row(7)]
    assert recent.read(1, 10, 10) == []  # nothing newer has been committed
    assert recent.read(2, 1, 10) is None  # a shard it never saw


def test_eviction_raises_the_floor() -> None:
    recent = RecentRecords()
    for seq in range(1, tail.MAX_RECORDS + 11):
        recent.committed(3, _row(seq))
    assert recent.read(3, 10, 5) is None
    assert recent.read(3, 11, 2) == [_row(11), _row(12)]


def test_bytes_are_bounded_too() -> None:
    recent = RecentRecords()
    big = tail.MAX_BYTES // 2 + 1
    for seq in (1, 2, 3):
        recent.committed(4, _row(seq, big))
    assert recent.read(4, 2, 5) is None
    assert recent.read(4, 3, 5) == [_row(3, big)]


def test_forget_sends_reads_to_the_database() -> None:
    recent = RecentRecords()
    recent.committed(1, _row(1))
    recent.forget(1)
    assert recent.read(1, 1, 1) is None
    recent.committed(1, _row(8))
    assert recent.read(1, 2, 5) is None and recent.read(1, 8, 5) == [_row(8)]


@given(
    st.lists(st.integers(1, 5), min_size=1, max_size=3000),
    st.integers(0, 9000),
    st.integers(1, 50),
)
def test_an_answer_is_always_exactly_what_the_database_would_give(
    gaps: list[int], from_seq: int, limit: int
) -> None:
    recent = RecentRecords()
    seqs: list[int] = []
    seq = 0
    for gap in gaps:
        seq += gap
        seqs.append(seq)
        recent.committed(9, _row(seq))
    answer = recent.read(9, from_seq, limit)
    if answer is not None:
        assert answer == [_row(s) for s in seqs if s >= from_seq][:limit]
