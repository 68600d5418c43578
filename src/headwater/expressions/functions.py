"""Expression functions: which exist, where they may appear, and their static checks.

The checks only look at what is known before any item is read (arity, literal operand
types, document-path arguments); type errors against stored data are the evaluator's.
Imports the AST, the model and the issue collector.
"""

from __future__ import annotations

from typing import Final

from headwater.expressions.ast import Call, Literal, Operand, Path
from headwater.expressions.issues import Issues
from headwater.model.types import ALL_TYPES, type_of

CONDITION_FUNCTIONS: Final = {
    "attribute_exists": 1,
    "attribute_not_exists": 1,
    "attribute_type": 2,
    "begins_with": 2,
    "contains": 2,
}
SIZE: Final = "size"
UPDATE_FUNCTIONS: Final = {"if_not_exists": 2, "list_append": 2}
KNOWN_FUNCTIONS: Final = frozenset({*CONDITION_FUNCTIONS, SIZE, *UPDATE_FUNCTIONS})

# How AWS prints "any type" and the valid attribute_type names (errors.md ).
_ANY_TYPE: Final = "{NS,SS,L,BS,N,M,B,BOOL,NULL,S}"
_VALID_TYPES: Final = "{B,NULL,SS,BOOL,L,BS,N,NS,S,M}"


def literal_type(operand: Operand) -> str | None:
    """The type of a literal value; None for paths, calls and undefined placeholders."""
    if isinstance(operand, Literal) and operand.value:
        return type_of(operand.value)
    return None


def static_type(operand: Operand) -> str | None:
    """The type an operand is known to have before reading the item, if any."""
    if isinstance(operand, Call):
        if operand.name == SIZE:
            return "N"
        if operand.name == "list_append":
            return "L"
        if operand.name == "if_not_exists" and len(operand.args) == 2:
            return static_type(operand.args[1])
        if operand.name in CONDITION_FUNCTIONS:
            return "BOOL"
        return None
    return literal_type(operand)


def misused(name: str) -> str:
    return f"The function is not allowed to be used this way in an expression; function: {name}"


def _arity(name: str, count: int) -> str:
    return (
        "Incorrect number of operands for operator or function; "
        f"operator or function: {name}, number of operands: {count}"
    )


def operand_type_message(name: str, type_name: str) -> str:
    return (
        "Incorrect operand type for operator or function; "
        f"operator or function: {name}, operand type: {type_name}"
    )


def _needs_path(name: str) -> str:
    return f"Operator or function requires a document path; operator or function: {name}"


def distinct_message(operator: str, first: Path) -> str:
    return (
        "The first operand must be distinct from the remaining operands for this operator or "
        f"function; operator: {operator}, first operand: {first}"
    )


def note_same_paths(issues: Issues, operator: str, args: tuple[Operand, ...]) -> None:
    """AWS rejects ``a = a`` and ``contains(a, a)``: the operands must be distinct paths."""
    if len(args) == 2 and isinstance(args[0], Path) and args[0] == args[1]:
        issues.note("distinct", distinct_message(operator, args[0]))


def note_misused_args(issues: Issues, args: tuple[Operand, ...]) -> None:
    """Inside a condition only ``size`` may be an operand; other functions are conditions."""
    for arg in args:
        if isinstance(arg, Call) and arg.name != SIZE:
            issues.note("misused_function", misused(arg.name))


def check_condition_call(call: Call, issues: Issues) -> None:
    """Static checks of a function in a condition, filter or key condition."""
    note_misused_args(issues, call.args)
    if call.name not in KNOWN_FUNCTIONS:
        issues.note("unknown_function", f"Invalid function name; function: {call.name}")
        return
    if call.name in UPDATE_FUNCTIONS:
        return  # reported as misused by whoever placed it
    expected = CONDITION_FUNCTIONS.get(call.name, 1)
    if len(call.args) != expected:
        issues.note("arity", _arity(call.name, len(call.args)))
        return
    note_same_paths(issues, call.name, call.args)
    message = condition_operand_problem(call)
    if message is not None:
        issues.note("operand", message)


def condition_operand_problem(call: Call) -> str | None:
    """What is wrong with a condition function's operands (arity already checked)."""
    if call.name in ("attribute_exists", "attribute_not_exists"):
        return None if isinstance(call.args[0], Path) else _needs_path(call.name)
    if call.name == "begins_with":
        for arg in call.args:
            found = static_type(arg)
            if found is not None and found not in ("S", "B"):
                return operand_type_message(call.name, found)
        return None
    if call.name == "attribute_type":
        found = static_type(call.args[1])
        if found != "S":
            return operand_type_message(call.name, found or _ANY_TYPE)
        literal = call.args[1]
        if isinstance(literal, Literal) and literal.value["S"] not in ALL_TYPES:
            given = literal.value["S"]
            return f"Invalid attribute type name found; type: {given}, valid types: {_VALID_TYPES}"
        return None
    if call.name == SIZE:
        found = static_type(call.args[0])
        if found in ("N", "BOOL", "NULL"):
            return operand_type_message(call.name, found)
    return None


def check_update_call(call: Call, issues: Issues) -> None:
    """Static checks of a function on the right-hand side of a SET action."""
    if call.name not in KNOWN_FUNCTIONS:
        issues.note("unknown_function", f"Invalid function name; function: {call.name}")
        return
    if call.name not in UPDATE_FUNCTIONS:
        issues.note("misused_function", misused(call.name))
        return
    if len(call.args) != UPDATE_FUNCTIONS[call.name]:
        issues.note("function", _arity(call.name, len(call.args)))
        return
    if call.name == "if_not_exists":
        if not isinstance(call.args[0], Path):
            issues.note("function", _needs_path(call.name))
        return
    for arg in call.args:
        found = literal_type(arg)
        if found is not None and found != "L":
            issues.note("function", operand_type_message(call.name, found))
            return


def check_arithmetic(operator: str, left: Operand, right: Operand, issues: Issues) -> None:
    """``+`` and ``-`` take numbers; a literal of another type is rejected before any read."""
    for arg in (left, right):
        found = literal_type(arg)
        if found is not None and found != "N":
            issues.note("function", operand_type_message(operator, found))
            return


_LONG_TYPE_NAMES: Final = {
    "S": "STRING",
    "N": "NUMBER",
    "B": "BINARY",
    "NULL": "NULL",
    "BOOL": "BOOLEAN",
    "L": "LIST",
    "M": "MAP",
}


def check_add_delete(operator: str, value: Literal, issues: Issues) -> None:
    """ADD takes a number or a set, DELETE only a set (errors.md X-18, long type names)."""
    found = literal_type(value)
    if found is None or found not in _LONG_TYPE_NAMES or (operator == "ADD" and found == "N"):
        return
    issues.note(
        "operand",
        "Incorrect operand type for operator or function; "
        f"operator: {operator}, operand type: {_LONG_TYPE_NAMES[found]}",
    )
