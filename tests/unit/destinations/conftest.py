"""A Destinations over a real Store in ``tmp_path`` with a clock the test moves."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from headwater.clock import Clock
from headwater.destinations import Destinations
from headwater.storage.store import Store

ACCOUNT = "000000000000"


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def destinations(tmp_path: Path, clock: Clock) -> Iterator[Destinations]:
    store = Store(tmp_path / "headwater.db")
    yield Destinations(store, clock, ACCOUNT, tmp_path / "s3", durable=False)
    store.close()
