"""Recursive-descent parser. Precedence, lowest first (as in the original engine):

    or
    and
    not                      (unary)
    == != < > <= >= in       (left to right: `a < b < c` is `(a < b) < c`)
    + -
    * / %
    -                        (unary)
    .field  [index]  name(args)

Function names are checked here, so a template with a typo or a wrong number of
arguments is refused when it is saved, not when an event arrives.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Collection

from attune.expr import ast
from attune.expr.errors import ExprArityError, ExprNameError, ExprSyntaxError
from attune.expr.functions import BUILTINS, WORKFLOW_FUNCTIONS
from attune.expr.lexer import Token, tokenize
from attune.expr.limits import MAX_NESTING

_COMPARISON = frozenset({"==", "!=", "<", ">", "<=", ">="})
_ADDITIVE = frozenset({"+", "-"})
_MULTIPLICATIVE = frozenset({"*", "/", "%"})
_FIELD_KEYWORDS = frozenset({"and", "or", "not", "in", "true", "false", "null"})
_LITERALS: dict[str, bool | None] = {"true": True, "false": False, "null": None}


class _Parser:
    def __init__(self, tokens: list[Token]) -> None:
        self.tokens = tokens
        self.i = 0
        self.depth = 0
        self.calls: list[ast.Call] = []

    # -- helpers ------------------------------------------------------------
    def peek(self) -> Token:
        return self.tokens[self.i]

    def advance(self) -> Token:
        token = self.tokens[self.i]
        if token.kind != "eof":
            self.i += 1
        return token

    def at(self, kind: str, value: object = None) -> bool:
        token = self.tokens[self.i]
        return token.kind == kind and (value is None or token.value == value)

    def expect_op(self, op: str, opened: Token | None = None) -> Token:
        token = self.peek()
        if token.kind == "op" and token.value == op:
            return self.advance()
        what = f"expected '{op}'"
        if opened is not None:
            what += f" to close '{opened.value}' opened at offset {opened.start}"
        raise ExprSyntaxError(f"{what}, found {token.describe()}", offset=token.start)

    def enter(self, token: Token) -> None:
        self.depth += 1
        if self.depth > MAX_NESTING:
            raise ExprSyntaxError(f"expression nested too deeply (limit {MAX_NESTING} levels)",
                                  offset=token.start)

    # -- grammar ------------------------------------------------------------
    def expression(self) -> ast.Node:
        return self.logic("or", self.and_expr)

    def and_expr(self) -> ast.Node:
        return self.logic("and", self.not_expr)

    def logic(self, op: str, parse: Callable[[], ast.Node]) -> ast.Node:
        first = parse()
        if not self.at("keyword", op):
            return first
        pos = self.peek().start
        operands = [first]
        while self.at("keyword", op):
            self.advance()
            operands.append(parse())
        return ast.Logic(op, tuple(operands), pos)

    def not_expr(self) -> ast.Node:
        if self.at("keyword", "not"):
            token = self.advance()
            self.enter(token)
            operand = self.not_expr()
            self.depth -= 1
            return ast.Unary("not", operand, token.start)
        return self.comparison()

    def comparison(self) -> ast.Node:
        first = self.chain(_ADDITIVE, self.multiplicative)
        rest: list[ast.Operation] = []
        while True:
            token = self.peek()
            if token.kind == "op" and token.value in _COMPARISON:
                op = str(token.value)
            elif token.kind == "keyword" and token.value == "in":
                op = "in"
            elif token.kind == "keyword" and token.value == "not" and \
                    self.tokens[self.i + 1].value == "in":
                raise ExprSyntaxError("'not in' is not an operator (write 'not (x in y)')",
                                      offset=token.start)
            else:
                break
            self.advance()
            rest.append(ast.Operation(op, self.chain(_ADDITIVE, self.multiplicative),
                                      token.start))
        return ast.Chain(first, tuple(rest), rest[0].pos) if rest else first

    def multiplicative(self) -> ast.Node:
        return self.chain(_MULTIPLICATIVE, self.unary)

    def chain(self, ops: frozenset[str], parse: Callable[[], ast.Node]) -> ast.Node:
        first = parse()
        rest: list[ast.Operation] = []
        while self.at("op") and self.peek().value in ops:
            token = self.advance()
            rest.append(ast.Operation(str(token.value), parse(), token.start))
        return ast.Chain(first, tuple(rest), rest[0].pos) if rest else first

    def unary(self) -> ast.Node:
        if self.at("op", "-"):
            token = self.advance()
            self.enter(token)
            operand = self.unary()
            self.depth -= 1
            if isinstance(operand, ast.Literal) and type(operand.value) in (int, float):
                # fold `-5` into one literal: cheaper to evaluate
                value = operand.value
                assert isinstance(value, int | float)
                return ast.Literal(-value, token.start)
            return ast.Unary("-", operand, token.start)
        return self.postfix()

    def postfix(self) -> ast.Node:
        base = self.primary()
        steps: list[ast.Field | ast.Index] = []
        while self.at("op"):
            token = self.peek()
            if token.value == ".":
                self.advance()
                name = self.advance()
                if name.kind == "name" or (name.kind == "keyword" and
                                           name.value in _FIELD_KEYWORDS):
                    steps.append(ast.Field(str(name.value), name.start))
                else:
                    raise ExprSyntaxError(f"expected a field name after '.', found "
                                          f"{name.describe()} (use [\"...\"] for other keys)",
                                          offset=name.start)
            elif token.value == "[":
                self.advance()
                self.enter(token)
                index = self.expression()
                self.expect_op("]", token)
                self.depth -= 1
                steps.append(ast.Index(index, token.start))
            elif token.value == "(":
                raise ExprSyntaxError("only functions can be called, by name "
                                      "(e.g. length(x)); there are no methods",
                                      offset=token.start)
            else:
                break
        return ast.Access(base, tuple(steps), steps[0].pos) if steps else base

    def primary(self) -> ast.Node:
        token = self.advance()
        if token.kind in ("int", "float", "string"):
            assert isinstance(token.value, int | float | str)
            return ast.Literal(token.value, token.start)
        if token.kind == "keyword" and token.value in _LITERALS:
            return ast.Literal(_LITERALS[str(token.value)], token.start)
        if token.kind == "name":
            if self.at("op", "("):
                return self.call(token)
            return ast.Name(str(token.value), token.start)
        if token.kind == "op" and token.value == "(":
            self.enter(token)
            inner = self.expression()
            self.expect_op(")", token)
            self.depth -= 1
            return inner
        if token.kind == "op" and token.value == "[":
            self.enter(token)
            items = self.items("]", token)
            self.depth -= 1
            return ast.ListExpr(tuple(items), token.start)
        if token.kind == "eof":
            raise ExprSyntaxError("unexpected end of expression (expected a value)",
                                  offset=token.start)
        raise ExprSyntaxError(f"unexpected {token.describe()} (expected a value)",
                              offset=token.start)

    def call(self, name: Token) -> ast.Node:
        opened = self.advance()
        self.enter(opened)
        args = self.items(")", opened)
        self.depth -= 1
        node = ast.Call(str(name.value), tuple(args), name.start)
        self.calls.append(node)
        return node

    def items(self, close: str, opened: Token) -> list[ast.Node]:
        """Comma-separated expressions up to `close`; a trailing comma is allowed."""
        items: list[ast.Node] = []
        while not self.at("op", close):
            items.append(self.expression())
            if not self.at("op", ","):
                break
            self.advance()
        self.expect_op(close, opened)
        return items


def _check_call(call: ast.Call, functions: Collection[str] | None) -> None:
    builtin = BUILTINS.get(call.name)
    if builtin is not None:
        builtin.check_arity(len(call.args), call.pos)
        return
    if functions is None or call.name in functions:
        if call.name in WORKFLOW_FUNCTIONS and call.args:
            raise ExprArityError(f"{call.name}() takes no arguments, got {len(call.args)}",
                                 offset=call.pos)
        return
    if call.name in WORKFLOW_FUNCTIONS:
        raise ExprNameError(f"{call.name}() is only available inside a workflow",
                            offset=call.pos)
    known = sorted(BUILTINS) + sorted(functions)
    close = difflib.get_close_matches(call.name, known, n=1)
    hint = f" (did you mean '{close[0]}'?)" if close else ""
    raise ExprNameError(f"unknown function '{call.name}'{hint}", offset=call.pos)


def parse_expression(source: str, start: int = 0, end: int | None = None, *,
                     functions: Collection[str] | None = WORKFLOW_FUNCTIONS) -> ast.Node:
    """Parse `source[start:end]` as one expression; offsets stay absolute.

    `functions` names the non-built-in functions the caller will supply
    (default: the workflow functions); None accepts any name (checked when called).
    """
    tokens = tokenize(source, start, end)
    parser = _Parser(tokens)
    if parser.at("eof"):
        raise ExprSyntaxError("empty expression", offset=parser.peek().start)
    node = parser.expression()
    if not parser.at("eof"):
        token = parser.peek()
        raise ExprSyntaxError(f"unexpected {token.describe()} after a complete expression",
                              offset=token.start)
    for call in parser.calls:
        _check_call(call, functions)
    return node
