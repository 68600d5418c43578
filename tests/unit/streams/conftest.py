from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.unit.streams.support import StreamWorld


@pytest.fixture
def world(tmp_path: Path) -> Iterator[StreamWorld]:
    opened = StreamWorld(tmp_path / "headwater.db")
    yield opened
    opened.close()
