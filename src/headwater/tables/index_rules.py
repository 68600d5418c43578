"""DynamoDB's rules for secondary index definitions: CreateTable (errors.md CT-22..CT-34) and
UpdateTable's GlobalSecondaryIndexUpdates (UT-06..UT-20), checked in the order AWS checks them.

Pure functions over the request (already shape-checked by ``api/shapes.py``) and the table as
it stands; they return :class:`~headwater.tables.indexes.IndexDef` values or raise AWS's errors.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Final

from headwater.errors import LimitExceeded, ResourceNotFound, ValidationError
from headwater.model.keys import KeySchema
from headwater.tables.indexes import ACTIVE, CREATING, DELETING, IndexDef

PARAM_INVALID: Final = "One or more parameter values were invalid: "
MAX_CAPACITY: Final = 10**12
MAX_LOCAL: Final = 5
MAX_GLOBAL: Final = 20
ONE_AT_A_TIME: Final = (
    "Subscriber limit exceeded: Only 1 online index can be created or deleted simultaneously per "
    "table"
)
_UPDATE_KINDS: Final = (
    "GlobalSecondaryIndexUpdate.Update, GlobalSecondaryIndexUpdate.Create, "
    "GlobalSecondaryIndexUpdate.Delete"
)

Definitions = tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class IndexSpec:
    """One LocalSecondaryIndex / GlobalSecondaryIndex (or GSI Create) as requested."""

    name: str
    key_schema: tuple[tuple[str, str], ...]  # (attribute name, HASH|RANGE)
    projection_type: str | None
    non_key_attributes: tuple[str, ...] | None = None
    read_capacity: int | None = None
    write_capacity: int | None = None

    @property
    def has_throughput(self) -> bool:
        return self.read_capacity is not None or self.write_capacity is not None


@dataclass(frozen=True)
class IndexUpdate:
    """One entry of GlobalSecondaryIndexUpdates. ``kinds`` lists the actions the entry
    carries (AWS wants exactly one); ``create`` is the Create action's index."""

    kinds: tuple[str, ...]
    name: str = ""
    create: IndexSpec | None = None
    read_capacity: int | None = None
    write_capacity: int | None = None


def check_capacity(read: int | None, write: int | None) -> None:
    if read is not None and read > MAX_CAPACITY:
        raise ValidationError(f"Given value {read} for ReadCapacityUnits is out of bounds")
    if write is not None and write > MAX_CAPACITY:
        raise ValidationError(f"Given value {write} for WriteCapacityUnits is out of bounds")


# -- one index ----------------------------------------------------------------------------------


def _check_defined(spec: IndexSpec, defs: Definitions) -> None:
    names = [name for name, _ in defs]
    keys = [name for name, _ in spec.key_schema]
    if any(key not in names for key in keys):
        raise ValidationError(
            f"{PARAM_INVALID}Some index key attributes are not defined in AttributeDefinitions. "
            f"Keys: [{', '.join(keys)}], AttributeDefinitions: [{', '.join(names)}]"
        )


def _check_key_schema(spec: IndexSpec) -> None:
    keys = spec.key_schema
    if len(keys) == 2 and keys[0][0] == keys[1][0]:
        raise ValidationError(
            "Both the Hash Key and the Range Key element in the KeySchema have the same name"
        )
    if keys[0][1] != "HASH":
        raise ValidationError(
            "Invalid KeySchema: The first KeySchemaElement is not a HASH key type"
        )
    if len(keys) == 2 and keys[1][1] != "RANGE":
        raise ValidationError(
            "Invalid KeySchema: The second KeySchemaElement is not a RANGE key type"
        )


def _check_projection(spec: IndexSpec) -> None:
    kind = spec.projection_type
    if kind is None:
        raise ValidationError(f"{PARAM_INVALID}Unknown ProjectionType: null")
    if spec.non_key_attributes is not None and kind != "INCLUDE":
        raise ValidationError(
            f"{PARAM_INVALID}ProjectionType is {kind}, but NonKeyAttributes is specified"
        )
    if kind == "INCLUDE" and not spec.non_key_attributes:
        raise ValidationError(
            f"{PARAM_INVALID}ProjectionType is INCLUDE, but NonKeyAttributes is not specified"
        )


def _check_global_throughput(spec: IndexSpec, billing: str) -> None:
    if billing == "PAY_PER_REQUEST":
        if spec.has_throughput:
            raise ValidationError(
                f"{PARAM_INVALID}ProvisionedThroughput should not be specified for index: "
                f"{spec.name} when BillingMode is PAY_PER_REQUEST"
            )
        return
    if spec.read_capacity is None or spec.write_capacity is None:
        # INFERRED wording (a third-party catalogue of AWS's CreateTable texts).
        raise ValidationError(
            f"{PARAM_INVALID}ProvisionedThroughput is not specified for index: {spec.name}"
        )
    check_capacity(spec.read_capacity, spec.write_capacity)


def _definition(spec: IndexSpec, *, is_global: bool, defs: Definitions, billing: str) -> IndexDef:
    types = dict(defs)
    hash_name = spec.key_schema[0][0]
    range_name = spec.key_schema[1][0] if len(spec.key_schema) == 2 else None
    provisioned = is_global and billing != "PAY_PER_REQUEST"
    return IndexDef(
        name=spec.name,
        is_global=is_global,
        key_schema=KeySchema(
            hash_name,
            types[hash_name],
            range_name,
            types[range_name] if range_name is not None else None,
        ),
        projection_type=spec.projection_type or "ALL",
        non_key_attributes=tuple(spec.non_key_attributes or ()),
        read_capacity=(spec.read_capacity or 0) if provisioned else 0,
        write_capacity=(spec.write_capacity or 0) if provisioned else 0,
    )


# -- CreateTable --------------------------------------------------------------------------------


def create_indexes(
    table_keys: KeySchema,
    defs: Definitions,
    billing: str,
    local: Sequence[IndexSpec] | None,
    global_: Sequence[IndexSpec] | None,
) -> tuple[IndexDef, ...]:
    """The indexes a CreateTable asks for, after CT-22..CT-34 (dynalite's order, which was
    written against AWS)."""
    created: list[IndexDef] = []
    names: set[str] = set()

    def claim(name: str) -> None:
        if name in names:
            raise ValidationError(f"{PARAM_INVALID}Duplicate index name: {name}")
        names.add(name)

    if local is not None:
        if not local:
            raise ValidationError(f"{PARAM_INVALID}List of LocalSecondaryIndexes is empty")
        if table_keys.range_name is None:
            raise ValidationError(
                f"{PARAM_INVALID}Table KeySchema does not have a range key, which is required "
                "when specifying a LocalSecondaryIndex"
            )
        for spec in local:
            _check_defined(spec, defs)
            _check_key_schema(spec)
            if len(spec.key_schema) != 2:
                raise ValidationError(
                    f"{PARAM_INVALID}Index KeySchema does not have a range key for index: "
                    f"{spec.name}"
                )
            index_hash = spec.key_schema[0][0]
            if index_hash != table_keys.hash_name:
                raise ValidationError(
                    f"{PARAM_INVALID}Index KeySchema does not have the same leading hash key as "
                    f"table KeySchema for index: {spec.name}. index hash key: {index_hash}, "
                    f"table hash key: {table_keys.hash_name}"
                )
            _check_projection(spec)
            claim(spec.name)
            created.append(_definition(spec, is_global=False, defs=defs, billing=billing))
        if len(local) > MAX_LOCAL:
            raise ValidationError(
                f"{PARAM_INVALID}Number of LocalSecondaryIndexes exceeds per-table limit of "
                f"{MAX_LOCAL}"
            )
    if global_ is not None:
        if not global_:
            raise ValidationError(f"{PARAM_INVALID}List of GlobalSecondaryIndexes is empty")
        for spec in global_:
            _check_defined(spec, defs)
            _check_key_schema(spec)
            _check_projection(spec)
            _check_global_throughput(spec, billing)
            claim(spec.name)
            created.append(_definition(spec, is_global=True, defs=defs, billing=billing))
        if len(global_) > MAX_GLOBAL:
            raise ValidationError(
                f"{PARAM_INVALID}GlobalSecondaryIndex count exceeds the per-table limit of "
                f"{MAX_GLOBAL}"
            )
    _check_all_used(table_keys, defs, created)
    return tuple(created)


def _check_all_used(table_keys: KeySchema, defs: Definitions, created: list[IndexDef]) -> None:
    """With indexes, AttributeDefinitions must name exactly the key attributes in use."""
    used: list[str] = list(table_keys.key_names)
    for index in created:
        used.extend(name for name in index.key_schema.key_names if name not in used)
    defined = [name for name, _ in defs]
    if any(name not in used for name in defined):
        raise ValidationError(
            f"{PARAM_INVALID}Some AttributeDefinitions are not used. AttributeDefinitions: "
            f"[{', '.join(defined)}], keys used: [{', '.join(used)}]"
        )


# -- UpdateTable: GlobalSecondaryIndexUpdates ----------------------------------------------------


def check_update_request(updates: Sequence[IndexUpdate]) -> None:
    """The checks that need no table (UT-08..UT-10)."""
    seen: set[str] = set()
    for update in updates:
        if not update.kinds:
            raise ValidationError(f"{PARAM_INVALID}One of {_UPDATE_KINDS} must not be null")
        if len(update.kinds) > 1:
            # INFERRED wording: AWS accepts exactly one action per entry.
            raise ValidationError(f"{PARAM_INVALID}Only one of {_UPDATE_KINDS} can be specified")
        if update.name in seen:
            raise ValidationError(
                f"{PARAM_INVALID}Only one global secondary index update per index is allowed "
                f"simultaneously. Index: {update.name}"
            )
        seen.add(update.name)
    if sum(1 for update in updates if update.kinds[0] in ("Create", "Delete")) > 1:
        raise LimitExceeded(ONE_AT_A_TIME)


@dataclass(frozen=True)
class IndexChanges:
    """What GlobalSecondaryIndexUpdates do to a table: its new index list and definitions,
    and which index starts building or dropping (a background job finishes those)."""

    indexes: tuple[IndexDef, ...]
    definitions: Definitions
    created: str | None = None
    deleted: str | None = None


def _schema_text(elements: list[tuple[str, str, str]]) -> str:
    inner = ", ".join(f"SchemaElement: key{{{n}:{t}:{k}}}" for n, t, k in elements)
    return f"Schema:[{inner}]"


def _check_redefinition(
    table_name_keys: list[tuple[str, str, str]], spec: IndexSpec, defs: Definitions
) -> None:
    """UT-19: a new index may not give an attribute a type other than the one it has."""
    requested = dict(defs)
    for name, _ in spec.key_schema:
        existing = [element for element in table_name_keys if element[0] == name]
        if existing and requested.get(name) not in (None, existing[0][1]):
            new = [(n, requested[n], k) for n, k in spec.key_schema if n == name]
            raise ValidationError(
                f"{PARAM_INVALID}Attributes cannot be redefined. Please check that your "
                "attribute has the same type as previously defined. Existing schema: "
                f"{_schema_text(existing[:1])} New schema: {_schema_text(new)}"
            )


def _key_elements(table_keys: KeySchema, indexes: Sequence[IndexDef]) -> list[tuple[str, str, str]]:
    """Every key element in use as ``(name, type, HASH|RANGE)``: the table's, then indexes'."""
    elements: list[tuple[str, str, str]] = []
    for schema in (table_keys, *(index.key_schema for index in indexes)):
        for name, type_name in schema.attributes:
            kind = "HASH" if name == schema.hash_name else "RANGE"
            elements.append((name, type_name, kind))
    return elements


def apply_updates(
    *,
    table_keys: KeySchema,
    indexes: tuple[IndexDef, ...],
    definitions: Definitions,
    billing: str,
    billing_changed_to: str | None,
    updates: Sequence[IndexUpdate],
    request_definitions: Definitions,
    now: float = 0.0,
) -> IndexChanges:
    """The table-level rules of GlobalSecondaryIndexUpdates (UT-11..UT-20) and their effect.
    ``billing`` is the billing mode after the request."""
    current = list(indexes)
    defs = list(definitions)
    created: str | None = None
    deleted: str | None = None
    busy = [index for index in current if index.status in (CREATING, DELETING)]
    for update in updates:
        if busy and update.kinds[0] in ("Create", "Delete"):
            # An index being created can be deleted during its Backfilling phase (API
            # Reference, GlobalSecondaryIndexDescription.Backfilling); nothing else meanwhile.
            backfilling = busy[0].status == CREATING and busy[0].backfilling
            if not (
                update.kinds[0] == "Delete"
                and len(busy) == 1
                and busy[0].name == update.name
                and backfilling
            ):
                raise LimitExceeded(ONE_AT_A_TIME)
    updated: set[str] = set()
    for update in updates:
        kind = update.kinds[0]
        position = next((i for i, index in enumerate(current) if index.name == update.name), None)
        if kind == "Update":
            check_index_update_bounds(update)
            if position is None or not current[position].is_global:
                raise ResourceNotFound(
                    f"Requested resource not found: Index: {update.name} not found"
                )
            index = current[position]
            if billing == "PAY_PER_REQUEST":
                raise ValidationError(
                    f"{PARAM_INVALID}ProvisionedThroughput should not be specified for index: "
                    f"{update.name} when BillingMode is PAY_PER_REQUEST"
                )
            if (
                update.read_capacity == index.read_capacity
                and update.write_capacity == index.write_capacity
                and billing_changed_to is None
            ):
                raise ValidationError(
                    "The provisioned throughput for the table will not change. The requested "
                    "value equals the current value. Current ReadCapacityUnits provisioned for "
                    f"the table: {index.read_capacity}. Requested ReadCapacityUnits: "
                    f"{update.read_capacity}. Current WriteCapacityUnits provisioned for the "
                    f"table: {index.write_capacity}. Requested WriteCapacityUnits: "
                    f"{update.write_capacity}. Refer to the Amazon DynamoDB Developer Guide for "
                    "current limits and how to request higher limits."
                )
            read, write = update.read_capacity or 0, update.write_capacity or 0
            history = index.history
            if billing_changed_to is None:  # a change between two provisioned settings
                old = (index.read_capacity, index.write_capacity)
                history = history.after_change(old, (read, write), now)
            current[position] = replace(
                index, read_capacity=read, write_capacity=write, history=history
            )
            updated.add(update.name)
        elif kind == "Delete":
            if position is None:
                # INFERRED wording (errors.md UT-18 has only the type).
                raise ResourceNotFound(
                    f"Requested resource not found: Index: {update.name} not found"
                )
            if not current[position].is_global:
                # INFERRED wording: AWS knows the name but it is a local index.
                raise ValidationError(
                    f"{PARAM_INVALID}Local secondary indexes cannot be deleted: {update.name}"
                )
            current[position] = replace(current[position], status=DELETING, backfilling=False)
            deleted = update.name
        else:
            spec = update.create
            assert spec is not None
            if position is not None:
                # INFERRED wording (errors.md UT-17 has the fragment "already exists").
                raise ValidationError(f"{PARAM_INVALID}Index with name: {spec.name} already exists")
            _check_defined(spec, request_definitions)
            _check_key_schema(spec)
            _check_projection(spec)
            _check_redefinition(_key_elements(table_keys, current), spec, request_definitions)
            _check_global_throughput(spec, billing)
            if sum(1 for index in current if index.is_global) + 1 > MAX_GLOBAL:
                raise ValidationError(
                    f"{PARAM_INVALID}GlobalSecondaryIndex count exceeds the per-table limit of "
                    f"{MAX_GLOBAL}"
                )
            known = dict(defs)
            for name, _ in spec.key_schema:
                if name not in known:
                    pair = (name, dict(request_definitions)[name])
                    defs.append(pair)
                    known[name] = pair[1]
            index = _definition(spec, is_global=True, defs=tuple(defs), billing=billing)
            current.append(replace(index, status=CREATING, backfilling=True))
            created = spec.name
    if billing_changed_to == "PROVISIONED":
        missing = [
            index.name
            for index in current
            if index.is_global
            and index.status != DELETING
            and index.name not in updated
            and index.name != created
        ]
        if missing:
            raise ValidationError(
                f"{PARAM_INVALID}ProvisionedThroughput must be specified for index: "
                f"{','.join(missing)}"
            )
    if billing_changed_to == "PAY_PER_REQUEST":
        current = [
            replace(index, read_capacity=0, write_capacity=0) if index.is_global else index
            for index in current
        ]
    if deleted is not None:
        defs = _drop_unused(table_keys, current, deleted, defs)
    return IndexChanges(tuple(current), tuple(defs), created, deleted)


def _drop_unused(
    table_keys: KeySchema, indexes: list[IndexDef], deleted: str, defs: list[tuple[str, str]]
) -> list[tuple[str, str]]:
    """AttributeDefinitions keeps only attributes some remaining key still uses."""
    used = {
        name for name, _, _ in _key_elements(table_keys, [i for i in indexes if i.name != deleted])
    }
    return [pair for pair in defs if pair[0] in used]


def check_index_update_bounds(update: IndexUpdate) -> None:
    """UT-15: capacities past AWS's bounds on an index Update are refused as blocked."""
    if (update.read_capacity or 0) > MAX_CAPACITY or (update.write_capacity or 0) > MAX_CAPACITY:
        raise ValidationError(
            "This operation cannot be performed with given input values. Please contact "
            "DynamoDB service team for more info: Action Blocked: IndexUpdate"
        )


def finished(index: IndexDef) -> IndexDef:
    return replace(index, status=ACTIVE, backfilling=False)
