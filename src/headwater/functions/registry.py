"""The function registry: Lambda functions' configuration and code, durable, plus invocation.

Each function has ``$LATEST`` (what Create/UpdateFunction* change), may have published versions
(immutable snapshots made by PublishVersion) and aliases pointing at versions
(``functions/aliases.py``). A name or ARN may carry a qualifier (``my-fn:3``, ``my-fn:live``,
``...:function:my-fn:$LATEST``): :meth:`FunctionRegistry.resolve` turns it into the version it
names. Code zips are kept in the database (so a restart loses nothing) and extracted once per
distinct code under ``<data dir>/functions``; warm workers import from there, one set of workers
per (function, version). The registry implements the mapping runtime's
:class:`~headwater.mapping.invoker.Invoker` interface, resolving a mapping's (possibly qualified)
function ARN at every batch.
"""

from __future__ import annotations

import builtins
import hashlib
import threading
import uuid as uuidlib
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path
from typing import Any

from headwater import metrics
from headwater.clock import Clock
from headwater.cloudwatch.lambda_metrics import LambdaMetrics
from headwater.errors import (
    InvalidParameterValue,
    PreconditionFailed,
    ResourceConflict,
    ResourceNotFound,
    TooManyRequests,
)
from headwater.functions.aliases import (
    REVISION_MISMATCH,
    AliasBook,
    AliasConfig,
    check_routing,
    pick_version,
)
from headwater.functions.code import extract_zip
from headwater.functions.config import LATEST, FunctionConfig, content_digest
from headwater.functions.names import (
    is_version_number,
    lambda_timestamp,
    parse_function_name,
    split_qualifier,
)
from headwater.functions.pool import InvokeResult, WorkerPool
from headwater.functions.spec import FunctionSpec
from headwater.mapping.invoker import Outcome
from headwater.storage import rows, version_rows
from headwater.storage.store import Store, Txn

__all__ = [
    "FunctionConfig",
    "FunctionRegistry",
    "Target",
    "lambda_timestamp",
    "parse_function_name",
    "split_qualifier",
]


@dataclass(frozen=True)
class Target:
    """What a (possibly qualified) name addresses: the configuration that runs, the ARN as the
    caller qualified it (responses' FunctionArn, the handler's invoked_function_arn), and the
    alias if it went through one."""

    config: FunctionConfig
    arn: str
    alias: AliasConfig | None = None


class FunctionRegistry:
    def __init__(
        self, store: Store, pool: WorkerPool, clock: Clock, code_root: Path, account: str
    ) -> None:
        self.store = store
        self.pool = pool
        self.clock = clock
        self.code_root = code_root
        self.account = account
        self.aliases = AliasBook(store)
        self._lock = threading.Lock()
        self._functions: dict[tuple[str, str], FunctionConfig] = {}  # $LATEST of each function
        self._versions: dict[tuple[str, str], dict[str, FunctionConfig]] = {}
        self._running: dict[tuple[str, str], int] = {}  # invocations in flight per function
        # (region, name, version) -> the config a spec was built from, and the spec
        self._specs: dict[tuple[str, str, str], tuple[FunctionConfig, FunctionSpec]] = {}
        self.cloudwatch = LambdaMetrics()  # CloudWatch's AWS/Lambda metrics (runtime.py wires)
        # Changes that check and then write (publish, versions, aliases, updates) go one at a time.
        self._changes = threading.RLock()

    # -- lookups ---------------------------------------------------------------------------

    def _base_arn(self, region: str, name: str) -> str:
        return f"arn:aws:lambda:{region}:{self.account}:function:{name}"

    def resolve(self, region: str, name_or_arn: str, qualifier: str | None = None) -> Target:
        """The version a name, partial or full ARN (with or without a qualifier) and an optional
        Qualifier parameter address; ResourceNotFound in Lambda's words."""
        arn_region, name, wanted = split_qualifier(name_or_arn, qualifier)
        region = arn_region or region
        base = self._base_arn(region, name)
        qualified = f"{base}:{wanted}" if wanted else base
        with self._lock:
            latest = self._functions.get((region, name))
            if latest is None:
                raise ResourceNotFound(f"Function not found: {qualified}")
            if wanted is None:
                return Target(latest, base)
            if wanted == LATEST:
                return Target(latest, qualified)
            if is_version_number(wanted):
                found = self._versions.get((region, name), {}).get(wanted)
                if found is None:
                    raise ResourceNotFound(f"Function not found: {qualified}")
                return Target(found, qualified)
        alias = self.aliases.get(region, name, wanted)
        if alias is None:
            raise ResourceNotFound(f"Function not found: {qualified}")
        return Target(self._version(region, name, alias.function_version), qualified, alias)

    def get(self, region: str, name_or_arn: str, qualifier: str | None = None) -> FunctionConfig:
        return self.resolve(region, name_or_arn, qualifier).config

    def function(self, region: str, name_or_arn: str) -> FunctionConfig:
        """The function itself ($LATEST) for operations on the whole function; a qualifier in
        the name is not looked at."""
        arn_region, name, _qualifier = parse_function_name(name_or_arn)
        return self.get(region, self._base_arn(arn_region or region, name))

    def _version(self, region: str, name: str, version: str) -> FunctionConfig:
        with self._lock:
            found = (
                self._functions.get((region, name))
                if version == LATEST
                else self._versions.get((region, name), {}).get(version)
            )
        if found is None:
            raise ResourceNotFound(f"Function not found: {self._base_arn(region, name)}:{version}")
        return found

    def choose(self, target: Target) -> FunctionConfig:
        """The version one invocation of ``target`` runs (an alias may split between two)."""
        if target.alias is None or not target.alias.routing:
            return target.config
        version = pick_version(target.alias)
        if version == target.config.version:
            return target.config
        try:
            return self._version(target.config.region, target.config.name, version)
        except ResourceNotFound:
            return target.config

    def exists(self, region: str, name_or_arn: str) -> bool:
        try:
            self.get(region, name_or_arn)
        except (ResourceNotFound, InvalidParameterValue):
            return False
        return True

    def list(self, region: str) -> list[FunctionConfig]:
        with self._lock:
            return sorted(
                (f for (r, _), f in self._functions.items() if r == region), key=lambda f: f.name
            )

    def versions(self, region: str, name_or_arn: str) -> builtins.list[FunctionConfig]:
        """``$LATEST`` first, then the published versions in order."""
        latest = self.function(region, name_or_arn)
        with self._lock:
            published = self._versions.get((latest.region, latest.name), {})
            return [latest, *(published[v] for v in sorted(published, key=int))]

    def code_zip(self, config: FunctionConfig) -> bytes:
        if config.is_latest:
            code = self.store.read(
                lambda conn: rows.function_code(conn, config.region, config.name)
            )
        else:
            code = self.store.read(
                lambda conn: version_rows.version_code(
                    conn, config.region, config.name, config.code_sha256
                )
            )
        return code or b""

    def _code_dir(self, config: FunctionConfig) -> Path:
        digest = hashlib.sha256(config.code_sha256.encode()).hexdigest()[:24]
        return self.code_root / config.region / config.name / digest

    def spec(self, config: FunctionConfig) -> FunctionSpec:
        """What the pool runs for ``config``; built once per configuration object (configs are
        replaced, never changed, so identity says whether a cached spec still holds)."""
        key = (config.region, config.name, config.version)
        cached = self._specs.get(key)
        if cached is not None and cached[0] is config:
            return cached[1]
        spec = self._build_spec(config)
        self._specs[key] = (config, spec)
        return spec

    def _build_spec(self, config: FunctionConfig) -> FunctionSpec:
        # No explicit revision: the spec derives it from what workers depend on, so publishing
        # (a new RevisionId on $LATEST, same code and settings) keeps $LATEST's workers warm.
        return FunctionSpec(
            name=config.name,
            arn=config.version_arn,
            handler=config.handler,
            runtime=config.runtime,
            timeout=config.timeout,
            memory_size=config.memory_size,
            environment=dict(config.environment),
            code_dir=self._code_dir(config),
            code_sha256=config.code_sha256,
            version=config.version,
            region=config.region,
            account_id=config.account,
        )

    # -- changes to $LATEST ----------------------------------------------------------------

    def create(self, config: FunctionConfig, zip_bytes: bytes) -> FunctionConfig:
        if (config.region, config.name) in self._functions:
            raise ResourceConflict(f"Function already exist: {config.name}")
        staging = self.code_root / ".staging" / uuidlib.uuid4().hex
        info = extract_zip(zip_bytes, staging)
        config = replace(
            config,
            account=self.account,
            code_sha256=info.sha256_b64,
            code_size=info.size,
            last_modified=self.clock.time(),
            revision_id=str(uuidlib.uuid4()),
        )
        self._install(config, staging)

        def job(txn: Txn) -> None:
            if (config.region, config.name) in self._functions:
                raise ResourceConflict(f"Function already exist: {config.name}")
            rows.upsert_function(txn.conn, config.region, config.name, config.to_json(), zip_bytes)
            txn.after_commit(lambda: self._remember(config))

        self.store.write(job)
        self.pool.prewarm(self.spec(config))
        return config

    def update_code(
        self, region: str, name: str, zip_bytes: bytes, revision_id: str | None = None
    ) -> FunctionConfig:
        _check_revision(self.function(region, name), revision_id)
        staging = self.code_root / ".staging" / uuidlib.uuid4().hex
        info = extract_zip(zip_bytes, staging)
        with self._changes:
            current = self.function(region, name)
            config = replace(
                current,
                code_sha256=info.sha256_b64,
                code_size=info.size,
                last_modified=self.clock.time(),
                revision_id=str(uuidlib.uuid4()),
            )
            self._install(config, staging)
            self.store.write(
                lambda txn: rows.upsert_function(
                    txn.conn, region, config.name, config.to_json(), zip_bytes
                )
            )
            self._remember(config)
        self.pool.retire(self.spec(config).key)  # $LATEST's workers only; versions keep theirs
        return config

    def set_concurrency(self, region: str, name: str, reserved: int | None) -> FunctionConfig:
        """Put/DeleteFunctionConcurrency: no new revision, warm workers stay."""
        with self._changes:
            current = self.function(region, name)
            config = replace(current, reserved_concurrency=reserved)
            self.store.write(
                lambda txn: rows.update_function_config(txn.conn, region, name, config.to_json())
            )
            self._remember(config)
        return config

    def update_configuration(
        self, region: str, name: str, changes: dict[str, Any], revision_id: str | None = None
    ) -> FunctionConfig:
        with self._changes:
            current = self.function(region, name)
            _check_revision(current, revision_id)
            config = replace(
                current,
                **changes,
                last_modified=self.clock.time(),
                revision_id=str(uuidlib.uuid4()),
            )
            self.store.write(
                lambda txn: rows.update_function_config(txn.conn, region, name, config.to_json())
            )
            self._remember(config)
        self.pool.retire(self.spec(config).key)
        return config

    # -- versions --------------------------------------------------------------------------

    def publish_version(
        self,
        region: str,
        name_or_arn: str,
        *,
        code_sha256: str | None = None,
        revision_id: str | None = None,
        description: str | None = None,
    ) -> FunctionConfig:
        """Snapshot $LATEST as the next version; if nothing changed since the last version was
        published, that version is returned instead (as Lambda does)."""
        with self._changes:
            latest = self.function(region, name_or_arn)
            _check_revision(latest, revision_id)
            if code_sha256 and code_sha256 != latest.code_sha256:
                raise InvalidParameterValue(
                    f"CodeSHA256 ({code_sha256}) is different from current CodeSHA256 in "
                    f"$LATEST ({latest.code_sha256}). Please try again with the CodeSHA256 in "
                    "$LATEST."
                )
            key = (latest.region, latest.name)
            digest = content_digest(latest)
            with self._lock:
                previous = self._versions.get(key, {}).get(str(latest.last_version))
            if previous is not None and previous.source_digest == digest:
                return previous
            number = latest.last_version + 1
            version = replace(
                latest,
                version=str(number),
                description=latest.description if description is None else description,
                last_modified=self.clock.time(),
                revision_id=str(uuidlib.uuid4()),
                reserved_concurrency=None,
                last_version=0,
                source_digest=digest,
            )
            # Publishing is a change to the function: $LATEST gets a new RevisionId too.
            updated = replace(latest, last_version=number, revision_id=str(uuidlib.uuid4()))

            def job(txn: Txn) -> None:
                conn = txn.conn
                version_rows.keep_latest_code(conn, *key, latest.code_sha256)
                version_rows.insert_version(conn, *key, number, version.to_json())
                rows.update_function_config(conn, *key, updated.to_json())

            self.store.write(job)
            with self._lock:
                self._functions[key] = updated
                self._versions.setdefault(key, {})[version.version] = version
        return version

    def delete(self, region: str, name_or_arn: str, qualifier: str | None = None) -> None:
        """DeleteFunction: the whole function (every version and alias), or one version."""
        arn_region, name, wanted = split_qualifier(name_or_arn, qualifier)
        if wanted is not None and wanted != LATEST and not is_version_number(wanted):
            raise InvalidParameterValue("Deletion of aliases is not currently supported.")
        if wanted == LATEST:
            raise InvalidParameterValue(
                "$LATEST version cannot be deleted without deleting the function."
            )
        region = arn_region or region
        with self._changes:
            latest = self.function(region, name)
            if wanted is None:
                self._delete_function(latest)
            else:
                self._delete_version(latest, wanted)

    def _delete_function(self, latest: FunctionConfig) -> None:
        region, name = latest.region, latest.name

        def job(txn: Txn) -> None:
            rows.delete_function(txn.conn, region, name)
            version_rows.delete_function_history(txn.conn, region, name)

        self.store.write(job)
        with self._lock:
            self._functions.pop((region, name), None)
            self._versions.pop((region, name), None)
        self.aliases.forget_function(region, name)
        self.pool.retire(name)  # every version's workers

    def _delete_version(self, latest: FunctionConfig, wanted: str) -> None:
        key = (latest.region, latest.name)
        with self._lock:
            published = self._versions.get(key, {})
            version = published.get(wanted)
            shared = (
                any(
                    v.code_sha256 == version.code_sha256
                    for k, v in published.items()
                    if k != wanted
                )
                if version is not None
                else True
            )
        if version is None:
            return  # Lambda answers success for a version that is not there
        users = self.aliases.referencing(*key, wanted)
        if users:
            raise ResourceConflict(
                "Unable to delete version because the following aliases reference it: "
                f"[{', '.join(users)}]"
            )

        def job(txn: Txn) -> None:
            version_rows.delete_version(txn.conn, *key, int(wanted))
            if not shared:
                version_rows.drop_code(txn.conn, *key, version.code_sha256)

        self.store.write(job)
        with self._lock:
            self._versions.get(key, {}).pop(wanted, None)
        self.pool.retire(self.spec(version).key)

    # -- aliases ---------------------------------------------------------------------------

    def create_alias(
        self,
        region: str,
        name_or_arn: str,
        alias: str,
        function_version: str,
        description: str = "",
        routing: dict[str, float] | None = None,
    ) -> AliasConfig:
        routing = dict(routing or {})
        check_routing(routing, function_version)
        arn_region, name, _qualifier = parse_function_name(name_or_arn)
        with self._changes:
            target = self.resolve(arn_region or region, name, function_version)
            region, name = target.config.region, target.config.name
            if self.aliases.get(region, name, alias) is not None:
                raise ResourceConflict(
                    f"Alias already exists: {self._base_arn(region, name)}:{alias}"
                )
            for version in routing:
                self._version(region, name, version)
            created = AliasConfig(alias, function_version, description, routing)
            return self.aliases.put(region, name, created)

    def get_alias(self, region: str, name_or_arn: str, alias: str) -> AliasConfig:
        latest = self.function(region, name_or_arn)
        found = self.aliases.get(latest.region, latest.name, alias)
        if found is None:
            raise ResourceNotFound(f"Cannot find alias arn: {latest.arn}:{alias}")
        return found

    def update_alias(
        self,
        region: str,
        name_or_arn: str,
        alias: str,
        *,
        function_version: str | None = None,
        description: str | None = None,
        routing: dict[str, float] | None = None,
        revision_id: str | None = None,
    ) -> AliasConfig:
        with self._changes:
            latest = self.function(region, name_or_arn)
            region, name = latest.region, latest.name
            current = self.aliases.get(region, name, alias)
            if current is None:
                raise ResourceNotFound(f"Alias not found: {latest.arn}:{alias}")
            if revision_id and revision_id != current.revision_id:
                raise PreconditionFailed(REVISION_MISMATCH)
            changed = replace(
                current,
                function_version=function_version or current.function_version,
                description=current.description if description is None else description,
                routing=current.routing if routing is None else dict(routing),
            )
            check_routing(changed.routing, changed.function_version)
            for version in changed.targets():
                self._version(region, name, version)
            return self.aliases.put(region, name, changed)

    def delete_alias(self, region: str, name_or_arn: str, alias: str) -> None:
        """Deleting an alias that is not there succeeds, as on Lambda."""
        with self._changes:
            latest = self.function(region, name_or_arn)
            self.aliases.remove(latest.region, latest.name, alias)

    # -- bookkeeping -----------------------------------------------------------------------

    def _install(self, config: FunctionConfig, staging: Path) -> None:
        target = self._code_dir(config)
        if target.exists():
            _remove_tree(staging)
            return
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            staging.rename(target)
        except OSError:
            _remove_tree(staging)  # a concurrent install of the same code won the race

    def _install_missing(self, config: FunctionConfig, code: bytes | None) -> None:
        if not self._code_dir(config).exists():
            staging = self.code_root / ".staging" / uuidlib.uuid4().hex
            extract_zip(code or b"", staging)
            self._install(config, staging)

    def _remember(self, config: FunctionConfig) -> None:
        with self._lock:
            self._functions[(config.region, config.name)] = config

    def load(self) -> None:
        for region, name, data in self.store.startup_read(rows.load_functions):
            config = FunctionConfig.from_json(data)
            if not self._code_dir(config).exists():
                code = self.store.read(partial(rows.function_code, region=region, name=name))
                self._install_missing(config, code)
            self._remember(config)
        for region, name, data in self.store.startup_read(version_rows.load_versions):
            config = FunctionConfig.from_json(data)
            if (region, name) not in self._functions:
                continue
            if not self._code_dir(config).exists():
                code = self.store.read(
                    partial(
                        version_rows.version_code,
                        region=region,
                        name=name,
                        sha256=config.code_sha256,
                    )
                )
                self._install_missing(config, code)
            with self._lock:
                self._versions.setdefault((region, name), {})[config.version] = config
        self.aliases.load()

    # -- invocation ------------------------------------------------------------------------

    def invoke(
        self, config: FunctionConfig, payload: bytes, *, invoked_arn: str | None = None
    ) -> InvokeResult:
        """Run one invocation of ``config`` ($LATEST or a version); raises TooManyRequests when
        the function's reserved concurrency (shared by all its versions) is used up: the
        invocation never reaches the function, as on AWS."""
        key = (config.region, config.name)
        with self._lock:
            running = self._running.get(key, 0)
            limit = self._functions.get(key, config).reserved_concurrency
            if limit is not None and running >= limit:
                metrics.THROTTLES.inc(function=config.name)
                self.cloudwatch.throttled(config.region, config.name)
                raise TooManyRequests()
            self._running[key] = running + 1
        started = self.cloudwatch.started(config.region, config.name)
        try:
            spec = self.spec(config)
            result = self.pool.invoke(spec, payload, invoked_arn=invoked_arn or spec.arn)
        finally:
            with self._lock:
                self._running[key] -= 1
            self.cloudwatch.finished(config.region, config.name)
        metrics.INVOCATIONS.inc(function=config.name)
        metrics.DURATION.inc(result.duration_ms / 1000, function=config.name)
        if result.status != "ok":
            metrics.ERRORS.inc(function=config.name)
        self.cloudwatch.invoked(
            config.region, config.name, started, result.duration_ms, result.status != "ok"
        )
        return result

    def invoke_for_mapping(self, function_arn: str, payload: bytes) -> Outcome:
        """A mapping's batch: its function ARN is resolved now, so a mapping on an alias runs
        whatever version the alias points at when the batch goes."""
        try:
            target = self.resolve("", function_arn)
        except (ResourceNotFound, InvalidParameterValue):
            return Outcome("not_found")
        config = self.choose(target)
        try:
            result = self.invoke(config, payload, invoked_arn=target.arn)
        except (RuntimeError, TooManyRequests):  # throttled, or the server is stopping
            return Outcome("throttled")
        return Outcome(result.status, result.payload, result.request_id, config.version)


def _check_revision(config: FunctionConfig, revision_id: str | None) -> None:
    if revision_id and revision_id != config.revision_id:
        raise PreconditionFailed(REVISION_MISMATCH)


def _remove_tree(path: Path) -> None:
    import shutil

    shutil.rmtree(path, ignore_errors=True)
