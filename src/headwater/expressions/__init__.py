"""DynamoDB expressions: one tokenizer and grammar family, an evaluator and an updater.

Pure: imports only ``headwater.model`` and ``headwater.errors``; no I/O, no storage.
Parsing raises ``ValidationError`` and nothing else, whatever the input text.
"""

from headwater.expressions.ast import (
    Condition,
    Path,
    Projection,
    UpdatePlan,
)
from headwater.expressions.conditions import parse_condition
from headwater.expressions.evaluate import evaluate_condition
from headwater.expressions.names import ExpressionParams
from headwater.expressions.projection import apply_projection, parse_projection
from headwater.expressions.reserved import RESERVED_WORDS, is_reserved
from headwater.expressions.update import apply_update, updated_attributes
from headwater.expressions.updates import parse_update

__all__ = [
    "RESERVED_WORDS",
    "Condition",
    "ExpressionParams",
    "Path",
    "Projection",
    "UpdatePlan",
    "apply_projection",
    "apply_update",
    "evaluate_condition",
    "is_reserved",
    "parse_condition",
    "parse_projection",
    "parse_update",
    "updated_attributes",
]
