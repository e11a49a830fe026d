"""How a pydantic refusal is told to people: the key path, then what is wrong in plain words.

One wording for the configuration file and the API's bodies, so that a setting and a field
that break the same rule are refused in the same words.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError
from pydantic_core import ErrorDetails

_SAYS = {
    "missing": "is required",
    "extra_forbidden": "is not a known setting",
    "string_type": "must be a string",
    "string_unicode": "contains an unpaired surrogate (not valid Unicode text)",
    "int_type": "must be a whole number",
    "float_type": "must be a number",
    "bool_type": "must be the value true or false",
    "list_type": "must be a list",
    "frozen_set_type": "must be a list",
    "dict_type": "must be a mapping of settings",
    "model_type": "must be a mapping of settings",
}


def where(problem: ErrorDetails) -> str:
    """The key path, as written in the file or body: doors.front.methods.1."""
    parts = [str(part) for part in problem["loc"] if part != "[key]"]
    return ".".join(parts)


def says(problem: ErrorDetails) -> str:
    """What is wrong, worded to follow the key: "is required", "must be one of a, b"."""
    kind = problem["type"]
    context: dict[str, Any] = dict(problem.get("ctx") or {})
    if kind in _SAYS:
        return _SAYS[kind]
    if kind == "value_error":  # the models' own checks, worded to follow the key already
        return problem["msg"].removeprefix("Value error, ")
    if kind == "literal_error":
        expected = str(context.get("expected", "")).replace("'", "").replace(" or ", ", ")
        given = problem.get("input")
        shown = f"is {given!r}: " if isinstance(given, str) and len(given) <= 40 else ""
        return f"{shown}must be one of {expected}"
    if kind in ("greater_than_equal", "greater_than"):
        return f"must be at least {context.get('ge', context.get('gt'))}"
    if kind in ("less_than_equal", "less_than"):
        return f"must be at most {context.get('le', context.get('lt'))}"
    if kind == "string_too_long":
        return f"must be at most {context.get('max_length')} characters"
    if kind in ("string_too_short", "too_short"):
        return "must not be empty"
    return f"is refused: {problem['msg']}"


def problems(error: ValidationError) -> list[ErrorDetails]:
    return error.errors(include_url=False)
