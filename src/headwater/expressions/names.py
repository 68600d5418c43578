"""ExpressionAttributeNames and ExpressionAttributeValues of one request (errors.md EP).

One ``ExpressionParams`` serves every expression of a request, so "unused" can be judged
across all of them, the way AWS does. Imports the model and ``headwater.errors``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any, Final

from headwater.errors import ValidationError
from headwater.model.types import AttrValue
from headwater.model.values import MAX_NAME_BYTES, validate_value

_NAME_KEY: Final = re.compile(r"#[A-Za-z0-9_]+")
_VALUE_KEY: Final = re.compile(r":[A-Za-z0-9_]+")


def _unused(member: str, keys: list[str]) -> ValidationError:
    listed = ", ".join(keys)
    return ValidationError(f"Value provided in {member} unused in expressions: keys: {{{listed}}}")


class ExpressionParams:
    """Checked placeholders plus a record of which ones the expressions used."""

    def __init__(self, names: Mapping[str, Any] | None, values: Mapping[str, Any] | None) -> None:
        if names is not None and not names:
            raise ValidationError("ExpressionAttributeNames must not be empty")
        if values is not None and not values:
            raise ValidationError("ExpressionAttributeValues must not be empty")
        self._names: dict[str, str] = {}
        self._values: dict[str, AttrValue] = {}
        for key in names or {}:
            if not _NAME_KEY.fullmatch(key):
                raise ValidationError(
                    f'ExpressionAttributeNames contains invalid key: Syntax error; key: "{key}"'
                )
        for key in values or {}:
            if not _VALUE_KEY.fullmatch(key):
                raise ValidationError(
                    f'ExpressionAttributeValues contains invalid key: Syntax error; key: "{key}"'
                )
        for key, name in (names or {}).items():
            self._names[key] = _check_name(key, name)
        for key, value in (values or {}).items():
            try:
                self._values[key] = validate_value(value, path="expressionAttributeValues")
            except ValidationError as error:
                raise ValidationError(
                    f"ExpressionAttributeValues contains invalid value: {error.message} "
                    f"for key {key}"
                ) from None
        self._used_names: set[str] = set()
        self._used_values: set[str] = set()
        self._signature: tuple[object, ...] | None = None

    @property
    def signature(self) -> tuple[object, ...]:
        """What a parse may depend on besides the text: the names and the values' types."""
        if self._signature is None:
            self._signature = (
                tuple(self._names.items()),
                tuple((key, next(iter(value))) for key, value in self._values.items()),
            )
        return self._signature

    def use_names(self, placeholders: Iterable[str]) -> None:
        """Mark ``#placeholders`` used (a cached parse's, which never looked them up)."""
        self._used_names.update(placeholders)

    def bound_value(self, placeholder: str) -> AttrValue:
        """The value behind a ``:placeholder`` known to be defined, marking it used."""
        self._used_values.add(placeholder)
        return self._values[placeholder]

    def name(self, placeholder: str) -> str | None:
        """The attribute name behind ``#placeholder`` (marking it used), or None if undefined."""
        found = self._names.get(placeholder)
        if found is not None:
            self._used_names.add(placeholder)
        return found

    def value(self, placeholder: str) -> AttrValue | None:
        """The value behind ``:placeholder`` (marking it used), or None if undefined."""
        found = self._values.get(placeholder)
        if found is not None:
            self._used_values.add(placeholder)
        return found

    def check_unused(self) -> None:
        """Raise AWS's error for placeholders no expression of the request used."""
        unused_names = [key for key in self._names if key not in self._used_names]
        if unused_names:
            raise _unused("ExpressionAttributeNames", unused_names)
        unused_values = [key for key in self._values if key not in self._used_values]
        if unused_values:
            raise _unused("ExpressionAttributeValues", unused_values)


def _check_name(key: str, name: Any) -> str:
    # INFERRED wording: errors.md records no message for a bad ExpressionAttributeNames value.
    if not isinstance(name, str) or not name:
        raise ValidationError(
            f"ExpressionAttributeNames contains invalid value: Empty attribute name for key {key}"
        )
    if len(name.encode("utf-8", "surrogatepass")) > MAX_NAME_BYTES:
        raise ValidationError(
            "ExpressionAttributeNames contains invalid value: Attribute name is too large, "
            f"must be less than 65536 bytes for key {key}"
        )
    return name
