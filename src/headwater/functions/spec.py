"""What the worker pool needs to know about a function: code, handler and configuration.

A spec is a value. Anything that should make warm workers obsolete (new code, a changed handler,
timeout, memory or environment) must change ``revision``; the pool never reuses a worker started
for another revision. Callers may set ``revision`` themselves (for example to Lambda's
RevisionId); left empty, it is derived from every field a worker depends on.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

from headwater.errors import InvalidParameterValue

MIN_TIMEOUT_S = 1
MAX_TIMEOUT_S = 900
MIN_MEMORY_MB = 128
MAX_MEMORY_MB = 10240


@dataclass(frozen=True, kw_only=True)
class FunctionSpec:
    name: str
    handler: str
    code_dir: Path
    code_sha256: str = ""
    arn: str = ""
    runtime: str = "python3.11"
    timeout: int = 3
    memory_size: int = 128
    environment: dict[str, str] = field(default_factory=dict, hash=False)
    version: str = "$LATEST"
    region: str = "us-east-1"
    account_id: str = "000000000000"
    revision: str = ""

    def __post_init__(self) -> None:
        if not self.name:
            raise InvalidParameterValue("Function name must not be empty.")
        if not self.handler:
            raise InvalidParameterValue("Handler must not be empty.")
        if isinstance(self.timeout, bool) or not MIN_TIMEOUT_S <= self.timeout <= MAX_TIMEOUT_S:
            raise InvalidParameterValue(
                f"Timeout must be between {MIN_TIMEOUT_S} and {MAX_TIMEOUT_S} seconds."
            )
        if not MIN_MEMORY_MB <= self.memory_size <= MAX_MEMORY_MB:
            raise InvalidParameterValue(
                f"MemorySize must be between {MIN_MEMORY_MB} and {MAX_MEMORY_MB} MB."
            )
        if not all(isinstance(k, str) and isinstance(v, str) for k, v in self.environment.items()):
            raise InvalidParameterValue("Environment variable names and values must be strings.")
        # Frozen: derived defaults are set the one way a frozen dataclass allows.
        object.__setattr__(self, "code_dir", Path(self.code_dir))
        object.__setattr__(self, "environment", dict(self.environment))
        if not self.arn:
            arn = f"arn:aws:lambda:{self.region}:{self.account_id}:function:{self.name}"
            object.__setattr__(self, "arn", arn)
        if not self.revision:
            object.__setattr__(self, "revision", self._derived_revision())

    @property
    def key(self) -> str:
        """What warm workers are pooled by: ``$LATEST`` and each published version run their own
        code at once, so each has its own workers (``name:version``)."""
        return f"{self.name}:{self.version}"

    @property
    def log_group_name(self) -> str:
        return f"/aws/lambda/{self.name}"

    def _derived_revision(self) -> str:
        facts = [
            self.name,
            self.handler,
            str(self.code_dir),
            self.code_sha256,
            self.runtime,
            self.timeout,
            self.memory_size,
            sorted(self.environment.items()),
            self.version,
            self.region,
            self.account_id,
        ]
        digest = hashlib.sha256(json.dumps(facts).encode()).hexdigest()
        return digest[:16]
