"""One frozen settings object, built from CLI flags and environment."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class Settings:
    host: str = "127.0.0.1"
    port: int = 4566
    data_dir: Path = field(default_factory=lambda: Path(".headwater"))
    in_memory: bool = False
    account_id: str = "000000000000"
    durable: bool = True
    publish_after_fsync: bool = False  # readers see a commit only once synced (store.py)
    log_level: str = "info"
    stream_retention_seconds: float = 24 * 60 * 60
    stream_shards: int = 1
    strict_stream_readers: bool = False  # throttle a third concurrent reader of a shard
    shard_rollover_seconds: float = 4 * 60 * 60
    ttl_sweep_seconds: float = 5.0  # 0: sweep for expired items only when the clock moves
    table_transition_seconds: float = 0.0  # realism: CREATING/UPDATING/DELETING last this long
    worker_idle_seconds: float = 900.0  # end a warm worker unused this long (0: never)

    @property
    def public_url(self) -> str:
        host = "127.0.0.1" if self.host in ("0.0.0.0", "") else self.host
        return f"http://{host}:{self.port}"

    @classmethod
    def from_env(cls, **overrides: object) -> Settings:
        values: dict[str, object] = {}
        if "HEADWATER_ACCOUNT_ID" in os.environ:
            values["account_id"] = os.environ["HEADWATER_ACCOUNT_ID"]
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)  # type: ignore[arg-type]
