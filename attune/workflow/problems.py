"""Collecting definition problems, each naming the task and field it is about
(`tasks.fetch.next[1].do`), so one validation run reports all of them at once."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Literal

from attune.errors import ValidationError

#: More than this many problems is noise: the rest are summarised.
MAX_PROBLEMS = 100
#: Nesting deeper than this in a value is refused (also keeps recursion bounded).
MAX_VALUE_DEPTH = 64

Severity = Literal["error", "warning"]


@dataclass(frozen=True, slots=True)
class Problem:
    field: str
    message: str
    severity: Severity = "error"

    def as_dict(self) -> dict[str, str]:
        return {"field": self.field, "message": self.message, "severity": self.severity}

    def __str__(self) -> str:
        return f"{self.field}: {self.message}" if self.field else self.message


class WorkflowDefinitionError(ValidationError):
    """A workflow definition that cannot run; `details` lists every problem."""


@dataclass(slots=True)
class Problems:
    found: list[Problem] = field(default_factory=list)
    dropped: int = 0

    def error(self, where: str, message: str) -> None:
        self._add(Problem(where, message))

    def warning(self, where: str, message: str) -> None:
        self._add(Problem(where, message, "warning"))

    def _add(self, problem: Problem) -> None:
        if len(self.found) < MAX_PROBLEMS:
            self.found.append(problem)
        else:
            self.dropped += 1

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.found if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.found if p.severity == "warning"]

    def raise_errors(self, what: str = "invalid workflow") -> None:
        errors = self.errors
        if not errors:
            return
        shown = "; ".join(str(p) for p in errors[:5])
        more = len(errors) - 5 + self.dropped
        if more > 0:
            shown += f"; and {more} more"
        raise WorkflowDefinitionError(f"{what}: {shown}",
                                      details=[p.as_dict() for p in self.found])


def kind(value: Any) -> str:
    """A YAML-ish name for a value's type, for messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list | tuple):
        return "list"
    if isinstance(value, dict):
        return "mapping"
    return type(value).__name__


def json_value(value: Any, where: str, problems: Problems, depth: int = 0) -> bool:
    """Whether `value` is plain JSON (YAML also yields dates, sets, non-string keys,
    infinities); reports the first offending path."""
    if depth > MAX_VALUE_DEPTH:
        problems.error(where, f"nested more than {MAX_VALUE_DEPTH} levels deep")
        return False
    if value is None or isinstance(value, bool | int | str):
        return True
    if isinstance(value, float):
        if math.isfinite(value):
            return True
        problems.error(where, f"{value} is not a JSON number")
        return False
    if isinstance(value, list):
        return all(json_value(item, f"{where}[{i}]", problems, depth + 1)
                   for i, item in enumerate(value))
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                problems.error(where, f"key {key!r} is a {kind(key)}; keys must be strings "
                                      "(quote it)")
                return False
            if not json_value(item, f"{where}.{key}", problems, depth + 1):
                return False
        return True
    problems.error(where, f"a YAML {kind(value)} is not a JSON value (quote it as a string)")
    return False
