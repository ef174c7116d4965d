"""Expression language: every built-in function, normal and error cases."""

from __future__ import annotations

from typing import Any

import pytest

from attune.expr import (
    BUILTINS,
    ExprArityError,
    ExprError,
    ExprLimitError,
    ExprNameError,
    ExprTypeError,
    ExprValueError,
    evaluate,
)
from tests.test_expr_operators import same

VARS: dict[str, Any] = {
    "arr": [3, 1, 2], "obj": {"b": 2, "a": 1}, "words": ["c", "a", "b"], "n": -7,
    "nested": [[1, 2], [3, [4]], 5], "z": None, "big": 1e300,
}

CASES: list[tuple[str, Any]] = [
    # conversion
    ("string(42)", "42"), ("string(2.5)", "2.5"), ("string('x')", "x"), ("string(true)", "true"),
    ("string(null)", "null"), ("string([1, 'a', null])", '[1,"a",null]'),
    ("string(obj)", '{"b":2,"a":1}'), ("string('ü')", "ü"), ("string([])", "[]"),
    ("number('3.15')", 3.15), ("number('42')", 42), ("number('-4')", -4), ("number('+4')", 4),
    ("number('1e3')", 1000.0), ("number('.5')", 0.5), ("number(7)", 7), ("number(2.5)", 2.5),
    ("number(true)", 1), ("number(false)", 0),
    ("int(3.9)", 3), ("int(-3.9)", -3), ("int('42')", 42), ("int('-42')", -42),
    ("int('3.9')", 3), ("int(true)", 1), ("int(5)", 5), ("int('1e2')", 100),
    ("bool(1)", True), ("bool(0)", False), ("bool('')", False), ("bool('x')", True),
    ("bool(null)", False), ("bool([])", False), ("bool([0])", True), ("bool(obj)", True),
    ("bool(0.0)", False),
    # introspection
    ("type_of(42)", "number"), ("type_of(4.2)", "number"), ("type_of('hi')", "string"),
    ("type_of(true)", "bool"), ("type_of(null)", "null"), ("type_of(arr)", "array"),
    ("type_of(obj)", "object"),
    ("length(arr)", 3), ("length('hello')", 5), ("length('héllo✓')", 6), ("length(obj)", 2),
    ("length('')", 0), ("length([])", 0),
    ("keys(obj)", ["b", "a"]), ("sort(keys(obj))", ["a", "b"]), ("values(obj)", [2, 1]),
    ("keys(z_obj)", []),
    # math
    ("abs(-5)", 5), ("abs(5)", 5), ("abs(-2.5)", 2.5), ("abs(n)", 7),
    ("floor(3.7)", 3), ("floor(-3.2)", -4), ("floor(4)", 4),
    ("ceil(3.2)", 4), ("ceil(-3.7)", -3), ("ceil(4)", 4),
    ("round(3.5)", 4), ("round(2.5)", 3), ("round(-2.5)", -3), ("round(3.49)", 3),
    ("round(0.49999999999999994)", 0), ("round(7)", 7), ("round(-0.4)", 0),
    ("min(3, 7)", 3), ("max(3, 7)", 7), ("min(2, 1.5)", 1.5), ("max(2, 1.5)", 2),
    ("min('b', 'a')", "a"), ("max('b', 'a')", "b"), ("min(3, 3.0)", 3), ("max(3.0, 3)", 3.0),
    ("sum([1, 2, 3, 4])", 10), ("sum([])", 0), ("sum([1, 2.5])", 3.5), ("sum([0.5, 1])", 1.5),
    # strings
    ("lower('HeLLo')", "hello"), ("upper('hello')", "HELLO"), ("upper('straße')", "STRASSE"),
    ("trim('  hi \\n')", "hi"), ("trim('')", ""),
    ("split('a,b,c', ',')", ["a", "b", "c"]), ("split('a,,b', ',')", ["a", "", "b"]),
    ("split('abc', '')", ["a", "b", "c"]), ("split('', ',')", [""]),
    ("split('a--b', '--')", ["a", "b"]),
    ("join(['a', 'b', 'c'], ',')", "a,b,c"), ("join([], ',')", ""),
    ("join([1, null, true, 'x'], '-')", "1-null-true-x"), ("join(words, '')", "cab"),
    ("replace('hello world', 'world', 'rust')", "hello rust"), ("replace('aaa', 'a', 'b')", "bbb"),
    ("replace('abc', '', '-')", "-a-b-c-"), ("replace('abc', 'x', 'y')", "abc"),
    ("starts_with('hello', 'hel')", True), ("starts_with('hello', 'lo')", False),
    ("starts_with('x', '')", True),
    ("ends_with('hello', 'llo')", True), ("ends_with('hello', 'he')", False),
    ("match('^hello', 'hello world')", True), ("match('^world', 'hello world')", False),
    ("match('w.r', 'hello world')", True), (r"match('\\d{3}-\\d{4}', 'call 555-1234')", True),
    (r"match('^\\d+$', '12a')", False), ("match('(?i)HELLO', 'hello')", True),
    ("match('', 'x')", True),
    # collections
    ("contains([1, 2, 3], 2)", True), ("contains([1, 2, 3], 5)", False),
    ("contains('hello', 'ell')", True), ("contains(obj, 'a')", True),
    ("contains([[1]], [1.0])", True),
    ("reversed(arr)", [2, 1, 3]), ("reversed('abc')", "cba"), ("reversed([])", []),
    ("sort(arr)", [1, 2, 3]), ("sort(words)", ["a", "b", "c"]), ("sort([2.5, 1, 2])", [1, 2, 2.5]),
    ("sort([])", []), ("sort(['b', 'B', 'a'])", ["B", "a", "b"]),
    ("unique([1, 2, 2, 3, 1])", [1, 2, 3]), ("unique([1, 1.0, true, '1'])", [1, True, "1"]),
    ("unique([[1], [1], z_obj, z_obj])", [[1], {}]), ("unique([])", []),
    ("flat([[1, 2], [3, 4]])", [1, 2, 3, 4]), ("flat(nested)", [1, 2, 3, [4], 5]),
    ("flat([])", []),
    ("zip([1, 2], ['a', 'b'])", [[1, "a"], [2, "b"]]), ("zip([1, 2, 3], ['a'])", [[1, "a"]]),
    ("zip([], arr)", []),
    ("range(5)", [0, 1, 2, 3, 4]), ("range(2, 5)", [2, 3, 4]), ("range(0)", []),
    ("range(-3)", []), ("range(5, 2)", []), ("range(-2, 1)", [-2, -1, 0]),
    ("slice(arr, 1)", [1, 2]), ("slice(arr, 0, 2)", [3, 1]), ("slice('hello', 1, 3)", "el"),
    ("slice(arr, -2)", [1, 2]), ("slice(arr, 1, 100)", [1, 2]), ("slice(arr, 5)", []),
    ("slice(arr, 0, null)", [3, 1, 2]), ("slice('héllo', -3, -1)", "ll"),
    ("index_of(arr, 1)", 1), ("index_of(arr, 9)", -1), ("index_of('hello', 'l')", 2),
    ("index_of('héllo', 'l')", 2), ("index_of('hello', 'z')", -1), ("index_of([[1]], [1])", 0),
    ("count([1, 2, 1, 1.0], 1)", 3), ("count('banana', 'an')", 2), ("count('aaa', 'aa')", 1),
    ("count([], 1)", 0),
    ("merge(obj, other)", {"b": 20, "a": 1, "c": 3}), ("merge(obj, z_obj)", {"b": 2, "a": 1}),
    ("chunks([1, 2, 3, 4, 5], 2)", [[1, 2], [3, 4], [5]]), ("chunks([], 3)", []),
    ("chunks(arr, 5)", [[3, 1, 2]]),
]


@pytest.mark.parametrize(("source", "expected"), CASES)
def test_builtin(source: str, expected: Any) -> None:
    result = evaluate(source, {**VARS, "z_obj": {}, "other": {"b": 20, "c": 3}})
    assert same(result, expected), result


def test_every_builtin_is_covered() -> None:
    covered = {source.split("(")[0] for source, _ in CASES}
    assert set(BUILTINS) <= covered
    assert set(BUILTINS) == {
        "string", "number", "int", "bool", "type_of", "length", "keys", "values", "abs",
        "floor", "ceil", "round", "min", "max", "sum", "lower", "upper", "trim", "split",
        "join", "replace", "starts_with", "ends_with", "match", "contains", "reversed",
        "sort", "unique", "flat", "zip", "range", "slice", "index_of", "count", "merge",
        "chunks"}


def test_functions_do_not_change_their_arguments() -> None:
    data: dict[str, Any] = {"a": [3, 1, 2], "o": {"x": 1}, "p": {"y": 2}}
    evaluate("sort(a) + reversed(a) + unique(a) + flat([a])", data)
    evaluate("merge(o, p)", data)
    assert data == {"a": [3, 1, 2], "o": {"x": 1}, "p": {"y": 2}}


ERRORS: list[tuple[str, type[ExprError], str]] = [
    ("number('abc')", ExprValueError, "'abc' is not a number"),
    ("number('')", ExprValueError, "is not a number"), ("number(' 1')", ExprValueError, ""),
    ("number('inf')", ExprValueError, ""), ("number('nan')", ExprValueError, ""),
    ("number(null)", ExprTypeError, "number() cannot convert null"),
    ("number([1])", ExprTypeError, "cannot convert array"),
    ("number('1e999')", ExprLimitError, "not a finite number"),
    ("int('abc')", ExprValueError, "not a number"), ("int('1_000')", ExprValueError, ""),
    ("int(obj)", ExprTypeError, "int() cannot convert object"),
    ("int('99999999999999999999')", ExprLimitError, "64 bits"),
    ("int(big)", ExprLimitError, "64 bits"), ("floor(big)", ExprLimitError, "64 bits"),
    ("length(5)", ExprTypeError, "length() expects a string, array or object, got number"),
    ("length(null)", ExprTypeError, "got null"),
    ("keys(arr)", ExprTypeError, "keys() expects its argument to be object, got array"),
    ("values('x')", ExprTypeError, "got string"),
    ("abs('x')", ExprTypeError, "abs() expects a number, got string"),
    ("floor(null)", ExprTypeError, "floor() expects a number"),
    ("ceil(true)", ExprTypeError, "got bool"), ("round('1')", ExprTypeError, "got string"),
    ("min(1, 'a')", ExprTypeError, "min() expects two numbers or two strings, got number and"),
    ("max(null, null)", ExprTypeError, "max()"),
    ("sum(5)", ExprTypeError, "sum() expects its argument to be array"),
    ("sum([1, 'a'])", ExprTypeError, "sum() expects an array of numbers, found string"),
    ("sum([true])", ExprTypeError, "found bool"),
    ("sum([9223372036854775807, 1])", ExprLimitError, "64 bits"),
    ("lower(1)", ExprTypeError, "lower() expects its argument to be string, got number"),
    ("upper(null)", ExprTypeError, "got null"), ("trim([])", ExprTypeError, "got array"),
    ("split(1, ',')", ExprTypeError, "split() expects s to be string"),
    ("split('a', 1)", ExprTypeError, "split() expects sep to be string"),
    ("join('abc', ',')", ExprTypeError, "join() expects arr to be array, got string"),
    ("join(arr, 1)", ExprTypeError, "expects sep to be string"),
    ("replace('a', 1, 'b')", ExprTypeError, "expects old to be string"),
    ("starts_with(1, 'a')", ExprTypeError, "starts_with() expects s"),
    ("ends_with('a', null)", ExprTypeError, "ends_with() expects suffix"),
    ("match(1, 'a')", ExprTypeError, "match() expects pattern to be string"),
    ("match('a', 1)", ExprTypeError, "match() expects s to be string"),
    ("match('(', 'a')", ExprValueError, "invalid regex '(': "),
    ("match('a**', 'a')", ExprValueError, "nested quantifier"),
    (r"match('(a)\\1', 'aa')", ExprValueError, "backreferences are not supported"),
    ("match('(?=a)', 'a')", ExprValueError, "look-around is not supported"),
    ("contains(5, 5)", ExprTypeError, "'in' needs an array, object or string"),
    ("contains('abc', 1)", ExprTypeError, "substring"),
    ("reversed(5)", ExprTypeError, "reversed() expects its argument to be array or string"),
    ("sort('abc')", ExprTypeError, "sort() expects its argument to be array"),
    ("sort([1, 'a'])", ExprTypeError, "sort() expects all numbers or all strings, got number"),
    ("sort([null])", ExprTypeError, "got null"), ("sort([[1], [2]])", ExprTypeError, ""),
    ("unique(obj)", ExprTypeError, "unique() expects"), ("flat('ab')", ExprTypeError, "flat()"),
    ("zip(arr, 'ab')", ExprTypeError, "zip() expects b to be array"),
    ("range('5')", ExprTypeError, "range() expects n to be an integer, got string"),
    ("range(2.0)", ExprTypeError, "got number"), ("range(1, true)", ExprTypeError, "end"),
    ("range(1000000)", ExprLimitError, "range(): result too long (limit 100000 items)"),
    ("range(-9223372036854775807, 9223372036854775807)", ExprLimitError, "too long"),
    ("slice(5, 1)", ExprTypeError, "slice() expects v to be array or string"),
    ("slice(arr, '1')", ExprTypeError, "slice() expects start to be an integer"),
    ("slice(arr, 0, 1.5)", ExprTypeError, "slice() expects end"),
    ("index_of(5, 1)", ExprTypeError, "index_of() expects haystack"),
    ("index_of('abc', 1)", ExprTypeError, "index_of() expects needle to be string"),
    ("count(null, 1)", ExprTypeError, "count() expects haystack"),
    ("count('abc', [])", ExprTypeError, "count() expects needle"),
    ("merge(obj, arr)", ExprTypeError, "merge() expects two objects, got object and array"),
    ("chunks(arr, 0)", ExprValueError, "chunks() size must be a positive integer, got 0"),
    ("chunks(arr, -1)", ExprValueError, "positive"),
    ("chunks(arr, '2')", ExprTypeError, "chunks() expects size to be an integer"),
    ("chunks('abc', 2)", ExprTypeError, "chunks() expects arr to be array"),
]


@pytest.mark.parametrize(("source", "error", "message"), ERRORS)
def test_builtin_errors(source: str, error: type[ExprError], message: str) -> None:
    with pytest.raises(error) as info:
        evaluate(source, VARS)
    assert message in info.value.message
    assert info.value.column == 1  # the error points at the function's name


@pytest.mark.parametrize(("source", "message"), [
    ("length()", "length() takes 1 argument: length(v), got 0"),
    ("length(1, 2)", "got 2"), ("min(1)", "min() takes 2 arguments: min(a, b), got 1"),
    ("replace('a', 'b')", "replace(s, old, new)"),
    ("range()", "range() takes 1 to 2 arguments: range(n | start, end), got 0"),
    ("range(1, 2, 3)", "got 3"), ("slice(arr)", "slice() takes 2 to 3 arguments"),
    ("result(1)", "result() takes no arguments, got 1"),
])
def test_arity_is_checked_when_parsing(source: str, message: str) -> None:
    with pytest.raises(ExprArityError) as info:
        evaluate(source, {"arr": []})
    assert message in info.value.message
    assert info.value.column == 1


def test_unknown_function_suggests_a_close_name() -> None:
    with pytest.raises(ExprNameError, match=r"unknown function 'lenght' \(did you mean 'length'"):
        evaluate("1 + lenght(arr)", VARS)
    with pytest.raises(ExprNameError) as info:
        evaluate("frobnicate()", VARS)
    assert info.value.reason == "unknown function 'frobnicate'"


def test_errors_inside_arguments_point_at_the_argument() -> None:
    with pytest.raises(ExprTypeError) as info:
        evaluate("length(1 + 'a')", VARS)
    assert info.value.column == 10
