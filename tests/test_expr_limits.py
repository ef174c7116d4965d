"""Expression language safety: sizes, depths and costs are bounded, and the only
thing that escapes is an ExprError — never RecursionError, MemoryError or a hang."""

from __future__ import annotations

import sys
from typing import Any

import pytest

from attune.expr import (
    ExprError,
    ExprLimitError,
    ExprSyntaxError,
    evaluate,
    render,
    render_value,
)
from attune.expr.limits import MAX_LIST_ITEMS, MAX_SOURCE_CHARS, MAX_STRING_CHARS

BIG_TEXT = "a" * (MAX_STRING_CHARS // 2 + 1)
BIG_LIST = list(range(MAX_LIST_ITEMS // 2 + 1))


@pytest.mark.parametrize(("source", "message"), [
    ("s + s", "string too long"),
    ("l + l", "array too long"),
    ("replace(small, 'a', s)", "replace(): result too long"),
    ("replace(s, '', 'xx')", "replace(): result too long"),
    ("join([s, s], '')", "join(): result too long"),
    ("join(l, ',')", ""),
    ("split(s + 'b', '')", "split(): too many parts"),
    ("flat([l, l])", "flat(): result too long"),
    ("range(1000000000000)", "range(): result too long (limit 100000 items)"),
    ("range(-1000000000000, 0)", "range(): result too long"),
    ("string([s, s])", "value too large to render as a string"),
    ("upper(sharp)", "string too long"),
])
def test_growth_is_bounded(source: str, message: str) -> None:
    context: dict[str, Any] = {"s": BIG_TEXT, "l": BIG_LIST, "small": "a" * 3_000,
                               "sharp": "ß" * (MAX_STRING_CHARS // 2 + 1)}
    try:
        result = evaluate(source, context)
    except ExprLimitError as exc:
        assert message in exc.message
    else:  # join of many short items may legitimately fit
        assert isinstance(result, str) and len(result) <= MAX_STRING_CHARS
        assert message == ""


def test_sources_are_bounded() -> None:
    with pytest.raises(ExprLimitError, match="template too long"):
        render("{{ 1 }}" + " " * MAX_SOURCE_CHARS)
    with pytest.raises(ExprLimitError, match="too long"):
        evaluate("1" + " + 1" * MAX_SOURCE_CHARS)
    # plain text is not parsed, so any length is fine
    assert render("x" * (MAX_SOURCE_CHARS * 2)) == "x" * (MAX_SOURCE_CHARS * 2)


def _nested(depth: int) -> Any:
    value: Any = 1
    for _ in range(depth):
        value = [value]
    return value


@pytest.mark.parametrize("source", [
    "x == x", "x == y", "string(x)", "unique([x])", "x in [x]", "'v {{ x }}'", "count([x], x)",
])
def test_deeply_nested_data_is_a_limit_error(source: str) -> None:
    deep = _nested(5_000)
    with pytest.raises(ExprLimitError, match="nested too deeply"):
        if source.startswith("'"):
            render(source.strip("'"), {"x": deep})
        else:
            evaluate(source, {"x": deep, "y": _nested(5_000)})


def test_deeply_nested_values_to_render_are_a_limit_error() -> None:
    deep: Any = "{{ 1 }}"
    for _ in range(5_000):
        deep = {"k": deep}
    with pytest.raises(ExprLimitError, match="nested too deeply"):
        render_value(deep, {})


def test_a_caller_with_a_deep_stack_gets_an_expr_error() -> None:
    source = "(" * 30 + "1" + ")" * 30
    limit = sys.getrecursionlimit()

    def dive(depth: int) -> ExprError | None:
        if depth > 0:
            return dive(depth - 1)
        try:
            evaluate(source + " + 0")  # not cached yet: must parse near the stack limit
        except ExprError as exc:
            return exc
        return None

    frame = sys._getframe()
    used = 0
    while frame.f_back is not None:
        frame, used = frame.f_back, used + 1
    error = dive(limit - used - 60)
    assert isinstance(error, ExprSyntaxError | ExprLimitError)


def test_no_host_code_is_reachable() -> None:
    context = {"obj": {"a": 1}, "s": "x"}
    for source in ("__import__('os')", "obj.__class__", "s.__len__", "eval('1')",
                   "exec('1')", "open('/etc/passwd')", "getattr(obj, 'a')", "obj.keys"):
        with pytest.raises(ExprError):
            evaluate(source, context)
