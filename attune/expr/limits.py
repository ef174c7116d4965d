"""Hard limits that keep any input cheap to evaluate.

Templates come from users (rules, workflows) and data from the outside world
(event payloads), so nothing may grow without bound: every operation that can
make something bigger than its inputs checks these before it allocates, and
fails with `ExprLimitError` naming the limit.
"""

from __future__ import annotations

MAX_SOURCE_CHARS = 100_000
"""Longest template or expression text accepted."""

MAX_NESTING = 32
"""Deepest nesting of parentheses, brackets, calls and unary operators.

The parser and evaluator recurse once per level; 32 levels is far beyond any
real template and keeps the Python stack shallow."""

MAX_STRING_CHARS = 1_000_000
"""Longest string an expression may produce (concatenation, join, replace, string())."""

MAX_LIST_ITEMS = 100_000
"""Longest list an expression may produce (range, +, flat, zip, chunks, split)."""

INT_MIN = -(2**63)
INT_MAX = 2**63 - 1
"""Integers are 64-bit signed, as in the original engine; results outside overflow."""

MAX_REGEX_CHARS = 1_000
"""Longest regular expression pattern accepted by `match()`."""

MAX_REGEX_PROGRAM = 10_000
"""Most instructions a compiled pattern may have (after expanding `{m,n}`)."""

MAX_REGEX_SUBJECT_CHARS = 100_000
"""Longest string `match()` searches."""

MAX_REGEX_STEPS = 1_000_000
"""Most state steps one regex search may take. The engine runs in time linear in
the subject (no backtracking), so this only stops huge pattern x subject products."""
