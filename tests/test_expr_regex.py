"""The linear-time regex engine behind `match()`: agreement with Python's `re` on
the common dialect, Rust-dialect errors, and no catastrophic backtracking."""

from __future__ import annotations

import contextlib
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from attune.expr import ExprLimitError, ExprValueError
from attune.expr.regex import compile_regex, search


@pytest.mark.parametrize(("pattern", "text", "expected"), [
    ("abc", "xxabcxx", True), ("abc", "ab", False), ("", "", True), ("^$", "", True),
    ("^abc$", "abc", True), ("^abc$", "abc\n", False), ("^b", "ab", False),
    ("a.c", "abc", True), ("a.c", "a\nc", False), ("(?s)a.c", "a\nc", True),
    ("a|b", "b", True), ("x(a|b)y", "xby", True), ("x(a|b)y", "xcy", False),
    ("a*", "", True), ("a+", "", False), ("ca?t", "ct", True), ("a{3}", "aa", False),
    ("a{3}", "aaa", True), ("^a{2,3}$", "aaaa", False), ("^a{2,}$", "aaaaa", True),
    ("^a{0,1}b", "b", True), ("[abc]+", "xxbxx", True), ("[^abc]", "abc", False),
    ("[a-z]+[0-9]", "abc7", True), ("[-a]", "-", True), ("[a-]", "-", True),
    ("[]a]", "]", True), (r"[\]]", "]", True), (r"\d+", "x42", True), (r"\D", "42", False),
    (r"\w", "!", False), (r"\W", "!", True), (r"\s", "a b", True), (r"\S", "  ", False),
    (r"[\d_]+$", "a_1", True), (r"[^\d]", "123", False), (r"\bfoo\b", "a foo b", True),
    (r"\bfoo\b", "afoob", False), (r"\Bfoo", "afoo", True), (r"\Afoo", "foo", True),
    (r"foo\z", "foo\n", False), (r"\.", "a.b", True), (r"\.", "ab", False),
    (r"\x41", "A", True), (r"\x{263A}", "☺", True), (r"\u{263A}", "☺", True),
    (r"\t", "a\tb", True), (r"\n", "a\nb", True), ("(?i)hello", "HeLLo", True),
    ("(?i:h)ello", "Hello", True), ("(?i:h)ello", "HELLO", False), ("(?i)[a-c]", "B", True),
    ("(?i)a(?-i)b", "Ab", True), ("(?i)a(?-i)b", "AB", False), ("(?m)^b$", "a\nb\nc", True),
    ("^b$", "a\nb\nc", False), ("(?P<year>[0-9]{4})-", "2026-01", True),
    ("(?<y>x)", "x", True), ("(?:ab)+$", "ababab", True), ("a*?b", "aab", True),
    ("(a|ab)(c|bcd)(d*)", "abcd", True), ("((a)|b)+", "ab", True), ("(a*)*b", "aab", True),
    ("ü+", "müü", True), ("日本", "こんにちは日本", True), ("(|a)b", "b", True),
    (r"\B", "", True), (r"\b", "", False), (r"a\B", "ab", True),
])
def test_search(pattern: str, text: str, expected: bool) -> None:
    assert search(pattern, text) is expected


@pytest.mark.parametrize(("pattern", "message"), [
    ("(", "missing ')'"), ("(a", "missing ')'"), (")", "unbalanced ')'"),
    ("[a", "unexpected end of pattern"),
    ("*a", "nothing to repeat"), ("a{2,1}", "reversed"), ("a{x}", "repetition count"),
    ("a{1001}", "above 1000"), ("[z-a]", "class range is reversed"), (r"\1", "backreferences"),
    ("(?=a)", "look-around"), ("(?<!a)b", "look-around"), (r"\p{L}", "unsupported escape"),
    ("[[:alpha:]]", "nested classes"), ("[a&&b]", "set operations"), ("(?x)a", "unknown flag"),
    ("a++", "nested quantifier"), ("^*", "nothing to repeat"), (r"\xZZ", "hexadecimal"),
    ("(?P=name)", "expected '<'"), ("(?<name", "unterminated group name"),
])
def test_invalid_patterns(pattern: str, message: str) -> None:
    with pytest.raises(ExprValueError) as info:
        search(pattern, "a")
    assert message in info.value.message and repr(pattern) in info.value.message


@pytest.mark.parametrize(("pattern", "text"), ids=lambda v: str(v)[:20], argvalues=[
    ("(a+)+$", "a" * 20_000 + "b"), ("(a|a)*b", "a" * 20_000), ("(.*)*x", "y" * 20_000),
    (r"(\w+\s?)*$", "word " * 4_000 + "!"), ("(a*)*(b*)*(c*)*$", "abc" * 5_000 + "!"),
    (r"^(\d+)+$", "1" * 20_000 + "x"),
])
def test_catastrophic_patterns_finish_in_linear_time(pattern: str, text: str) -> None:
    # each of these takes Python's `re` longer than the age of the universe
    assert search(pattern, text) in (True, False)


def test_limits() -> None:
    with pytest.raises(ExprLimitError, match="regex too long"):
        search("a" * 1_001, "a")
    with pytest.raises(ExprLimitError, match="regex too large once compiled"):
        search("(a{1000}){20}", "a")
    with pytest.raises(ExprLimitError, match="subject too long"):
        search("a", "a" * 100_001)
    with pytest.raises(ExprLimitError, match="too expensive"):
        search("[ab]{500}c", "ab" * 3_000)


def test_ignore_case_option() -> None:
    assert search("^crit", "Critical", ignore_case=True)
    assert not search("^crit", "Critical")


def test_plain_patterns_use_a_substring_test() -> None:
    assert compile_regex("hello").literal == "hello"
    assert compile_regex("he.lo").literal is None
    assert compile_regex("(?i)hello").literal is None


# -- differential: agree with Python's re where the dialects coincide ---------------

_atoms = st.sampled_from(["a", "b", "1", " ", ".", "[ab]", "[^a]", "[a-c1]", r"\d", r"\w",
                          r"\s", r"\W", "_"])
# not \B: Python's never matches an empty string, Rust's (and ours) does
_anchors = st.sampled_from(["^", "$", r"\b"])


def _quantify(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.tuples(inner, st.sampled_from(["", "*", "+", "?", "{2}", "{0,2}", "{1,}", "*?"])
                     ).map(lambda t: t[0] + t[1])


_patterns = st.recursive(
    _quantify(_atoms) | _anchors,
    lambda inner: st.one_of(
        st.lists(inner, min_size=1, max_size=4).map("".join),
        st.lists(inner, min_size=2, max_size=3).map("|".join),
        _quantify(inner.map(lambda p: f"({p})")),
        inner.map(lambda p: f"(?:{p})"),
    ),
    max_leaves=8,
)


@settings(max_examples=200, deadline=None)
@given(pattern=_patterns, text=st.text(alphabet="ab1 _-c", max_size=10))
def test_agrees_with_python_re(pattern: str, text: str) -> None:
    expected = re.search(pattern, text) is not None
    assert search(pattern, text) is expected, (pattern, text)


@settings(max_examples=300, deadline=None)
@given(pattern=st.text(max_size=30), text=st.text(max_size=30))
def test_arbitrary_patterns_only_raise_expression_errors(pattern: str, text: str) -> None:
    with contextlib.suppress(ExprValueError, ExprLimitError):
        search(pattern, text)
