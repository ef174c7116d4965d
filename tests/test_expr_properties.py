"""Property tests: no input crashes the expression language or escapes its error
type, JSON values survive `{{ x }}` with their types, evaluation is deterministic."""

from __future__ import annotations

import itertools
import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from attune.expr import BUILTINS, ExprError, evaluate, render, render_value, to_text, truthy
from tests.test_expr_operators import same

SETTINGS = settings(max_examples=150, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])
FEW = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=5)
    | st.dictionaries(st.text(max_size=8), inner, max_size=5),
    max_leaves=10,
)

CONTEXT: dict[str, Any] = {
    "n": 7, "f": 2.5, "s": "héllo", "t": True, "z": None, "arr": [3, 1, 2],
    "words": ["b", "a"], "obj": {"a": 1, "b": [1, 2], "c": {"d": "x"}}, "empty": [],
}

# fragments that often form valid or nearly valid expressions
_tokens = st.sampled_from([
    "n", "f", "s", "t", "z", "arr", "words", "obj", "empty", "obj.a", "obj.b", "obj.c.d",
    "arr[0]", "arr[-1]", "0", "1", "-1", "2.5", "'x'", '"a,b"', "''", "true", "false", "null",
    "[]", "[1, 2]", "+", "-", "*", "/", "%", "==", "!=", "<", ">", "<=", ">=", "in", "and",
    "or", "not", "(", ")", "[", "]", ",", ".", "{{", "}}", "{", "}", "'", '"', "\\", "=",
    "!", "|", "&", "#", "é", "\n", " ",
] + [f"{name}(" for name in BUILTINS] + ["result(", "nope(", "nope"])


@SETTINGS
@given(st.text(max_size=60))
def test_arbitrary_text_never_raises_anything_but_expr_errors(text: str) -> None:
    for run in (lambda: evaluate(text, CONTEXT), lambda: render(text, CONTEXT)):
        try:
            run()
        except ExprError as exc:
            assert exc.message and exc.details
            if exc.offset is not None:
                assert 0 <= exc.offset <= len(text)


@SETTINGS
@given(st.lists(_tokens, max_size=25).map(" ".join))
def test_token_soup_never_raises_anything_but_expr_errors(text: str) -> None:
    for source in (text, "{{ " + text + " }}", "x {{ " + text + " }} y"):
        try:
            first = render(source, CONTEXT)
        except ExprError as exc:
            try:
                render(source, CONTEXT)
            except ExprError as again:  # the same failure, at the same place
                assert (type(again), again.message) == (type(exc), exc.message)
        else:
            assert same(render(source, CONTEXT), first)


def _call(name: str, args: list[str]) -> str:
    return f"{name}({', '.join(args)})"


# well-formed expressions: every operator and function over random operands
_leaves = st.sampled_from(["n", "f", "s", "t", "z", "arr", "words", "obj", "empty", "obj.b",
                           "obj.c", "0", "3", "-2", "0.5", "'a'", "'b,a'", "true", "null",
                           "[1, 'x']", "[[1], [2, 3]]", "x"])
_binary = st.sampled_from(["+", "-", "*", "/", "%", "==", "!=", "<", ">", "<=", ">=", "in",
                           "and", "or"])
expressions = st.recursive(
    _leaves,
    lambda inner: st.one_of(
        st.tuples(inner, _binary, inner).map(lambda t: f"({t[0]} {t[1]} {t[2]})"),
        inner.map(lambda e: f"(not {e})"), inner.map(lambda e: f"(-{e})"),
        st.tuples(inner, inner).map(lambda t: f"{t[0]}[{t[1]}]"),
        inner.map(lambda e: f"{e}.a"), st.lists(inner, max_size=3).map(
            lambda items: "[" + ", ".join(items) + "]"),
        st.sampled_from(sorted(BUILTINS)).flatmap(lambda name: st.lists(
            inner, min_size=BUILTINS[name].min_args, max_size=BUILTINS[name].max_args,
        ).map(lambda args, name=name: _call(name, args))),
    ),
    max_leaves=12,
)


@SETTINGS
@given(expressions, json_values)
def test_evaluation_is_total_and_deterministic(source: str, x: Any) -> None:
    context = {**CONTEXT, "x": x}
    try:
        first = evaluate(source, context)
    except ExprError as exc:
        assert exc.offset is not None and 0 <= exc.offset < len(source), exc.message
        try:
            evaluate(source, context)
        except ExprError as again:
            assert again.message == exc.message
        else:
            raise AssertionError("second evaluation succeeded") from None
        return
    json.dumps(first, allow_nan=False)  # the result is a JSON value
    assert same(evaluate(source, context), first)


@FEW
@given(json_values)
def test_json_values_round_trip_with_their_types(value: Any) -> None:
    assert same(render("{{ x }}", {"x": value}), value)
    assert same(render("  {{x}} ", {"x": value}), value)
    assert same(evaluate("x", {"x": value}), value)
    assert same(render_value({"k": ["{{ x }}"]}, {"x": value}), {"k": [value]})


@FEW
@given(json_values)
def test_values_without_templates_render_to_themselves(value: Any) -> None:
    plain = json.loads(json.dumps(value).replace("{{", "{ {"))
    assert same(render_value(plain, {}), plain)


@FEW
@given(json_values, st.text(alphabet="ab }", max_size=5))
def test_mixed_text_interpolates_the_string_form(value: Any, text: str) -> None:
    expected = f"<{text}>" + to_text(value, null="") + "!"
    assert render(f"<{text}>{{{{ x }}}}!", {"x": value}) == expected


@FEW
@given(json_values, json_values)
def test_equality_is_reflexive_and_symmetric(a: Any, b: Any) -> None:
    context = {"a": a, "b": b}
    assert evaluate("a == a", context) is True
    assert evaluate("a == b", context) is evaluate("b == a", context)
    assert evaluate("a != b", context) is not evaluate("a == b", context)


@FEW
@given(json_values)
def test_truthiness_is_pythons(value: Any) -> None:
    assert evaluate("bool(x)", {"x": value}) is bool(value) is truthy(value)
    assert evaluate("not x", {"x": value}) is not bool(value)


SAMPLES: list[Any] = [None, True, False, 0, -1, 7, 2.5, -0.5, 1e300, 2**62, -(2**63), "", "a,b",
                      "héllo", "^a.*$", [], [1, "a"], [3, 1, 2], [[1], [2, 3]], ["b", "a"], {},
                      {"a": 1}, {"b": [None]}]


def test_every_builtin_with_every_kind_of_argument() -> None:
    """Each built-in, called with all pairs (and a sample of triples) of values of
    every JSON type, returns a JSON value or raises an ExprError — nothing else."""
    outcomes = {"ok": 0, "error": 0}
    for name, builtin in BUILTINS.items():
        for arity in range(builtin.min_args, builtin.max_args + 1):
            combos = list(itertools.product(range(len(SAMPLES)), repeat=arity))
            if arity == 3:
                combos = combos[::7]
            for combo in combos:
                context = {f"a{i}": SAMPLES[j] for i, j in enumerate(combo)}
                source = _call(name, [f"a{i}" for i in range(arity)])
                try:
                    json.dumps(evaluate(source, context), allow_nan=False)
                    outcomes["ok"] += 1
                except ExprError:
                    outcomes["error"] += 1
    assert outcomes["ok"] > 500 and outcomes["error"] > 500


def _literal(value: Any) -> str:
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, list):
        return "[" + ", ".join(_literal(v) for v in value) + "]"
    return json.dumps(value)


literals = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63) + 1, 2**63 - 1) | st.text(max_size=10),
    lambda inner: st.lists(inner, max_size=4), max_leaves=10)


@SETTINGS
@given(literals)
def test_literals_evaluate_to_their_value(value: Any) -> None:
    assert same(evaluate(_literal(value)), value)
