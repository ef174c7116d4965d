"""Built-in collection functions. None of them changes its arguments: each
returns a new array or object."""

from __future__ import annotations

from attune.expr.builtins_core import want
from attune.expr.errors import ExprLimitError, ExprTypeError, ExprValueError
from attune.expr.limits import MAX_LIST_ITEMS
from attune.expr.operators import contains
from attune.expr.values import JSON, equal, hash_key, is_int, is_number, type_name


def _array(fn: str, param: str, value: JSON) -> list[JSON]:
    want(fn, param, value, "array")
    assert isinstance(value, list)
    return value


def _integer(fn: str, param: str, value: JSON) -> int:
    if not is_int(value):
        raise ExprTypeError(f"{fn}() expects {param} to be an integer, got {type_name(value)}")
    assert isinstance(value, int)
    return value


def _bounded(fn: str, size: int) -> None:
    if size > MAX_LIST_ITEMS:
        raise ExprLimitError(f"{fn}(): result too long (limit {MAX_LIST_ITEMS} items)")


def fn_contains(haystack: JSON, needle: JSON) -> JSON:
    return contains(haystack, needle)


def fn_reversed(value: JSON) -> JSON:
    want("reversed", "its argument", value, "array", "string")
    assert isinstance(value, list | str)
    return value[::-1]


def fn_sort(value: JSON) -> JSON:
    """Ascending; all numbers or all strings (mixing them has no order)."""
    items = _array("sort", "its argument", value)
    if all(is_number(item) for item in items) or all(isinstance(item, str) for item in items):
        return sorted(items)  # type: ignore[type-var]  # homogeneous, checked above
    kinds = sorted({type_name(item) for item in items})
    raise ExprTypeError(f"sort() expects all numbers or all strings, got {', '.join(kinds)}")


def fn_unique(value: JSON) -> JSON:
    """Items in first-seen order without repeats (deep equality, 1 equals 1.0)."""
    seen: set[object] = set()
    result: list[JSON] = []
    for item in _array("unique", "its argument", value):
        key = hash_key(item)
        if key not in seen:
            seen.add(key)
            result.append(item)
    return result


def fn_flat(value: JSON) -> JSON:
    """Flatten one level: array items are spliced in, other items kept."""
    result: list[JSON] = []
    for item in _array("flat", "its argument", value):
        if isinstance(item, list):
            _bounded("flat", len(result) + len(item))
            result.extend(item)
        else:
            result.append(item)
    return result


def fn_zip(a: JSON, b: JSON) -> JSON:
    """Pairs `[a[i], b[i]]`, as many as the shorter array has."""
    left, right = _array("zip", "a", a), _array("zip", "b", b)
    return [[x, y] for x, y in zip(left, right, strict=False)]


def fn_range(*args: JSON) -> JSON:
    """`range(n)` is 0..n-1; `range(start, end)` is start..end-1."""
    if len(args) == 1:
        start, end = 0, _integer("range", "n", args[0])
    else:
        start, end = _integer("range", "start", args[0]), _integer("range", "end", args[1])
    _bounded("range", end - start)
    return list(range(start, end))


def fn_slice(value: JSON, start: JSON, *end: JSON) -> JSON:
    """Items or characters from `start` up to (not including) `end`; negative
    positions count from the end, positions past either end are clamped, and a
    missing or null `end` means the end (Python slicing)."""
    want("slice", "v", value, "array", "string")
    assert isinstance(value, list | str)
    first = _integer("slice", "start", start)
    last = None if not end or end[0] is None else _integer("slice", "end", end[0])
    return value[first:last]


def fn_index_of(haystack: JSON, needle: JSON) -> JSON:
    """Position of the first equal item / substring, or -1."""
    want("index_of", "haystack", haystack, "array", "string")
    if isinstance(haystack, str):
        want("index_of", "needle", needle, "string")
        assert isinstance(needle, str)
        return haystack.find(needle)
    assert isinstance(haystack, list)
    return next((i for i, item in enumerate(haystack) if equal(item, needle)), -1)


def fn_count(haystack: JSON, needle: JSON) -> JSON:
    """How many items equal `needle` / how many non-overlapping substrings."""
    want("count", "haystack", haystack, "array", "string")
    if isinstance(haystack, str):
        want("count", "needle", needle, "string")
        assert isinstance(needle, str)
        return haystack.count(needle)
    assert isinstance(haystack, list)
    return sum(1 for item in haystack if equal(item, needle))


def fn_merge(a: JSON, b: JSON) -> JSON:
    """A new object with the keys of both; `b` wins on a shared key (shallow)."""
    if not (isinstance(a, dict) and isinstance(b, dict)):
        raise ExprTypeError(f"merge() expects two objects, got {type_name(a)} and {type_name(b)}")
    return {**a, **b}


def fn_chunks(value: JSON, size: JSON) -> JSON:
    """Consecutive sub-arrays of `size` items (the last may be shorter)."""
    items = _array("chunks", "arr", value)
    step = _integer("chunks", "size", size)
    if step <= 0:
        raise ExprValueError(f"chunks() size must be a positive integer, got {step}")
    return [items[i:i + step] for i in range(0, len(items), step)]
