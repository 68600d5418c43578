"""The Store: one database file, one writer, many readers."""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
from pathlib import Path

import pytest

from headwater.storage import rows
from headwater.storage.db import SCHEMA_VERSION, WAL_WORKING_BYTES, presize_wal
from headwater.storage.store import DataDirInUse, Store


def test_committed_data_survives_reopening_the_file(tmp_path: Path) -> None:
    path = tmp_path / "nested" / "headwater.db"
    first = Store(path)
    first.write(lambda txn: rows.set_meta(txn.conn, "kept", "yes"))
    first.close()
    second = Store(path)
    try:
        assert second.read(lambda conn: rows.get_meta(conn, "kept")) == "yes"
    finally:
        second.close()


def test_opening_creates_missing_parent_directories(tmp_path: Path) -> None:
    path = tmp_path / "a" / "b" / "headwater.db"
    Store(path).close()
    assert path.is_file()


def test_schema_version_is_recorded(store: Store) -> None:
    assert store.read(lambda conn: rows.get_meta(conn, "schema_version")) == str(SCHEMA_VERSION)


def test_database_uses_wal_journal(store: Store) -> None:
    mode = store.read(lambda conn: conn.execute("PRAGMA journal_mode").fetchone()[0])
    assert mode == "wal"


def test_write_returns_the_job_result(store: Store) -> None:
    assert store.write(lambda txn: rows.insert_table(txn.conn, "r", "t", b"{}")) == 1


def test_write_raises_the_job_error(store: Store) -> None:
    def job(txn: object) -> None:
        raise ArithmeticError("bad")

    with pytest.raises(ArithmeticError):
        store.write(job)


def test_startup_read_sees_committed_state(store: Store) -> None:
    store.write(lambda txn: rows.set_meta(txn.conn, "boot", "1"))
    assert store.startup_read(lambda conn: rows.get_meta(conn, "boot")) == "1"


def test_temporary_store_removes_its_directory_on_close() -> None:
    store = Store.temporary()
    directory = store.path.parent
    store.write(lambda txn: rows.set_meta(txn.conn, "k", "v"))
    assert directory.is_dir()
    store.close()
    assert not directory.exists()


def test_a_file_store_keeps_its_file_on_close(tmp_path: Path) -> None:
    store = Store(tmp_path / "keep.db")
    store.close()
    assert (tmp_path / "keep.db").is_file()


def test_close_is_idempotent(tmp_path: Path) -> None:
    store = Store(tmp_path / "twice.db")
    store.close()
    store.close()
    assert isinstance(store.submit(lambda txn: 1).exception(0), RuntimeError)


def test_submit_after_close_fails(tmp_path: Path) -> None:
    store = Store(tmp_path / "closed.db")
    store.close()
    with pytest.raises(RuntimeError, match="closed"):
        store.write(lambda txn: 1)


def test_close_checkpoints_the_wal_into_the_main_file(tmp_path: Path) -> None:
    path = tmp_path / "wal.db"
    store = Store(path)
    store.write(lambda txn: rows.set_meta(txn.conn, "big", "x" * 100_000))
    store.close()
    wal = path.with_name(path.name + "-wal")
    assert not wal.exists() or wal.stat().st_size == 0


def test_a_durable_store_gives_its_log_the_working_size_up_front(tmp_path: Path) -> None:
    # Appending past the end of the log costs a journal commit per fsync; see presize_wal.
    path = tmp_path / "headwater.db"
    store = Store(path)
    try:
        assert path.with_name("headwater.db-wal").stat().st_size >= WAL_WORKING_BYTES
        store.write(lambda txn: rows.set_meta(txn.conn, "after", "presize"))
        assert store.read(lambda conn: rows.get_meta(conn, "after")) == "presize"
    finally:
        store.close()


def test_a_presized_log_is_read_back_after_a_crash(tmp_path: Path) -> None:
    path = tmp_path / "headwater.db"
    script = (
        "import os, sys\n"
        "from pathlib import Path\n"
        "from headwater.storage import rows\n"
        "from headwater.storage.store import Store\n"
        "store = Store(Path(sys.argv[1]))\n"
        "for i in range(50):\n"
        "    store.write(lambda txn, i=i: rows.set_meta(txn.conn, f'k{i}', str(i)))\n"
        "os._exit(0)  # no close: no checkpoint, the log holds every commit\n"
    )
    subprocess.run([sys.executable, "-c", script, str(path)], check=True, timeout=60)
    assert path.with_name("headwater.db-wal").stat().st_size >= WAL_WORKING_BYTES
    store = Store(path)
    try:
        got = store.read(lambda conn: [rows.get_meta(conn, f"k{i}") for i in range(50)])
        assert got == [str(i) for i in range(50)]
    finally:
        store.close()


@pytest.mark.parametrize(
    ("publish_after_fsync", "synchronous"), [(False, 1), (True, 2)], ids=["own", "sqlite"]
)
def test_who_syncs_a_durable_commit(
    tmp_path: Path, publish_after_fsync: bool, synchronous: int
) -> None:
    # By default SQLite only writes the log (NORMAL = 1) and the store syncs it after the
    # after-commit callbacks; publish_after_fsync leaves it to SQLite (FULL = 2).
    store = Store(tmp_path / "headwater.db", publish_after_fsync=publish_after_fsync)
    try:
        got = store.write(lambda txn: txn.conn.execute("PRAGMA synchronous").fetchone()[0])
        assert got == synchronous
    finally:
        store.close()
    temporary = Store.temporary()
    try:  # nothing is kept, nothing is synced (OFF = 0)
        assert (
            temporary.write(lambda txn: txn.conn.execute("PRAGMA synchronous").fetchone()[0]) == 0
        )
    finally:
        temporary.close()


def test_presize_wal_leaves_a_log_at_its_size_alone(tmp_path: Path) -> None:
    path = tmp_path / "headwater.db"
    store = Store(path)
    store.close()  # closing truncates the log
    wal = path.with_name("headwater.db-wal")
    wal.write_bytes(b"")
    assert presize_wal(path, 4096) is True
    assert wal.stat().st_size == 4096
    assert presize_wal(path, 4096) is False
    assert presize_wal(tmp_path / "missing.db") is False


def test_a_second_store_on_the_same_file_is_refused_with_the_owners_pid(tmp_path: Path) -> None:
    # Two servers on one data directory would each number stream records on their own.
    path = tmp_path / "headwater.db"
    first = Store(path)
    try:
        with pytest.raises(DataDirInUse) as refused:
            Store(path)
        assert str(os.getpid()) in refused.value.message
        assert str(tmp_path) in refused.value.message
    finally:
        first.close()
    Store(path).close()  # free again once the first is closed


def test_the_data_directory_is_freed_when_its_process_dies(tmp_path: Path) -> None:
    path = tmp_path / "headwater.db"
    script = (
        "import os, sys\n"
        "from pathlib import Path\n"
        "from headwater.storage.store import Store\n"
        "Store(Path(sys.argv[1]))\n"
        "os.kill(os.getpid(), 9)\n"
    )
    done = subprocess.run([sys.executable, "-c", script, str(path)], timeout=60)
    assert done.returncode == -9
    Store(path).close()  # the lock died with its holder


def test_the_log_frame_count_follows_commits(tmp_path: Path) -> None:
    store = Store(tmp_path / "headwater.db", checkpoint_frames=1_000_000)  # never checkpoint
    try:
        assert store.log_frames is not None
        before = store.log_frames.count()
        for i in range(20):
            store.write(lambda txn, i=i: rows.set_meta(txn.conn, f"k{i}", "v" * 100))
        assert store.log_frames.count() >= before + 20  # a frame at least per commit
    finally:
        store.close()


@pytest.mark.parametrize("durable", [True, False], ids=["durable", "in-memory"])
def test_the_log_is_checkpointed_and_rewound_once_it_reaches_its_size(
    tmp_path: Path, durable: bool
) -> None:
    # SQLite's automatic checkpoint is off; the writer checkpoints between groups instead.
    store = Store(tmp_path / "headwater.db", durable=durable, checkpoint_frames=40)
    try:
        assert store.log_frames is not None
        seen = []
        for i in range(300):
            store.write(lambda txn, i=i: rows.set_meta(txn.conn, f"k{i}", "v" * 100))
            seen.append(store.log_frames.count())
        # (The first commit also rewinds the log the schema's creation left.) Rewound every
        # time it got to the size, give or take a group: it never grows past it.
        assert max(seen[5:]) < 40 + 20
        assert sum(1 for a, b in itertools.pairwise(seen) if b < a) >= 5
        got = store.read(lambda conn: [rows.get_meta(conn, f"k{i}") for i in range(300)])
        assert got == ["v" * 100] * 300
    finally:
        store.close()
