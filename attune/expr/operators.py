"""Binary and unary operators on JSON values, with the original engine's rules:

- no implicit coercion: `"a" + 1` is an `ExprTypeError`, `"3" == 3` is false;
- ints stay ints (`2 + 3` is 5), a float operand makes a float (`2 + 1.5`);
  `/` gives an int when the division is exact (`10 / 5` is 2) and a float
  otherwise (`10 / 4` is 2.5); `%` takes the sign of the dividend (`-7 % 3` is
  -1, as in Rust and C, not Python's 2);
- `+` also concatenates two strings or two arrays;
- `< > <= >=` compare numbers with numbers and strings with strings only;
- `in`: an item of an array (deep equality), a key of an object, a substring.

Errors here carry no position; the evaluator attaches the operator's.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable

from attune.expr.errors import ExprLimitError, ExprTypeError, ExprZeroDivisionError
from attune.expr.limits import MAX_LIST_ITEMS, MAX_STRING_CHARS
from attune.expr.values import (
    JSON,
    checked_float,
    checked_int,
    equal,
    is_int,
    is_number,
    type_name,
)


def _mismatch(op: str, a: JSON, b: JSON) -> ExprTypeError:
    return ExprTypeError(f"cannot apply '{op}' to {type_name(a)} and {type_name(b)} "
                         f"(no implicit conversion; use string(), int() or number())")


def _to_float(value: int | float) -> float:
    try:
        return float(value)
    except OverflowError:
        raise ExprLimitError("number overflow: an integer is too large for a float") from None


def _arithmetic(op: str, a: JSON, b: JSON, fn: Callable[[float, float], float]) -> JSON:
    if is_int(a) and is_int(b):
        assert isinstance(a, int) and isinstance(b, int)
        return checked_int(int(fn(a, b)))
    if is_number(a) and is_number(b):
        assert isinstance(a, int | float) and isinstance(b, int | float)
        return checked_float(fn(_to_float(a), _to_float(b)))
    raise _mismatch(op, a, b)


def add(a: JSON, b: JSON) -> JSON:
    if isinstance(a, str) and isinstance(b, str):
        if len(a) + len(b) > MAX_STRING_CHARS:
            raise ExprLimitError(f"string too long (limit {MAX_STRING_CHARS} characters)")
        return a + b
    if isinstance(a, list) and isinstance(b, list):
        if len(a) + len(b) > MAX_LIST_ITEMS:
            raise ExprLimitError(f"array too long (limit {MAX_LIST_ITEMS} items)")
        return a + b
    return _arithmetic("+", a, b, operator.add)


def subtract(a: JSON, b: JSON) -> JSON:
    return _arithmetic("-", a, b, operator.sub)


def multiply(a: JSON, b: JSON) -> JSON:
    return _arithmetic("*", a, b, operator.mul)


def divide(a: JSON, b: JSON) -> JSON:
    if not (is_number(a) and is_number(b)):
        raise _mismatch("/", a, b)
    assert isinstance(a, int | float) and isinstance(b, int | float)
    if b == 0:
        raise ExprZeroDivisionError("division by zero")
    if isinstance(a, int) and isinstance(b, int):
        if a % b == 0:
            return checked_int(a // b)
        return checked_float(a / b)
    return checked_float(_to_float(a) / _to_float(b))


def modulo(a: JSON, b: JSON) -> JSON:
    if not (is_number(a) and is_number(b)):
        raise _mismatch("%", a, b)
    assert isinstance(a, int | float) and isinstance(b, int | float)
    if b == 0:
        raise ExprZeroDivisionError("modulo by zero")
    if isinstance(a, int) and isinstance(b, int):
        remainder = abs(a) % abs(b)
        return checked_int(-remainder if a < 0 else remainder)
    return checked_float(math.fmod(_to_float(a), _to_float(b)))


def _ordered(op: str, a: JSON, b: JSON) -> tuple[int | float | str, int | float | str]:
    if (is_number(a) and is_number(b)) or (isinstance(a, str) and isinstance(b, str)):
        assert isinstance(a, int | float | str) and isinstance(b, int | float | str)
        return a, b
    raise ExprTypeError(f"cannot compare {type_name(a)} and {type_name(b)} with '{op}' "
                        f"(only numbers with numbers and strings with strings)")


def less(a: JSON, b: JSON) -> JSON:
    x, y = _ordered("<", a, b)
    return x < y  # type: ignore[operator]  # _ordered guarantees matching types


def greater(a: JSON, b: JSON) -> JSON:
    x, y = _ordered(">", a, b)
    return x > y  # type: ignore[operator]


def less_equal(a: JSON, b: JSON) -> JSON:
    x, y = _ordered("<=", a, b)
    return x <= y  # type: ignore[operator]


def greater_equal(a: JSON, b: JSON) -> JSON:
    x, y = _ordered(">=", a, b)
    return x >= y  # type: ignore[operator]


def contains(haystack: JSON, needle: JSON) -> bool:
    """`needle in haystack` (also the built-in `contains(haystack, needle)`)."""
    if isinstance(haystack, list):
        return any(equal(needle, item) for item in haystack)
    if isinstance(haystack, dict):
        if not isinstance(needle, str):
            raise ExprTypeError(f"'in' on an object tests a key, which must be a string, "
                                f"not {type_name(needle)}")
        return needle in haystack
    if isinstance(haystack, str):
        if not isinstance(needle, str):
            raise ExprTypeError(f"'in' on a string tests a substring, which must be a "
                                f"string, not {type_name(needle)}")
        return needle in haystack
    raise ExprTypeError(f"'in' needs an array, object or string on the right, "
                        f"not {type_name(haystack)}")


def membership(a: JSON, b: JSON) -> JSON:
    return contains(b, a)


def negate(value: JSON) -> JSON:
    if is_int(value):
        assert isinstance(value, int)
        return checked_int(-value)
    if isinstance(value, float):
        return -value
    raise ExprTypeError(f"cannot negate {type_name(value)} (unary '-' needs a number)")


BINARY: dict[str, Callable[[JSON, JSON], JSON]] = {
    "+": add, "-": subtract, "*": multiply, "/": divide, "%": modulo,
    "==": equal, "!=": lambda a, b: not equal(a, b),
    "<": less, ">": greater, "<=": less_equal, ">=": greater_equal,
    "in": membership,
}
