"""Expression language: literals, operators, precedence, int/float rules, access."""

from __future__ import annotations

from typing import Any

import pytest

from attune.errors import ValidationError
from attune.expr import (
    ExprError,
    ExprLimitError,
    ExprLookupError,
    ExprNameError,
    ExprSyntaxError,
    ExprTypeError,
    ExprZeroDivisionError,
    evaluate,
)

VARS: dict[str, Any] = {
    "arr": [10, 20, 30],
    "obj": {"a": {"b": 42}, "key": "value", "list": [{"name": "x"}, {"name": "y"}]},
    "s": "hello",
    "n": 7,
    "f": 2.5,
    "t": True,
    "z": None,
    "empty": [],
}


def ev(source: str, **extra: Any) -> Any:
    return evaluate(source, {**VARS, **extra})


def same(actual: Any, expected: Any) -> bool:
    """Equal with the same JSON types (2 is not 2.0, 1 is not True), recursively."""
    if type(actual) is not type(expected):
        return False
    if isinstance(expected, list):
        return len(actual) == len(expected) and all(map(same, actual, expected))
    if isinstance(expected, dict):
        return actual.keys() == expected.keys() and all(same(actual[k], v)
                                                        for k, v in expected.items())
    return bool(actual == expected)


@pytest.mark.parametrize(("source", "expected"), [
    ("42", 42), ("3.15", 3.15), ("0", 0), ("true", True), ("false", False), ("null", None),
    ('"double"', "double"), ("'single'", "single"), (r'"a\nb\tc\rd"', "a\nb\tc\rd"),
    (r'"q\"q"', 'q"q'), (r"'it\'s'", "it's"), (r'"back\\slash"', "back\\slash"),
    (r'"\d+"', "\\d+"), ('"it\'s"', "it's"), ("''", ""),
    ("[1, 'a', null, [true]]", [1, "a", None, [True]]), ("[]", []), ("[1, 2,]", [1, 2]),
    ("  7  ", 7), ("\n7\t", 7), ("-5", -5), ("-2.5", -2.5), ("--5", 5),
    ('"ünïcødé ✓"', "ünïcødé ✓"), ("9223372036854775807", 2**63 - 1),
])
def test_literals(source: str, expected: Any) -> None:
    assert same(ev(source), expected)


@pytest.mark.parametrize(("source", "expected"), [
    # integer preservation and int/float mixing
    ("2 + 3", 5), ("10 - 4", 6), ("3 * 7", 21), ("15 / 5", 3), ("17 % 5", 2),
    ("2 + 1.5", 3.5), ("2.5 + 1.5", 4.0), ("10 / 4", 2.5), ("10 / 4.0", 2.5),
    ("10 / 5", 2), ("10.0 / 5", 2.0), ("-10 / 5", -2), ("-7 / 2", -3.5), ("1 / 3", 1 / 3),
    ("7 % -3", 1), ("-7 % 3", -1), ("-7 % -3", -1), ("7.5 % 2", 1.5), ("-7.5 % 2", -1.5),
    ("n * f", 17.5), ("n - n", 0), ("-n", -7), ("-f", -2.5), ("- -n", 7),
    # concatenation
    ('"a" + "b"', "ab"), ("s + ' world'", "hello world"), ("[1] + [2, 3]", [1, 2, 3]),
    ("arr + []", [10, 20, 30]), ("'' + ''", ""),
    # precedence
    ("2 + 3 * 4", 14), ("(2 + 3) * 4", 20), ("10 - 2 * 3 + 1", 5), ("-2 + 3", 1),
    ("-(2 + 3)", -5), ("2 * -3", -6), ("10 - 3 - 2", 5), ("100 / 10 / 5", 2),
    ("2 * 3 % 4", 2), ("1 + 2 == 3", True), ("not 1 == 2", True),
    ("true or false and false", True), ("(true or false) and false", False),
    ("not true or true", True), ("not (true or true)", False),
    ("1 < 2 == true", True), ("1 + 1 in [2]", True),
])
def test_arithmetic_and_precedence(source: str, expected: Any) -> None:
    assert same(ev(source), expected)


@pytest.mark.parametrize(("source", "expected"), [
    ("3 == 3", True), ("3 != 4", True), ("3 == 3.0", True), ("3.0 == 3", True),
    ("3 != 3.1", True), ('"3" == 3', False), ("1 == true", False), ("0 == false", False),
    ("null == null", True), ("null != null", False), ("null == 0", False),
    ("null == false", False), ('"" == null', False), ("[] == []", True),
    ("[1, [2, 3]] == [1, [2, 3.0]]", True), ("[1, 2] == [2, 1]", False),
    ("obj == obj", True), ("arr != [10, 20]", True), ("'abc' == 'abc'", True),
    ("3 > 2", True), ("3 < 2", False), ("3 >= 3", True), ("3 <= 4", True),
    ("2.5 < 3", True), ("3 > 2.5", True), ("'abc' < 'abd'", True), ("'abc' > 'abb'", True),
    ("'a' < 'b'", True), ("'B' < 'a'", True), ("'' <= ''", True), ("-1 < 0", True),
])
def test_comparison(source: str, expected: bool) -> None:
    assert ev(source) is expected


def test_deep_object_equality_ignores_key_order() -> None:
    assert ev("a == b", a={"x": 1, "y": [1, {"z": 2}]}, b={"y": [1.0, {"z": 2}], "x": 1})
    assert ev("a != b", a={"x": 1}, b={"x": 1, "y": 2})
    assert not ev("a == b", a={"x": 1}, b={"y": 1})


@pytest.mark.parametrize(("source", "expected"), [
    ("2 in arr", False), ("20 in arr", True), ("20.0 in arr", True), ("'20' in arr", False),
    ("'key' in obj", True), ("'nope' in obj", False), ("'ell' in s", True),
    ("'' in s", True), ("'xyz' in s", False), ("[1] in [[1], 2]", True),
    ("null in [null]", True), ("true in [1]", False),
])
def test_membership(source: str, expected: bool) -> None:
    assert ev(source) is expected


@pytest.mark.parametrize(("source", "expected"), [
    ("true and true", True), ("true and false", False), ("false or true", True),
    ("false or false", False), ("not true", False), ("not false", True),
    ("not null", True), ("not 0", True), ("not 0.0", True), ("not ''", True),
    ("not []", True), ("not empty", True), ("not {}", None),  # {} is not a literal
    ("not 1", False), ("not 'x'", False), ("not [0]", False), ("not obj", False),
    ("1 and 'x'", True), ("0 or ''", False), ("n > 5 and n < 10", True),
    ("s or 0", True), ("z or empty", False),
])
def test_logic_and_truthiness(source: str, expected: bool | None) -> None:
    if expected is None:
        with pytest.raises(ExprSyntaxError):
            ev(source)
    else:
        assert ev(source) is expected


def test_and_or_short_circuit() -> None:
    # the right side would fail (unknown variable / type error) if evaluated
    assert ev("false and missing.x") is False
    assert ev("true or 1 + 'a'") is True
    assert ev("n > 100 and 1 / 0") is False


@pytest.mark.parametrize(("source", "expected"), [
    ("obj.a.b", 42), ("obj.key", "value"), ('obj["key"]', "value"), ("obj['a']['b']", 42),
    ("arr[0]", 10), ("arr[1]", 20), ("arr[-1]", 30), ("arr[-3]", 10), ("arr[1 + 1]", 30),
    ("obj.list[1].name", "y"), ("obj.list[-1]['name']", "y"), ("s[0]", "h"), ("s[-1]", "o"),
    ("[1, 2, 3][1]", 2), ("'abc'[2]", "c"), ("obj[s[0] + 'ey'] ", None),
    ("(obj).a.b", 42), ("length(obj.list)", 2),
])
def test_access(source: str, expected: Any) -> None:
    if expected is None:
        with pytest.raises(ExprLookupError, match="no key 'hey'"):
            ev(source)
    else:
        assert same(ev(source), expected)


def test_keywords_are_allowed_as_field_names() -> None:
    data = {"in": 1, "and": 2, "or": 3, "not": 4, "true": 5, "false": 6, "null": 7}
    assert ev("d.in + d.and + d.or + d.not + d.true + d.false + d.null", d=data) == 28


# -- errors: type, position, message ------------------------------------------------

@pytest.mark.parametrize(("source", "error", "message", "column"), [
    ('"hello" + 5', ExprTypeError, "cannot apply '+' to string and number", 9),
    ("1 + 'a'", ExprTypeError, "cannot apply '+' to number and string", 3),
    ("[1] + 'a'", ExprTypeError, "array and string", 5),
    ("true + 1", ExprTypeError, "bool and number", 6),
    ("'a' * 3", ExprTypeError, "cannot apply '*' to string and number", 5),
    ("null - 1", ExprTypeError, "null and number", 6),
    ("obj / 2", ExprTypeError, "object and number", 5),
    ("'a' % 2", ExprTypeError, "'%'", 5),
    ("5 / 0", ExprZeroDivisionError, "division by zero", 3),
    ("5 / 0.0", ExprZeroDivisionError, "division by zero", 3),
    ("5 % 0", ExprZeroDivisionError, "modulo by zero", 3),
    ("1 < 'a'", ExprTypeError, "cannot compare number and string with '<'", 3),
    ("[1] < [2]", ExprTypeError, "array and array", 5),
    ("null >= 1", ExprTypeError, "null and number", 6),
    ("1 < 2 < 3", ExprTypeError, "bool and number", 7),
    ("-'a'", ExprTypeError, "cannot negate string", 1),
    ("-true", ExprTypeError, "cannot negate bool", 1),
    ("1 in 'abc'", ExprTypeError, "substring", 3),
    ("1 in obj", ExprTypeError, "key, which must be a string", 3),
    ("1 in 5", ExprTypeError, "needs an array, object or string", 3),
    ("1 in null", ExprTypeError, "not null", 3),
    ("missing", ExprNameError, "unknown variable 'missing'", 1),
    ("ob.a", ExprNameError, "did you mean 'obj'", 1),
    ("length", ExprNameError, "length is a function", 1),
    ("obj.nope", ExprLookupError, "obj has no field 'nope' (fields: a, key, list)", 5),
    ("obj.a.c", ExprLookupError, "obj.a has no field 'c' (fields: b)", 7),
    ("obj['nope']", ExprLookupError, "obj has no key 'nope'", 4),
    ("arr[3]", ExprLookupError, "index 3 is out of range for arr (length 3)", 4),
    ("arr[-4]", ExprLookupError, "index -4 is out of range", 4),
    ("s[5]", ExprLookupError, "out of range for s (length 5)", 2),
    ("obj.list[0].x", ExprLookupError, "obj.list[0] has no field 'x'", 13),
    ("arr['a']", ExprTypeError, "array index must be an integer, got string", 4),
    ("arr[1.0]", ExprTypeError, "got number", 4),
    ("arr[true]", ExprTypeError, "got bool", 4),
    ("obj[1]", ExprTypeError, "object key must be a string, got number", 4),
    ("n.x", ExprTypeError, "cannot read field 'x' of n, which is a number", 3),
    ("z.x", ExprTypeError, "of z, which is null", 3),
    ("arr.x", ExprTypeError, "which is an array", 5),
    ("n[0]", ExprTypeError, "cannot index n, which is a number", 2),
    ("z[0]", ExprTypeError, "which is null", 2),
])
def test_evaluation_errors(source: str, error: type[ExprError], message: str,
                           column: int) -> None:
    with pytest.raises(error) as info:
        ev(source)
    assert message in info.value.message
    assert info.value.line == 1 and info.value.column == column, info.value.message
    assert info.value.offset == column - 1
    assert f"at line 1, column {column}" in str(info.value)


@pytest.mark.parametrize(("source", "message", "column"), [
    ("", "empty expression", 1), ("   ", "empty expression", 4),
    ("1 +", "unexpected end of expression", 4), ("(1 + 2", "expected ')' to close '('", 7),
    ("[1, 2", "expected ']'", 6), ("arr[0", "expected ']'", 6), ("f(1", "expected ')'", 4),
    ("1 2", "unexpected number 2 after a complete expression", 3),
    ("'abc", "unterminated string literal", 1), ('x + "abc', "unterminated string", 5),
    ("a = 1", "'=' is not an operator", 3), ("!a", "use 'not'", 1),
    ("a && b", "use 'and'", 3), ("a || b", "use 'or'", 3), ("a | upper", "no filters", 3),
    ("{'a': 1}", "object literals are not supported", 1), ("a.1", "expected a field name", 3),
    ("a.", "expected a field name after '.', found end of expression", 3),
    ("x not in y", "'not in' is not an operator", 3),
    ("obj.a(1)", "there are no methods", 6), ("(length)(arr)", "only functions", 9),
    ("#", "unexpected character '#'", 1), ("1e5", "unexpected 'e5'", 2),
    ("1.", "expected a field name", 3), (".5", "unexpected '.'", 1),
    ("99999999999999999999", "integer literal out of range", 1),
    ("9223372036854775808", "integer literal out of range", 1),
    ("and", "unexpected 'and'", 1), ("1 +* 2", "unexpected '*'", 4),
    ("[,]", "unexpected ','", 2), ("f(,)", "unexpected ','", 3),
])
def test_syntax_errors(source: str, message: str, column: int) -> None:
    with pytest.raises((ExprSyntaxError, ExprLimitError)) as info:
        ev(source)
    assert message in info.value.message
    assert info.value.column == column, info.value.message


def test_errors_are_validation_errors_with_details() -> None:
    with pytest.raises(ValidationError) as info:
        ev("1 +\n  'a' * 2")
    error = info.value
    assert isinstance(error, ExprTypeError)
    assert error.status == 422 and error.code == "VALIDATION_ERROR"
    assert (error.line, error.column) == (2, 7)
    assert error.details == [{"field": None, "message": error.reason, "kind": "type",
                              "offset": 10, "line": 2, "column": 7}]
    assert error.excerpt() == "  'a' * 2\n      ^"


def test_chains_of_any_length_do_not_nest() -> None:
    long_sum = " + ".join(["1"] * 2000)
    assert ev(long_sum) == 2000
    long_path = "d" + ".d" * 500
    nested: Any = 1
    for _ in range(501):
        nested = {"d": nested}
    assert ev(long_path, d=nested["d"]) == 1
    assert ev(" and ".join(["true"] * 1000)) is True


@pytest.mark.parametrize("source", [
    "(" * 40 + "1" + ")" * 40, "[" * 40 + "]" * 40, "-" * 40 + "1 + x", "not " * 40 + "x",
    "length(" * 40 + "x" + ")" * 40, "a" + "[0" * 40 + "]" * 40,
])
def test_deep_nesting_is_a_syntax_error(source: str) -> None:
    with pytest.raises(ExprSyntaxError, match="nested too deeply"):
        ev(source)


def test_moderate_nesting_is_fine() -> None:
    assert ev("(" * 30 + "1" + ")" * 30) == 1
    assert ev("not " * 30 + "true") is True


def test_integer_overflow_is_a_limit_error() -> None:
    with pytest.raises(ExprLimitError, match="64 bits"):
        ev("9223372036854775807 + 1")
    with pytest.raises(ExprLimitError, match="64 bits"):
        ev("x * x", x=2**40)
    with pytest.raises(ExprLimitError, match="64 bits"):
        ev("x / -1", x=-(2**63))
    with pytest.raises(ExprLimitError, match="not a finite number"):
        ev("x * 10.0", x=1e308)
    assert ev("-9223372036854775807 - 1") == -(2**63)
