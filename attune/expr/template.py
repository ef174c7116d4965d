"""`{{ expr }}` templates.

- A value that is exactly one `{{ expr }}` (whitespace around it ignored, as
  the original workflow engine does) renders to the expression's value with its
  JSON type: `"{{ event.payload.count }}"` gives 7, not "7".
- Anything else renders to a string: text is kept, each `{{ expr }}` is
  replaced by its value's string form — strings as they are, numbers and
  booleans as JSON, arrays and objects as compact JSON, and null as the empty
  string (the original's interpolation; `string(null)` is "null").
- A string without `{{` is returned unchanged. A `}}` inside a quoted string
  does not end the expression; an unclosed `{{` is a syntax error.

Parsed templates are cached, so rendering the same template for each event
parses it once.
"""

from __future__ import annotations

import functools
from collections.abc import Collection, Mapping
from dataclasses import dataclass

from attune.expr import ast
from attune.expr.context import EvalContext, as_context
from attune.expr.errors import ExprError, ExprLimitError, ExprSyntaxError
from attune.expr.evaluator import evaluate_node
from attune.expr.functions import WORKFLOW_FUNCTIONS
from attune.expr.lexer import read_string
from attune.expr.limits import MAX_SOURCE_CHARS, MAX_STRING_CHARS
from attune.expr.parser import parse_expression
from attune.expr.values import JSON, to_text

Functions = frozenset[str] | None


@dataclass(frozen=True, slots=True)
class Template:
    source: str
    parts: tuple[str | ast.Node, ...]
    pure: ast.Node | None  # set when the whole value is one {{ expr }}

    @property
    def is_constant(self) -> bool:
        return all(isinstance(part, str) for part in self.parts)

    def render(self, context: EvalContext | Mapping[str, JSON] | None = None) -> JSON:
        scope = as_context(context)
        if self.pure is not None:
            return evaluate_node(self.pure, scope, self.source)
        if self.is_constant:
            return self.source
        pieces: list[str] = []
        size = 0
        for part in self.parts:
            if isinstance(part, str):
                piece = part
            else:
                try:
                    piece = to_text(evaluate_node(part, scope, self.source), null="")
                except ExprError as exc:
                    raise exc.locate(part.pos, self.source) from None
            size += len(piece)
            if size > MAX_STRING_CHARS:
                raise ExprLimitError(f"rendered text too long (limit {MAX_STRING_CHARS} "
                                     f"characters)", offset=0, source=self.source)
            pieces.append(piece)
        return "".join(pieces)


@dataclass(frozen=True, slots=True)
class Expression:
    """A bare expression (no `{{ }}`), e.g. a workflow `when:` condition."""

    source: str
    node: ast.Node

    def evaluate(self, context: EvalContext | Mapping[str, JSON] | None = None) -> JSON:
        return evaluate_node(self.node, as_context(context), self.source)


def _check_length(source: str) -> None:
    if len(source) > MAX_SOURCE_CHARS:
        raise ExprLimitError(f"template too long (limit {MAX_SOURCE_CHARS} characters)",
                             offset=MAX_SOURCE_CHARS, source=source[:MAX_SOURCE_CHARS])


def _closing(source: str, start: int, opened: int) -> int:
    """Offset of the `}}` that ends the expression starting at `start`."""
    i = start
    while i < len(source):
        ch = source[i]
        if ch in "\"'":
            _, i = read_string(source, i, len(source))
            continue
        if source.startswith("}}", i):
            return i
        i += 1
    raise ExprSyntaxError("'{{' is never closed with '}}'", offset=opened)


def _parse_template(source: str, functions: Functions) -> Template:
    parts: list[str | ast.Node] = []
    i = 0
    while True:
        opened = source.find("{{", i)
        if opened < 0:
            if i < len(source) or not parts:
                parts.append(source[i:])
            break
        if opened > i:
            parts.append(source[i:opened])
        close = _closing(source, opened + 2, opened)
        parts.append(parse_expression(source, opened + 2, close, functions=functions))
        i = close + 2
    nodes = [part for part in parts if not isinstance(part, str)]
    texts = [part for part in parts if isinstance(part, str)]
    pure = nodes[0] if len(nodes) == 1 and all(not text.strip() for text in texts) else None
    return Template(source, tuple(parts), pure)


@functools.lru_cache(maxsize=4096)
def _cached_template(source: str, functions: Functions) -> Template:
    return _parse_template(source, functions)


@functools.lru_cache(maxsize=4096)
def _cached_expression(source: str, functions: Functions) -> Expression:
    return Expression(source, parse_expression(source, functions=functions))


def _functions(functions: Collection[str] | None) -> Functions:
    return None if functions is None else frozenset(functions)


_CACHE_MAX_CHARS = 4_096  # longer sources are parsed each time, so the caches stay small


def compile_template(source: str, *,
                     functions: Collection[str] | None = WORKFLOW_FUNCTIONS) -> Template:
    """Parse and check a template (function names and arities included).

    `functions`: names of non-built-in functions the render context will supply
    (default: the workflow functions; pass `()` where none exist, e.g. rules,
    so `result()` is refused up front; None defers the check to evaluation).
    """
    if "{{" not in source:
        return Template(source, (source,), None)  # plain text: nothing to parse or cache
    _check_length(source)
    parse = _cached_template if len(source) <= _CACHE_MAX_CHARS else _parse_template
    try:
        return parse(source, _functions(functions))
    except ExprError as exc:
        raise exc.in_source(source) from None
    except RecursionError:  # only if the caller's own stack is already deep
        raise ExprSyntaxError("template nested too deeply", offset=0, source=source) from None


def compile_expression(source: str, *,
                       functions: Collection[str] | None = WORKFLOW_FUNCTIONS) -> Expression:
    """Parse and check a bare expression (see `compile_template` for `functions`)."""
    _check_length(source)
    try:
        if len(source) <= _CACHE_MAX_CHARS:
            return _cached_expression(source, _functions(functions))
        return Expression(source, parse_expression(source, functions=_functions(functions)))
    except ExprError as exc:
        raise exc.in_source(source) from None
    except RecursionError:
        raise ExprSyntaxError("expression nested too deeply", offset=0,
                              source=source) from None
