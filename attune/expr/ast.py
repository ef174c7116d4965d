"""The syntax tree. Nodes are immutable so parsed templates can be cached and
shared between threads and evaluations.

Left-associative chains of one precedence level (`a + b - c`, `x and y and z`)
and postfix chains (`event.payload.items[0].name`) are flat nodes, so a long
chain does not make the tree (or the evaluator's recursion) deep — only real
nesting does, and that is bounded by `limits.MAX_NESTING`.

Every node carries `pos`, the source offset errors about it point to (the
operator for an operation, the field name for an access, the function name
for a call).
"""

from __future__ import annotations

from dataclasses import dataclass

from attune.expr.values import JSON


@dataclass(frozen=True, slots=True)
class Literal:
    value: JSON  # only scalars: list literals are ListExpr, so no shared mutable value
    pos: int


@dataclass(frozen=True, slots=True)
class ListExpr:
    items: tuple[Node, ...]
    pos: int


@dataclass(frozen=True, slots=True)
class Name:
    name: str
    pos: int


@dataclass(frozen=True, slots=True)
class Unary:
    op: str  # "not" or "-"
    operand: Node
    pos: int


@dataclass(frozen=True, slots=True)
class Logic:
    """`a and b and c` / `a or b`: short-circuit, the result is a bool."""

    op: str  # "and" or "or"
    operands: tuple[Node, ...]
    pos: int


@dataclass(frozen=True, slots=True)
class Operation:
    """One operator and its right operand inside a `Chain`."""

    op: str
    operand: Node
    pos: int


@dataclass(frozen=True, slots=True)
class Chain:
    """`first op1 x1 op2 x2 ...` evaluated left to right (one precedence level)."""

    first: Node
    rest: tuple[Operation, ...]
    pos: int


@dataclass(frozen=True, slots=True)
class Field:
    name: str
    pos: int


@dataclass(frozen=True, slots=True)
class Index:
    index: Node
    pos: int


@dataclass(frozen=True, slots=True)
class Access:
    """`base.field[index]...`: a path of field and index steps."""

    base: Node
    steps: tuple[Field | Index, ...]
    pos: int


@dataclass(frozen=True, slots=True)
class Call:
    name: str
    args: tuple[Node, ...]
    pos: int


Node = Literal | ListExpr | Name | Unary | Logic | Chain | Access | Call
