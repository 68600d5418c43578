"""The pure data model: attribute values, numbers, sizes, key schemas and key encodings.

No I/O and no imports from any other Headwater layer except ``headwater.errors``.
"""

from headwater.model.compare import comparable, compare, values_equal
from headwater.model.key_encoding import encode_key
from headwater.model.keys import KeySchema, key_string
from headwater.model.numbers import Number, normalize_number, parse_number
from headwater.model.size import MAX_ITEM_BYTES, item_size, value_size
from headwater.model.types import AttrValue, Item, type_of
from headwater.model.values import validate_item, validate_value

__all__ = [
    "MAX_ITEM_BYTES",
    "AttrValue",
    "Item",
    "KeySchema",
    "Number",
    "comparable",
    "compare",
    "encode_key",
    "item_size",
    "key_string",
    "normalize_number",
    "parse_number",
    "type_of",
    "validate_item",
    "validate_value",
    "value_size",
    "values_equal",
]
