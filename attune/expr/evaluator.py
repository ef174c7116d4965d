"""Walk a syntax tree and produce a JSON value.

Operands are evaluated left to right; `and`/`or` short-circuit and give a bool
(as in the original engine, `x or "default"` is `true`, not `x`). Function
arguments are all evaluated before the call. Errors raised without a position
get the position of the node that failed.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable

from attune.expr import ast
from attune.expr.context import MISSING, EvalContext
from attune.expr.errors import (
    ExprError,
    ExprLimitError,
    ExprLookupError,
    ExprNameError,
    ExprTypeError,
)
from attune.expr.functions import BUILTINS, WORKFLOW_FUNCTIONS
from attune.expr.operators import BINARY, negate
from attune.expr.values import JSON, a_type, is_int, truthy, type_name


def evaluate_node(node: ast.Node, context: EvalContext, source: str | None = None) -> JSON:
    """Evaluate `node`; any failure is an ExprError located in `source`."""
    try:
        return _eval(node, context)
    except ExprError as exc:
        raise exc.in_source(source) if source is not None else exc from None
    except RecursionError:
        # only reachable through data nested hundreds of levels deep (the tree
        # itself is bounded by MAX_NESTING)
        raise ExprLimitError("a value is nested too deeply to process", offset=node.pos,
                             source=source) from None


def _eval(node: ast.Node, context: EvalContext) -> JSON:
    return _HANDLERS[type(node)](node, context)


def _literal(node: ast.Node, context: EvalContext) -> JSON:
    assert isinstance(node, ast.Literal)
    return node.value


def _list(node: ast.Node, context: EvalContext) -> JSON:
    assert isinstance(node, ast.ListExpr)
    return [_eval(item, context) for item in node.items]


def _name(node: ast.Node, context: EvalContext) -> JSON:
    assert isinstance(node, ast.Name)
    value = context.lookup(node.name)
    if value is not MISSING:
        return value
    if context.lenient:
        return None
    raise ExprNameError(_unknown_variable(node.name, context), offset=node.pos)


def _unknown_variable(name: str, context: EvalContext) -> str:
    known = sorted(set(context.names()))
    close = difflib.get_close_matches(name, known, n=1)
    if close:
        hint = f" (did you mean '{close[0]}'?)"
    elif name in BUILTINS or name in WORKFLOW_FUNCTIONS:
        hint = f" ({name} is a function: call it as {name}(...))"
    elif known:
        hint = f" (known: {', '.join(known[:12])}{', ...' if len(known) > 12 else ''})"
    else:
        hint = " (no variables are defined here)"
    return f"unknown variable '{name}'{hint}"


def _unary(node: ast.Node, context: EvalContext) -> JSON:
    assert isinstance(node, ast.Unary)
    value = _eval(node.operand, context)
    if node.op == "not":
        return not truthy(value)
    try:
        return negate(value)
    except ExprError as exc:
        raise exc.locate(node.pos) from None


def _logic(node: ast.Node, context: EvalContext) -> JSON:
    assert isinstance(node, ast.Logic)
    stop_on = node.op == "or"  # `or` stops at the first true operand, `and` at the first false
    for operand in node.operands:
        if truthy(_eval(operand, context)) == stop_on:
            return stop_on
    return not stop_on


def _chain(node: ast.Node, context: EvalContext) -> JSON:
    assert isinstance(node, ast.Chain)
    value = _eval(node.first, context)
    for step in node.rest:
        right = _eval(step.operand, context)
        try:
            value = BINARY[step.op](value, right)
        except ExprError as exc:
            raise exc.locate(step.pos) from None
    return value


def describe(node: ast.Node) -> str:
    """Source-like text for a path, for messages: `event.payload.items[0]`."""
    if isinstance(node, ast.Name):
        return node.name
    if isinstance(node, ast.Call):
        return f"{node.name}(...)"
    if isinstance(node, ast.Access):
        return describe_path(node.base, node.steps)
    return "the value"


def describe_path(base: ast.Node, steps: tuple[ast.Field | ast.Index, ...]) -> str:
    text = describe(base)
    for step in steps:
        if isinstance(step, ast.Field):
            text += f".{step.name}"
        elif isinstance(step.index, ast.Literal):
            text += f"[{step.index.value!r}]" if isinstance(step.index.value, str) \
                else f"[{step.index.value}]"
        else:
            text += "[...]"
    return text


def _keys_hint(obj: dict[str, JSON]) -> str:
    if not obj:
        return " (it is empty)"
    keys = list(obj)
    return f" (fields: {', '.join(keys[:12])}{', ...' if len(keys) > 12 else ''})"


def _access(node: ast.Node, context: EvalContext) -> JSON:
    assert isinstance(node, ast.Access)
    value = _eval(node.base, context)
    for i, step in enumerate(node.steps):
        if value is None and context.lenient:
            return None
        if isinstance(step, ast.Field):
            if isinstance(value, dict):
                if step.name in value:
                    value = value[step.name]
                    continue
                if context.lenient:
                    return None
                where = describe_path(node.base, node.steps[:i])
                raise ExprLookupError(f"{where} has no field '{step.name}'{_keys_hint(value)}",
                                      offset=step.pos)
            where = describe_path(node.base, node.steps[:i])
            raise ExprTypeError(f"cannot read field '{step.name}' of {where}, "
                                f"which is {a_type(value)}, not an object", offset=step.pos)
        index = _eval(step.index, context)
        value = _index(value, index, context.lenient, node, i)
    return value


def _index(value: JSON, index: JSON, lenient: bool, node: ast.Access, i: int) -> JSON:
    pos = node.steps[i].pos

    def where() -> str:
        return describe_path(node.base, node.steps[:i])

    if isinstance(value, list | str):
        if not is_int(index):
            raise ExprTypeError(f"{type_name(value)} index must be an integer, "
                                f"got {type_name(index)}", offset=pos)
        assert isinstance(index, int)
        if -len(value) <= index < len(value):
            return value[index]
        if lenient:
            return None
        raise ExprLookupError(f"index {index} is out of range for {where()} "
                              f"(length {len(value)})", offset=pos)
    if isinstance(value, dict):
        if not isinstance(index, str):
            raise ExprTypeError(f"object key must be a string, got {type_name(index)}",
                                offset=pos)
        if index in value:
            return value[index]
        if lenient:
            return None
        raise ExprLookupError(f"{where()} has no key {index!r}{_keys_hint(value)}", offset=pos)
    raise ExprTypeError(f"cannot index {where()}, which is {a_type(value)} "
                        f"(only arrays, objects and strings)", offset=pos)


def _call(node: ast.Node, context: EvalContext) -> JSON:
    assert isinstance(node, ast.Call)
    args = [_eval(arg, context) for arg in node.args]
    try:
        builtin = BUILTINS.get(node.name)
        if builtin is not None:
            builtin.check_arity(len(args))
            return builtin.impl(*args)
        supplied = context.function(node.name)
        if supplied is not None:
            return supplied(args)
    except ExprError as exc:
        raise exc.locate(node.pos) from None
    if node.name in WORKFLOW_FUNCTIONS:
        raise ExprNameError(f"{node.name}() is only available inside a workflow",
                            offset=node.pos)
    close = difflib.get_close_matches(node.name, sorted(BUILTINS), n=1)
    hint = f" (did you mean '{close[0]}'?)" if close else ""
    raise ExprNameError(f"unknown function '{node.name}'{hint}", offset=node.pos)


_HANDLERS: dict[type, Callable[[ast.Node, EvalContext], JSON]] = {
    ast.Literal: _literal,
    ast.ListExpr: _list,
    ast.Name: _name,
    ast.Unary: _unary,
    ast.Logic: _logic,
    ast.Chain: _chain,
    ast.Access: _access,
    ast.Call: _call,
}
