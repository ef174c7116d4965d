"""What an expression can see: variables (namespaces) and extra functions.

Callers build a `Context` from plain mappings:

    rules:      Context({"event": {...}, "pack": {"config": {...}}, "system": {...}})
    workflows:  Context({"parameters": ..., "workflow": vars, "vars": vars,
                         "variables": vars, "task": results, "tasks": results,
                         "config": ..., "keystore": ..., "item": ..., "index": ...,
                         "system": ...},
                        functions={"result": ..., "succeeded": ...},
                        fallback=vars)   # bare names resolve against workflow vars last

Anything implementing `EvalContext` works too (e.g. a lazily computed one).

Missing data: by default a missing variable, object field or array index is an
error naming what was missing (the original engine's behaviour). With
`lenient=True` it is null instead, and reading a field or index of null is null
(the original's rule `action_params` resolver behaved so) — type errors stay errors.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from attune.expr.values import JSON


class Missing(enum.Enum):
    MISSING = "missing"


MISSING = Missing.MISSING

ContextFunction = Callable[[Sequence[JSON]], JSON]
"""A function a context supplies: it gets the evaluated arguments and returns a
JSON value; it may raise `ExprError` (the call's position is attached)."""


class EvalContext(Protocol):
    @property
    def lenient(self) -> bool: ...

    def lookup(self, name: str) -> JSON | Missing:
        """The value of a bare name, or MISSING."""
        ...

    def function(self, name: str) -> ContextFunction | None:
        """A function this context supplies (checked after the built-ins), or None."""
        ...

    def names(self) -> Iterable[str]:
        """Known variable names, for "did you mean" hints."""
        ...


@dataclass(frozen=True, slots=True)
class Context:
    variables: Mapping[str, JSON] = field(default_factory=dict)
    functions: Mapping[str, ContextFunction] = field(default_factory=dict)
    fallback: Mapping[str, JSON] | None = None
    lenient: bool = False

    def lookup(self, name: str) -> JSON | Missing:
        if name in self.variables:
            return self.variables[name]
        if self.fallback is not None and name in self.fallback:
            return self.fallback[name]
        return MISSING

    def function(self, name: str) -> ContextFunction | None:
        return self.functions.get(name)

    def names(self) -> Iterable[str]:
        yield from self.variables
        if self.fallback is not None:
            yield from self.fallback


def as_context(context: EvalContext | Mapping[str, JSON] | None) -> EvalContext:
    """Accept a plain mapping of variables where a context is expected."""
    if context is None:
        return Context()
    if isinstance(context, Mapping):
        return Context(context)
    return context
