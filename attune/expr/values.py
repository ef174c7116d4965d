"""JSON values as the expression language sees them.

Only JSON types exist: null, bool, number (int or float), string, array (list)
and object (dict with string keys). Anything else met in a context is refused
with `ExprTypeError` — the language never touches attributes of Python objects.
`bool` is a Python `int` subclass, so every numeric check here excludes it.
"""

from __future__ import annotations

import json
import math
from typing import TypeAlias

from attune.expr.errors import ExprError, ExprLimitError, ExprTypeError
from attune.expr.limits import INT_MAX, INT_MIN, MAX_STRING_CHARS

JSON: TypeAlias = bool | int | float | str | list["JSON"] | dict[str, "JSON"] | None


def type_name(value: object) -> str:
    """The name `type_of()` returns: null, bool, number, string, array, object."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    raise ExprTypeError(f"not a JSON value: {type(value).__name__}")


def a_type(value: object) -> str:
    """`type_name` with an article, for messages: "a number", "an array", "null"."""
    name = type_name(value)
    return name if name == "null" else ("an " if name[0] in "ao" else "a ") + name


def is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def truthy(value: JSON) -> bool:
    """Python-like truthiness: null, false, 0, "", [] and {} are false."""
    if value is None:
        return False
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float | str | list | dict):
        return bool(value)
    type_name(value)  # raises for a non-JSON value
    return True


def checked_int(value: int) -> int:
    if not INT_MIN <= value <= INT_MAX:
        raise ExprLimitError("integer overflow: the result does not fit in 64 bits")
    return value


def checked_float(value: float) -> float:
    if not math.isfinite(value):
        raise ExprLimitError("number overflow: the result is not a finite number")
    return value


def checked_number(value: int | float) -> int | float:
    return checked_float(value) if isinstance(value, float) else checked_int(value)


def equal(a: JSON, b: JSON) -> bool:
    """Deep equality; ints and floats compare by value (`3 == 3.0`), nothing else
    crosses types (`"3" == 3` and `1 == true` are false)."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if (is_number(a) and is_number(b)) or (isinstance(a, str) and isinstance(b, str)):
        return a == b
    if a is None or b is None:
        return a is None and b is None
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(equal(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return len(a) == len(b) and all(k in b and equal(v, b[k]) for k, v in a.items())
    type_name(a)
    type_name(b)
    return False


def hash_key(value: JSON) -> object:
    """A hashable key with the same equality as `equal` (for `unique()`)."""
    if isinstance(value, bool):
        return ("bool", value)
    if isinstance(value, list):
        return ("array", tuple(hash_key(v) for v in value))
    if isinstance(value, dict):
        return ("object", frozenset((k, hash_key(v)) for k, v in value.items()))
    if value is None or is_number(value) or isinstance(value, str):
        return value  # 3 and 3.0 hash alike and compare equal, as `equal` wants
    type_name(value)
    return value


def _measure(value: JSON, budget: int) -> int:
    """Subtract the approximate rendered size of `value` from `budget`, stopping
    as soon as it runs out (so measuring a huge value costs at most `budget`)."""
    if isinstance(value, str):
        return budget - len(value) - 2
    if isinstance(value, list):
        budget -= 2
        for item in value:
            if budget < 0:
                break
            budget = _measure(item, budget - 1)
        return budget
    if isinstance(value, dict):
        budget -= 2
        for key, item in value.items():
            if budget < 0:
                break
            budget = _measure(item, budget - len(key) - 4)
        return budget
    return budget - 24


def _json_default(value: object) -> object:
    raise ExprTypeError(f"not a JSON value: {type(value).__name__}")


def to_text(value: JSON, *, null: str = "null") -> str:
    """The string form used by `string()`, `join()` and template interpolation:
    strings as they are, numbers and booleans as in JSON, arrays and objects as
    compact JSON. Templates render null as "" (the `null` argument)."""
    if isinstance(value, str):
        return value
    if value is None:
        return null
    try:
        if isinstance(value, list | dict) and _measure(value, MAX_STRING_CHARS) < 0:
            raise ExprLimitError(f"value too large to render as a string "
                                 f"(limit {MAX_STRING_CHARS} characters)")
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"),
                          allow_nan=False, default=_json_default)
    except ExprError:
        raise
    except RecursionError:
        raise ExprLimitError("a value is nested too deeply to render") from None
    except ValueError as exc:  # NaN/Infinity, or an int too long to print
        raise ExprTypeError(f"cannot render as JSON: {exc}") from None
    except TypeError as exc:  # e.g. an object key that is not a string
        raise ExprTypeError(f"not a JSON value: {exc}") from None


def check_text(text: str) -> str:
    if len(text) > MAX_STRING_CHARS:
        raise ExprLimitError(f"string too long (limit {MAX_STRING_CHARS} characters)")
    return text
