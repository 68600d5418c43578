"""The function registry: Lambda functions' configuration and code, durable, plus invocation.

Each function has ``$LATEST`` (what Create/UpdateFunction* change), may have published versions
(immutable snapshots made by PublishVersion) and aliases pointing at versions
(``functions/aliases.py``); what a qualified name resolves to is ``functions/lookups.py``. Code
zips are kept in the database (so a restart loses nothing) and extracted once per distinct code
under ``<data dir>/functions`` (``functions/code_dirs.py``, which also removes a directory once
no version, invocation or worker uses it); warm workers import from there, one set of workers
per (function, version). The registry implements the mapping runtime's
:class:`~headwater.mapping.invoker.Invoker` interface, resolving a mapping's (possibly qualified)
function ARN at every batch.
"""

from __future__ import annotations

import threading
import uuid as uuidlib
from collections.abc import Callable
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import Any

from headwater import metrics
from headwater.clock import Clock
from headwater.cloudwatch.lambda_metrics import Invocation, LambdaMetrics
from headwater.errors import (
    InvalidParameterValue,
    PreconditionFailed,
    ResourceConflict,
    ResourceNotFound,
    TooManyRequests,
)
from headwater.functions.aliases import REVISION_MISMATCH, AliasBook, AliasConfig, check_routing
from headwater.functions.code import extract_zip
from headwater.functions.code_dirs import CodeDirectories
from headwater.functions.config import LATEST, FunctionConfig, content_digest
from headwater.functions.event_configs import EventConfigBook, EventSettings
from headwater.functions.lookups import FunctionLookups, Target
from headwater.functions.names import (
    is_version_number,
    lambda_timestamp,
    parse_function_name,
    split_qualifier,
)
from headwater.functions.pool import InvokeResult, WorkerPool
from headwater.functions.spec import FunctionSpec
from headwater.mapping.invoker import Outcome
from headwater.storage import event_config_rows, rows, version_rows
from headwater.storage.store import Store, Txn

__all__ = [
    "FunctionConfig",
    "FunctionRegistry",
    "Target",
    "lambda_timestamp",
    "parse_function_name",
    "split_qualifier",
]


class FunctionRegistry(FunctionLookups):
    def __init__(
        self, store: Store, pool: WorkerPool, clock: Clock, code_root: Path, account: str
    ) -> None:
        super().__init__(account, AliasBook(store))
        self.store = store
        self.pool = pool
        self.clock = clock
        self.code = CodeDirectories(code_root, self._needed_code, pool.uses)
        pool.on_workers_ended = self.code.sweep
        self._running: dict[tuple[str, str], int] = {}  # invocations in flight per function
        # (region, name, version) -> the config a spec was built from, and the spec
        self._specs: dict[tuple[str, str, str], tuple[FunctionConfig, FunctionSpec]] = {}
        self.cloudwatch = LambdaMetrics()  # CloudWatch's AWS/Lambda metrics (runtime.py wires)
        # Changes that check and then write (publish, versions, aliases, updates) go one at a time.
        self._changes = threading.RLock()
        # Asynchronous invocation settings per qualifier (Put/GetFunctionEventInvokeConfig...).
        self.event_configs = EventConfigBook(store)
        self.event_settings = EventSettings(self, self.event_configs, clock)

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

    def _needed_code(self) -> set[Path]:
        return {self.code.path(config) for config in self.configs()}

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
            code_dir=self.code.path(config),
            code_sha256=config.code_sha256,
            version=config.version,
            region=config.region,
            account_id=config.account,
        )

    # -- changes to $LATEST ----------------------------------------------------------------

    def create(self, config: FunctionConfig, zip_bytes: bytes) -> FunctionConfig:
        if (config.region, config.name) in self._functions:
            raise ResourceConflict(f"Function already exist: {config.name}")
        staging = self.code.staging()
        info = extract_zip(zip_bytes, staging)
        config = replace(
            config,
            account=self.account,
            code_sha256=info.sha256_b64,
            code_size=info.size,
            last_modified=self.clock.time(),
            revision_id=str(uuidlib.uuid4()),
        )
        self.code.install(config, staging)

        def job(txn: Txn) -> None:
            if (config.region, config.name) in self._functions:
                raise ResourceConflict(f"Function already exist: {config.name}")
            rows.upsert_function(txn.conn, config.region, config.name, config.to_json(), zip_bytes)
            txn.after_commit(lambda: self._remember(config))

        try:
            self.store.write(job)
        except BaseException:
            self.code.forget([self.code.path(config)])  # unless the existing function uses it
            raise
        self.pool.prewarm(self.spec(config))
        return config

    def update_code(
        self, region: str, name: str, zip_bytes: bytes, revision_id: str | None = None
    ) -> FunctionConfig:
        _check_revision(self.function(region, name), revision_id)
        staging = self.code.staging()
        info = extract_zip(zip_bytes, staging)
        with self._changes:
            try:
                current = self.function(region, name)
            except ResourceNotFound:  # deleted meanwhile
                self.code.discard(staging)
                raise
            config = replace(
                current,
                code_sha256=info.sha256_b64,
                code_size=info.size,
                last_modified=self.clock.time(),
                revision_id=str(uuidlib.uuid4()),
            )
            self.code.install(config, staging)
            try:
                self.store.write(
                    lambda txn: rows.upsert_function(
                        txn.conn, region, config.name, config.to_json(), zip_bytes
                    )
                )
            except BaseException:
                self.code.forget([self.code.path(config)])
                raise
            self._remember(config)
        self.pool.retire(self.spec(config).key)  # $LATEST's workers only; versions keep theirs
        # The old code goes once no version, invocation or worker uses it.
        self.code.forget([self.code.path(current)])
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
            self._build_spec(config)  # refuses an out-of-range timeout or memory before storing
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
            event_config_rows.delete_event_config(txn.conn, region, name)

        self.store.write(job)
        with self._lock:
            self._functions.pop((region, name), None)
            published = self._versions.pop((region, name), {})
        self.aliases.forget_function(region, name)
        self.event_configs.forget(region, name)
        self.pool.retire(name)  # every version's workers
        self.code.forget(self.code.path(c) for c in (latest, *published.values()))
        self._forget_specs(region, name)

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
            event_config_rows.delete_event_config(txn.conn, *key, wanted)
            if not shared:
                version_rows.drop_code(txn.conn, *key, version.code_sha256)

        self.store.write(job)
        with self._lock:
            self._versions.get(key, {}).pop(wanted, None)
        self.event_configs.forget(*key, wanted)
        self.pool.retire(self.spec(version).key)
        self.code.forget([self.code.path(version)])
        self._forget_specs(*key, wanted)

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
            self.event_configs.remove(latest.region, latest.name, alias)

    # -- bookkeeping -----------------------------------------------------------------------

    def _remember(self, config: FunctionConfig) -> None:
        with self._lock:
            self._functions[(config.region, config.name)] = config

    def _forget_specs(self, region: str, name: str, version: str | None = None) -> None:
        # list() copies the keys in one step: invocations may add specs meanwhile.
        for key in [k for k in list(self._specs) if k[:2] == (region, name)]:
            if version is None or key[2] == version:
                self._specs.pop(key, None)

    def load(self) -> None:
        for region, name, data in self.store.startup_read(rows.load_functions):
            config = FunctionConfig.from_json(data)
            if not self.code.path(config).exists():
                code = self.store.read(partial(rows.function_code, region=region, name=name))
                self.code.install_missing(config, code)
            self._remember(config)
        for region, name, data in self.store.startup_read(version_rows.load_versions):
            config = FunctionConfig.from_json(data)
            if (region, name) not in self._functions:
                continue
            if not self.code.path(config).exists():
                code = self.store.read(
                    partial(
                        version_rows.version_code,
                        region=region,
                        name=name,
                        sha256=config.code_sha256,
                    )
                )
                self.code.install_missing(config, code)
            with self._lock:
                self._versions.setdefault((region, name), {})[config.version] = config
        self.aliases.load()
        self.event_configs.load()
        self.code.prune()

    # -- invocation ------------------------------------------------------------------------

    def invoke(
        self,
        config: FunctionConfig,
        payload: bytes,
        *,
        invoked_arn: str | None = None,
        request_id: str | None = None,
        on_sent: Callable[[], None] | None = None,
    ) -> InvokeResult:
        """Run one invocation of ``config`` ($LATEST or a version); raises TooManyRequests when
        the function's reserved concurrency (shared by all its versions) is used up: the
        invocation never reaches the function, as on AWS. ``invoked_arn`` is the ARN as the
        caller qualified it: a version's or alias's invocations are published under their own
        CloudWatch dimensions too. ``request_id`` is given when it is not a new request (an
        asynchronous invocation keeps its request id through its retries)."""
        key = (config.region, config.name)
        published = _published(config, invoked_arn)
        with self._lock:
            running = self._running.get(key, 0)
            limit = self._functions.get(key, config).reserved_concurrency
            if limit is not None and running >= limit:
                metrics.THROTTLES.inc(function=config.name)
                self.cloudwatch.throttled(published)
                raise TooManyRequests()
            self._running[key] = running + 1
        published = self.cloudwatch.started(published)
        try:
            spec = self.spec(config)
            with self.code.running(spec.code_dir):
                result = self.pool.invoke(
                    spec,
                    payload,
                    request_id=request_id,
                    invoked_arn=invoked_arn or spec.arn,
                    on_sent=on_sent,
                )
        finally:
            with self._lock:
                self._running[key] -= 1
            self.cloudwatch.finished(published)
        metrics.INVOCATIONS.inc(function=config.name)
        metrics.DURATION.inc(result.duration_ms / 1000, function=config.name)
        if result.status != "ok":
            metrics.ERRORS.inc(function=config.name)
        self.cloudwatch.invoked(published, result.duration_ms, result.status != "ok")
        return result

    def invoke_for_mapping(
        self, function_arn: str, payload: bytes, on_sent: Callable[[], None] | None = None
    ) -> Outcome:
        """A mapping's batch: its function ARN is resolved now, so a mapping on an alias runs
        whatever version the alias points at when the batch goes."""
        try:
            target = self.resolve("", function_arn)
        except (ResourceNotFound, InvalidParameterValue):
            return Outcome("not_found")
        config = self.choose(target)
        try:
            result = self.invoke(config, payload, invoked_arn=target.arn, on_sent=on_sent)
        except (RuntimeError, TooManyRequests):  # throttled, or the server is stopping
            return Outcome("throttled")
        return Outcome(result.status, result.payload, result.request_id, config.version)


def _published(config: FunctionConfig, invoked_arn: str | None) -> Invocation:
    """How CloudWatch files an invocation of ``config`` made through ``invoked_arn``: with the
    caller's qualifier (a version, ``$LATEST`` or an alias) as its Resource, and for an alias the
    version that ran as its ExecutedVersion."""
    qualifier = parse_function_name(invoked_arn)[2] if invoked_arn else None
    if qualifier is None and not config.is_latest:
        qualifier = config.version  # a version run directly, without an ARN saying so
    alias = qualifier is not None and qualifier != LATEST and not is_version_number(qualifier)
    return Invocation(config.region, config.name, qualifier, config.version if alias else None)


def _check_revision(config: FunctionConfig, revision_id: str | None) -> None:
    if revision_id and revision_id != config.revision_id:
        raise PreconditionFailed(REVISION_MISMATCH)
