"""A regular-expression search that cannot be made slow (used by `match()`).

Python's `re` backtracks, so a pattern like `(a+)+$` takes exponential time on
a short string — a template author could stall the executor. This engine
compiles the pattern to a Thompson NFA and simulates it (a Pike VM without
captures): time is O(pattern x subject), whatever the pattern. It answers only
"is there a match anywhere" (the original's `Regex::is_match`), which is all
`match(pattern, s)` needs. Patterns and subjects are bounded by `limits`.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import cast

from attune.expr.errors import ExprLimitError, ExprValueError
from attune.expr.limits import (
    MAX_REGEX_CHARS,
    MAX_REGEX_PROGRAM,
    MAX_REGEX_STEPS,
    MAX_REGEX_SUBJECT_CHARS,
)
from attune.expr.regex_syntax import ANY, ANY_BUT_NEWLINE, CharClass, Tree, is_word, parse_regex

# instruction opcodes
_CHAR, _SPLIT, _JMP, _ASSERT, _MATCH = range(5)


@dataclass(frozen=True, slots=True)
class Regex:
    pattern: str
    ops: tuple[int, ...]
    args: tuple[object, ...]  # matcher for CHAR, (x, y) for SPLIT, target for JMP, kind
    literal: str | None  # the pattern is a plain string: a substring test suffices

    def search(self, text: str) -> bool:
        if len(text) > MAX_REGEX_SUBJECT_CHARS:
            raise ExprLimitError(f"match() subject too long "
                                 f"(limit {MAX_REGEX_SUBJECT_CHARS} characters)")
        if self.literal is not None:
            return self.literal in text
        return _run(self, text)


class _Compiler:
    def __init__(self) -> None:
        self.ops: list[int] = []
        self.args: list[object] = []

    def emit(self, op: int, arg: object = None) -> int:
        if len(self.ops) >= MAX_REGEX_PROGRAM:
            raise ExprLimitError(f"regex too large once compiled "
                                 f"(limit {MAX_REGEX_PROGRAM} instructions)")
        self.ops.append(op)
        self.args.append(arg)
        return len(self.ops) - 1

    def compile(self, tree: Tree) -> None:
        kind = tree[0]
        if kind == "char":
            self.emit(_CHAR, tree[1])
        elif kind == "assert":
            self.emit(_ASSERT, tree[1])
        elif kind == "cat":
            items = tree[1]
            assert isinstance(items, list)
            for item in items:
                self.compile(item)
        elif kind == "alt":
            self.alternation(tree[1])
        elif kind == "rep":
            low, high = tree[2], tree[3]
            assert isinstance(low, int) and (high is None or isinstance(high, int))
            self.repeat(tree[1], low, high)

    def alternation(self, branches: object) -> None:
        assert isinstance(branches, list)
        jumps: list[int] = []
        for branch in branches[:-1]:
            split = self.emit(_SPLIT)
            self.compile(branch)
            jumps.append(self.emit(_JMP))
            self.args[split] = (split + 1, len(self.ops))
        self.compile(branches[-1])
        for jump in jumps:
            self.args[jump] = len(self.ops)

    def repeat(self, body: object, low: int, high: int | None) -> None:
        assert isinstance(body, tuple)
        for _ in range(low):
            self.compile(body)
        if high is None:
            split = self.emit(_SPLIT)
            self.compile(body)
            self.emit(_JMP, split)
            self.args[split] = (split + 1, len(self.ops))
            return
        splits: list[int] = []
        for _ in range(high - low):
            splits.append(self.emit(_SPLIT))
            self.compile(body)
        for split in splits:
            self.args[split] = (split + 1, len(self.ops))


def _plain_literal(tree: Tree) -> str | None:
    if tree[0] != "cat":
        return None
    items = tree[1]
    assert isinstance(items, list)
    chars = [item[1] for item in items if item[0] == "char"]
    if len(chars) != len(items) or not all(isinstance(c, str) and len(c) == 1 for c in chars):
        return None
    return "".join(str(c) for c in chars)


@functools.lru_cache(maxsize=512)
def compile_regex(pattern: str) -> Regex:
    """Compile once (cached): rules evaluate the same pattern for every event."""
    if len(pattern) > MAX_REGEX_CHARS:
        raise ExprLimitError(f"regex too long (limit {MAX_REGEX_CHARS} characters)")
    tree = parse_regex(pattern)
    literal = _plain_literal(tree)
    compiler = _Compiler()
    compiler.compile(tree)
    compiler.emit(_MATCH)
    return Regex(pattern, tuple(compiler.ops), tuple(compiler.args), literal)


def _assertion(kind: object, text: str, pos: int) -> bool:
    before = text[pos - 1] if pos > 0 else ""
    after = text[pos] if pos < len(text) else ""
    if kind == "text-start":
        return pos == 0
    if kind == "text-end":
        return pos == len(text)
    if kind == "line-start":
        return pos == 0 or before == "\n"
    if kind == "line-end":
        return pos == len(text) or after == "\n"
    boundary = (before != "" and is_word(before)) != (after != "" and is_word(after))
    return boundary if kind == "word" else not boundary


def _run(regex: Regex, text: str) -> bool:
    """Pike VM: advance the set of live NFA states one character at a time."""
    ops, args = regex.ops, regex.args
    mark = [-1] * len(ops)  # mark[pc] == generation: pc already in this step's set
    budget = MAX_REGEX_STEPS
    current: list[int] = []
    for pos in range(len(text) + 1):
        # seed a thread at every position: an unanchored search
        pending = [*reversed(current), 0]
        current = []
        while pending:
            pc = pending.pop()
            if mark[pc] == pos:
                continue
            mark[pc] = pos
            budget -= 1
            op = ops[pc]
            if op == _CHAR:
                current.append(pc)
            elif op == _MATCH:
                return True
            elif op == _JMP:
                pending.append(cast(int, args[pc]))
            elif op == _SPLIT:
                first, second = cast(tuple[int, int], args[pc])
                pending.append(second)
                pending.append(first)
            elif _assertion(args[pc], text, pos):
                pending.append(pc + 1)
        if budget < 0:
            raise ExprLimitError("match() too expensive for this pattern and string "
                                 f"(limit {MAX_REGEX_STEPS} steps)")
        if pos == len(text):
            break
        ch = text[pos]
        following: list[int] = []
        for pc in current:
            matcher = args[pc]
            if isinstance(matcher, CharClass):
                hit = matcher.matches(ch)
            elif matcher == ANY:
                hit = True
            elif matcher == ANY_BUT_NEWLINE:
                hit = ch != "\n"
            else:
                hit = ch == matcher
            if hit:
                following.append(pc + 1)
        current = following
    return False


def search(pattern: str, text: str, *, ignore_case: bool = False) -> bool:
    """True when `pattern` matches somewhere in `text`; bad patterns raise ExprValueError
    (validate up front with `compile_regex`, e.g. when a rule is saved)."""
    try:
        regex = compile_regex("(?i)" + pattern if ignore_case else pattern)
    except RecursionError:
        raise ExprValueError(f"invalid regex {pattern!r}: nested too deeply") from None
    return regex.search(text)
