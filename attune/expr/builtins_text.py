"""Built-in string functions. Lengths and positions count characters (code
points), not bytes."""

from __future__ import annotations

from attune.expr.builtins_core import want
from attune.expr.errors import ExprLimitError
from attune.expr.limits import MAX_LIST_ITEMS, MAX_STRING_CHARS
from attune.expr.regex import search
from attune.expr.values import JSON, check_text, to_text


def _text(fn: str, param: str, value: JSON) -> str:
    want(fn, param, value, "string")
    assert isinstance(value, str)
    return value


def fn_lower(s: JSON) -> JSON:
    return _text("lower", "its argument", s).lower()


def fn_upper(s: JSON) -> JSON:
    return check_text(_text("upper", "its argument", s).upper())  # 'ß' becomes 'SS'


def fn_trim(s: JSON) -> JSON:
    return _text("trim", "its argument", s).strip()


def fn_split(s: JSON, sep: JSON) -> JSON:
    """Split on every `sep`; an empty separator splits into characters."""
    text = _text("split", "s", s)
    separator = _text("split", "sep", sep)
    parts: list[JSON] = list(text) if separator == "" else list(text.split(separator))
    if len(parts) > MAX_LIST_ITEMS:
        raise ExprLimitError(f"split(): too many parts (limit {MAX_LIST_ITEMS} items)")
    return parts


def fn_join(arr: JSON, sep: JSON) -> JSON:
    """Join the items' string forms (as `string()` gives them) with `sep`."""
    want("join", "arr", arr, "array")
    assert isinstance(arr, list)
    separator = _text("join", "sep", sep)
    pieces: list[str] = []
    size = 0
    for item in arr:
        piece = to_text(item)
        size += len(piece) + len(separator)
        if size > MAX_STRING_CHARS + len(separator):
            raise ExprLimitError(f"join(): result too long (limit {MAX_STRING_CHARS} characters)")
        pieces.append(piece)
    return separator.join(pieces)


def fn_replace(s: JSON, old: JSON, new: JSON) -> JSON:
    """Replace every occurrence of `old` (an empty `old` inserts between characters)."""
    text = _text("replace", "s", s)
    before = _text("replace", "old", old)
    after = _text("replace", "new", new)
    count = len(text) + 1 if before == "" else text.count(before)
    if len(text) + count * (len(after) - len(before)) > MAX_STRING_CHARS:
        raise ExprLimitError(f"replace(): result too long (limit {MAX_STRING_CHARS} characters)")
    return text.replace(before, after)


def fn_starts_with(s: JSON, prefix: JSON) -> JSON:
    return _text("starts_with", "s", s).startswith(_text("starts_with", "prefix", prefix))


def fn_ends_with(s: JSON, suffix: JSON) -> JSON:
    return _text("ends_with", "s", s).endswith(_text("ends_with", "suffix", suffix))


def fn_match(pattern: JSON, s: JSON) -> JSON:
    """True when the regex `pattern` matches anywhere in `s` (anchor with ^ and $)."""
    return search(_text("match", "pattern", pattern), _text("match", "s", s))
