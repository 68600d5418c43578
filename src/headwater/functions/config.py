"""A Lambda function's configuration: ``$LATEST`` or one published version of it.

A published version is an immutable copy of ``$LATEST`` taken by PublishVersion, numbered from
1 per function; numbers are never reused, even after a version is deleted (``last_version`` on
``$LATEST`` remembers the highest one handed out).
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, field

import orjson

LATEST = "$LATEST"


@dataclass
class FunctionConfig:
    name: str
    region: str
    account: str
    runtime: str
    handler: str
    role: str
    code_sha256: str
    code_size: int
    timeout: int = 3
    memory_size: int = 128
    environment: dict[str, str] = field(default_factory=dict)
    description: str = ""
    last_modified: float = 0.0
    revision_id: str = ""
    architectures: list[str] = field(default_factory=lambda: ["x86_64"])
    reserved_concurrency: int | None = None  # None: no reservation; 0: every invoke throttled
    version: str = LATEST  # "$LATEST", or a published version's number ("1", "2", ...)
    last_version: int = 0  # on $LATEST: the highest version number published so far
    source_digest: str = ""  # on a version: what $LATEST held when it was published

    @property
    def arn(self) -> str:
        """The unqualified function ARN (what names the function itself)."""
        return f"arn:aws:lambda:{self.region}:{self.account}:function:{self.name}"

    @property
    def version_arn(self) -> str:
        """This configuration's own ARN: unqualified for ``$LATEST``, ``:N`` for version N."""
        return self.arn if self.version == LATEST else f"{self.arn}:{self.version}"

    @property
    def is_latest(self) -> bool:
        return self.version == LATEST

    def to_json(self) -> bytes:
        return orjson.dumps(asdict(self))

    @classmethod
    def from_json(cls, data: bytes) -> FunctionConfig:
        return cls(**orjson.loads(data))


def content_digest(config: FunctionConfig) -> str:
    """Everything a version snapshots from ``$LATEST`` (code and configuration, not revision or
    timestamps): publishing when this has not changed since the last version returns that
    version instead of a new one, as Lambda does."""
    facts = [
        config.code_sha256,
        config.handler,
        config.runtime,
        config.role,
        config.timeout,
        config.memory_size,
        sorted(config.environment.items()),
        config.description,
        list(config.architectures),
    ]
    return hashlib.sha256(orjson.dumps(facts)).hexdigest()[:32]
