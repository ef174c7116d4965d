"""Built-in functions: type conversion, introspection and math."""

from __future__ import annotations

import math
import re
from collections.abc import Callable

from attune.expr.errors import ExprLimitError, ExprTypeError, ExprValueError
from attune.expr.values import (
    JSON,
    checked_float,
    checked_int,
    is_int,
    is_number,
    to_text,
    truthy,
    type_name,
)

_INT_TEXT = re.compile(r"[+-]?[0-9]+")
_FLOAT_TEXT = re.compile(r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?")


def want(fn: str, param: str, value: JSON, *kinds: str) -> None:
    """Raise a precise ExprTypeError unless `value` has one of the `kinds`."""
    if type_name(value) not in kinds:
        expected = " or ".join(kinds)
        raise ExprTypeError(f"{fn}() expects {param} to be {expected}, got {type_name(value)}")


def _number(fn: str, value: JSON) -> int | float:
    if not is_number(value):
        raise ExprTypeError(f"{fn}() expects a number, got {type_name(value)}")
    assert isinstance(value, int | float)
    return value


def _truncate(fn: str, value: float) -> int:
    try:
        return checked_int(math.trunc(value))
    except (OverflowError, ValueError):
        raise ExprLimitError(f"{fn}(): {value} has no integer value") from None


def _parse_text_number(fn: str, text: str) -> int | float:
    if len(text) > 400:
        raise ExprValueError(f"{fn}(): string too long to be a number")
    if _INT_TEXT.fullmatch(text):
        return checked_int(int(text))
    if _FLOAT_TEXT.fullmatch(text):
        return checked_float(float(text))
    raise ExprValueError(f"{fn}(): {text!r} is not a number")


# -- conversion ------------------------------------------------------------------

def fn_string(value: JSON) -> JSON:
    return to_text(value)


def fn_number(value: JSON) -> JSON:
    if is_number(value):
        return value
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, str):
        return _parse_text_number("number", value)
    raise ExprTypeError(f"number() cannot convert {type_name(value)}")


def fn_int(value: JSON) -> JSON:
    if is_int(value):
        return value
    if isinstance(value, float):
        return _truncate("int", value)
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, str):
        number = _parse_text_number("int", value)
        return _truncate("int", number) if isinstance(number, float) else number
    raise ExprTypeError(f"int() cannot convert {type_name(value)}")


def fn_bool(value: JSON) -> JSON:
    return truthy(value)


# -- introspection ---------------------------------------------------------------

def fn_type_of(value: JSON) -> JSON:
    return type_name(value)


def fn_length(value: JSON) -> JSON:
    if isinstance(value, str | list | dict):
        return len(value)
    raise ExprTypeError(f"length() expects a string, array or object, got {type_name(value)}")


def fn_keys(value: JSON) -> JSON:
    want("keys", "its argument", value, "object")
    assert isinstance(value, dict)
    return list(value)


def fn_values(value: JSON) -> JSON:
    want("values", "its argument", value, "object")
    assert isinstance(value, dict)
    return list(value.values())


# -- math ------------------------------------------------------------------------

def fn_abs(value: JSON) -> JSON:
    number = _number("abs", value)
    return checked_int(abs(number)) if isinstance(number, int) else abs(number)


def _whole(fn: str, value: JSON, rounding: Callable[[float], int]) -> JSON:
    number = _number(fn, value)
    if isinstance(number, int):
        return number
    if not math.isfinite(number):
        raise ExprLimitError(f"{fn}(): {number} has no integer value")
    return checked_int(rounding(number))


def fn_floor(value: JSON) -> JSON:
    return _whole("floor", value, math.floor)


def fn_ceil(value: JSON) -> JSON:
    return _whole("ceil", value, math.ceil)


def _half_away_from_zero(number: float) -> int:
    magnitude = abs(number)
    whole = math.floor(magnitude)
    if magnitude - whole >= 0.5:  # exact: subtracting the floor loses no bits
        whole += 1
    return whole if number >= 0 else -whole


def fn_round(value: JSON) -> JSON:
    """Half away from zero, to an int (Rust's `f64::round`, not Python's banker's rounding)."""
    return _whole("round", value, _half_away_from_zero)


def _ordered_pair(fn: str, a: JSON, b: JSON) -> None:
    if not ((is_number(a) and is_number(b)) or (isinstance(a, str) and isinstance(b, str))):
        raise ExprTypeError(f"{fn}() expects two numbers or two strings, "
                            f"got {type_name(a)} and {type_name(b)}")


def fn_min(a: JSON, b: JSON) -> JSON:
    """The smaller argument itself (an int stays an int); the first on a tie."""
    _ordered_pair("min", a, b)
    return b if b < a else a  # type: ignore[operator]  # checked just above


def fn_max(a: JSON, b: JSON) -> JSON:
    _ordered_pair("max", a, b)
    return b if b > a else a  # type: ignore[operator]


def fn_sum(value: JSON) -> JSON:
    want("sum", "its argument", value, "array")
    assert isinstance(value, list)
    total: int | float = 0
    for item in value:
        if not is_number(item):
            raise ExprTypeError(f"sum() expects an array of numbers, found {type_name(item)}")
        assert isinstance(item, int | float)
        # a plain left-to-right sum: the same on every Python version
        try:
            total = total + item if isinstance(total, int) and isinstance(item, int) \
                else float(total) + float(item)
        except OverflowError:
            raise ExprLimitError("sum(): number overflow") from None
    return checked_int(total) if isinstance(total, int) else checked_float(total)
