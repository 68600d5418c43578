"""Primary key schemas: extracting, checking and identifying the key of an item.

Key checks run after the table is found (errors.md §6 step 7) and carry AWS's KEY-* messages.
Imports only the model and ``headwater.errors``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Final

from headwater.errors import ValidationError
from headwater.model.compare import b64_bytes, utf8
from headwater.model.key_encoding import encode_key, encode_number
from headwater.model.numbers import parse_number
from headwater.model.types import AttrValue, Item, type_of
from headwater.model.values import validate_item

__all__ = ["KeySchema", "encode_key", "encode_number", "key_string"]

KEY_TYPES: Final = ("S", "N", "B")
MAX_HASH_BYTES: Final = 2048
MAX_RANGE_BYTES: Final = 1024

_INVALID: Final = "One or more parameter values were invalid: "
SCHEMA_MISMATCH: Final = "The provided key element does not match the schema"
HASH_TOO_LONG: Final = _INVALID + "Size of hashkey has exceeded the maximum size limit of2048 bytes"
RANGE_TOO_LONG: Final = (
    _INVALID + "Aggregated size of all range keys has exceeded the size limit of 1024 bytes"
)
_EMPTY_KEY: Final = (
    "The AttributeValue for a key attribute cannot contain an empty {} value. Key: {}"
)


def _key_bytes(value: AttrValue) -> int:
    type_name = type_of(value)
    if type_name == "S":
        return len(utf8(value["S"]))
    if type_name == "B":
        return len(b64_bytes(value["B"]))
    return 1  # numbers are never too long


def _empty_kind(value: AttrValue) -> str | None:
    type_name = type_of(value)
    if type_name == "S" and value["S"] == "":
        return "string"
    if type_name == "B" and value["B"] == "":
        return "binary"
    return None


@dataclass(frozen=True)
class KeySchema:
    """A table's (or index's) primary key: a hash attribute and an optional range attribute."""

    hash_name: str
    hash_type: str
    range_name: str | None = None
    range_type: str | None = None

    def __post_init__(self) -> None:
        if self.hash_type not in KEY_TYPES:
            raise ValueError(f"hash_type must be S, N or B, not {self.hash_type!r}")
        if (self.range_name is None) != (self.range_type is None):
            raise ValueError("range_name and range_type go together")
        if self.range_type is not None and self.range_type not in KEY_TYPES:
            raise ValueError(f"range_type must be S, N or B, not {self.range_type!r}")

    @property
    def key_names(self) -> tuple[str, ...]:
        if self.range_name is None:
            return (self.hash_name,)
        return (self.hash_name, self.range_name)

    @property
    def attributes(self) -> tuple[tuple[str, str], ...]:
        """``(name, type)`` pairs, hash first."""
        pairs = [(self.hash_name, self.hash_type)]
        if self.range_name is not None and self.range_type is not None:
            pairs.append((self.range_name, self.range_type))
        return tuple(pairs)

    def extract_key(self, item: Item) -> Item:
        """The key attributes of an item (those it has), in schema order."""
        return {name: item[name] for name in self.key_names if name in item}

    def _check_size(self, name: str, value: AttrValue) -> None:
        if name == self.hash_name:
            if _key_bytes(value) > MAX_HASH_BYTES:
                raise ValidationError(HASH_TOO_LONG)
        elif _key_bytes(value) > MAX_RANGE_BYTES:
            raise ValidationError(RANGE_TOO_LONG)

    def validate_key(self, key: Any) -> Item:
        """Check a Key parameter (GetItem, DeleteItem, UpdateItem, batch deletes).

        Returns the normalised key in schema order.
        """
        checked = validate_item(key, path="key")
        if len(checked) != len(self.key_names):
            raise ValidationError(SCHEMA_MISMATCH)
        for name, type_name in self.attributes:
            value = checked.get(name)
            if value is None or type_of(value) != type_name:
                raise ValidationError(SCHEMA_MISMATCH)
            empty = _empty_kind(value)
            if empty is not None:
                raise ValidationError(_INVALID + _EMPTY_KEY.format(empty, name))
            self._check_size(name, value)
        return self.extract_key(checked)

    def validate_item_keys(self, item: Item, *, batch: bool = False) -> Item:
        """Check the key attributes of an item being put; returns its key.

        ``batch=True`` gives BatchWriteItem's wording, which reports a missing or mistyped
        key attribute as a schema mismatch (errors.md KEY-04).
        """
        for name, type_name in self.attributes:
            value = item.get(name)
            if value is None:
                if batch:
                    raise ValidationError(SCHEMA_MISMATCH)
                raise ValidationError(f"{_INVALID}Missing the key {name} in the item")
            actual = type_of(value)
            if actual != type_name:
                if batch:
                    raise ValidationError(SCHEMA_MISMATCH)
                raise ValidationError(
                    f"{_INVALID}Type mismatch for key {name} expected: {type_name} actual: {actual}"
                )
            empty = _empty_kind(value)
            if empty is not None:
                raise ValidationError(
                    "One or more parameter values are not valid. " + _EMPTY_KEY.format(empty, name)
                )
            self._check_size(name, value)
        return self.extract_key(item)


def _canonical(value: AttrValue) -> AttrValue:
    type_name = type_of(value)
    if type_name == "N":
        return {"N": parse_number(value["N"]).text()}
    return {type_name: value[type_name]}


def key_string(key: Item) -> str:
    """A stable text identity for a full primary key (equal keys give equal strings)."""
    canonical = {name: _canonical(key[name]) for name in sorted(key)}
    return json.dumps(canonical, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
