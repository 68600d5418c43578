"""An event source mapping's configuration and state (spec §5.2–5.4)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import orjson

# States (spec §5.4). Transitional states last until the runtime has applied the change.
CREATING, ENABLING, ENABLED = "Creating", "Enabling", "Enabled"
DISABLING, DISABLED, UPDATING, DELETING = "Disabling", "Disabled", "Updating", "Deleting"
TRANSITIONAL = frozenset({CREATING, ENABLING, DISABLING, UPDATING, DELETING})

NO_RECORDS = "No records processed"
OK = "OK"
PROBLEM = "PROBLEM: Function call failed"


@dataclass
class MappingConfig:
    uuid: str
    region: str
    account: str
    function_arn: str
    event_source_arn: str
    starting_position: str
    batch_size: int = 100
    maximum_batching_window: int = 0
    parallelization_factor: int = 1
    bisect_on_error: bool = False
    maximum_retry_attempts: int = -1
    maximum_record_age: int = -1
    tumbling_window: int = 0
    function_response_types: list[str] = field(default_factory=list)
    on_failure_destination: str | None = None
    filter_criteria: dict[str, Any] | None = None
    metrics: list[str] = field(default_factory=list)  # MetricsConfig.Metrics (EventCount)
    enabled: bool = True
    state: str = CREATING
    state_reason: str = "User action"
    last_modified: float = 0.0
    last_processing_result: str = NO_RECORDS

    @property
    def arn(self) -> str:
        return f"arn:aws:lambda:{self.region}:{self.account}:event-source-mapping:{self.uuid}"

    @property
    def target_state(self) -> str:
        return ENABLED if self.enabled else DISABLED

    def to_json(self) -> bytes:
        return orjson.dumps(asdict(self))

    @classmethod
    def from_json(cls, data: bytes) -> MappingConfig:
        return cls(**orjson.loads(data))
