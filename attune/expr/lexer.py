"""Tokens of the expression language.

    numbers     42  3.14          (no exponent; `42.x` is 42 then `.x`)
    strings     "a\\n"  'it\\'s'   (escapes \\n \\t \\r \\\\ and the quote; any other
                                   backslash is kept, so "\\d+" reaches a regex intact)
    names       event  _x1        (ASCII letters, digits, underscore)
    keywords    and or not in true false null
    operators   + - * / % == != < > <= >= ( ) [ ] , .

Offsets are absolute in the source handed to `tokenize` (a template may hold
several expressions; errors point into the whole template).
"""

from __future__ import annotations

from typing import NamedTuple

from attune.expr.errors import ExprLimitError, ExprSyntaxError
from attune.expr.limits import INT_MAX

KEYWORDS = frozenset({"and", "or", "not", "in", "true", "false", "null"})
_TWO_CHAR = frozenset({"==", "!=", "<=", ">="})
_ONE_CHAR = frozenset("+-*/%<>()[],.")
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\"}
_HINTS = {
    "=": "'=' is not an operator (compare with '==')",
    "!": "'!' is not an operator (use 'not', or '!=' to compare)",
    "&": "'&' is not an operator (use 'and')",
    "|": "'|' is not an operator (use 'or'; there are no filters, call functions instead)",
    "{": "'{' is not allowed here (object literals are not supported)",
    "}": "unexpected '}'",
}


class Token(NamedTuple):
    kind: str  # int, float, string, name, keyword, op, eof
    value: object
    start: int

    def describe(self) -> str:
        if self.kind == "eof":
            return "end of expression"
        if self.kind == "string":
            return "string literal"
        if self.kind in ("int", "float"):
            return f"number {self.value}"
        return f"'{self.value}'"


def _is_name_start(ch: str) -> bool:
    return ch.isascii() and (ch.isalpha() or ch == "_")


def _is_name_char(ch: str) -> bool:
    return ch.isascii() and (ch.isalnum() or ch == "_")


def _is_digit(ch: str) -> bool:
    return "0" <= ch <= "9"


def read_string(source: str, start: int, end: int) -> tuple[str, int]:
    """Read the quoted string at `start`; return its value and the offset after it."""
    quote = source[start]
    out: list[str] = []
    i = start + 1
    while i < end:
        ch = source[i]
        if ch == quote:
            return "".join(out), i + 1
        if ch == "\\" and i + 1 < end:
            nxt = source[i + 1]
            if nxt == quote:
                out.append(nxt)
            else:
                out.append(_ESCAPES.get(nxt, "\\" + nxt))
            i += 2
            continue
        out.append(ch)
        i += 1
    raise ExprSyntaxError("unterminated string literal", offset=start)


def _read_number(source: str, start: int, end: int) -> tuple[Token, int]:
    i = start
    while i < end and _is_digit(source[i]):
        i += 1
    if i + 1 < end and source[i] == "." and _is_digit(source[i + 1]):
        i += 1
        while i < end and _is_digit(source[i]):
            i += 1
        value = float(source[start:i])
        if value == float("inf"):
            raise ExprLimitError("number literal out of range", offset=start)
        return Token("float", value, start), i
    if i - start > 19 or int(source[start:i]) > INT_MAX:
        raise ExprLimitError("integer literal out of range (64-bit)", offset=start)
    return Token("int", int(source[start:i]), start), i


def tokenize(source: str, start: int = 0, end: int | None = None) -> list[Token]:
    """Tokens of `source[start:end]`, ending with an `eof` token at `end`."""
    end = len(source) if end is None else end
    tokens: list[Token] = []
    i = start
    while True:
        while i < end and source[i].isspace():
            i += 1
        if i >= end:
            tokens.append(Token("eof", None, end))
            return tokens
        ch = source[i]
        pair = source[i:i + 2]
        if pair in _TWO_CHAR:
            tokens.append(Token("op", pair, i))
            i += 2
        elif ch in _ONE_CHAR:
            tokens.append(Token("op", ch, i))
            i += 1
        elif ch in "\"'":
            text, after = read_string(source, i, end)
            tokens.append(Token("string", text, i))
            i = after
        elif _is_digit(ch):
            token, i = _read_number(source, i, end)
            tokens.append(token)
        elif _is_name_start(ch):
            j = i + 1
            while j < end and _is_name_char(source[j]):
                j += 1
            word = source[i:j]
            tokens.append(Token("keyword" if word in KEYWORDS else "name", word, i))
            i = j
        else:
            hint = _HINTS.get(ch, f"unexpected character {ch!r}")
            if pair in ("&&", "||"):
                hint = f"'{pair}' is not an operator (use '{'and' if ch == '&' else 'or'}')"
            raise ExprSyntaxError(hint, offset=i)
