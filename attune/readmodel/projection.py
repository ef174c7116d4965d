"""What a projection is: a pure mapping from envelopes to SQL statements.

Projections never talk to the database themselves; the runner executes their
statements in one transaction per batch together with the tracking position,
grouping consecutive identical statements into one `executemany`.

A projection's statements may read and write only the tables it owns: the runner
orders a batch projection by projection, so another projection's rows may be ahead
of or behind the event being folded.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple, Protocol

from attune.eventstore.envelope import Envelope


class Statement(NamedTuple):
    sql: str
    args: tuple[Any, ...]


class Projection(Protocol):
    @property
    def name(self) -> str:
        """Row name in `projection_positions`."""
        ...

    @property
    def tables(self) -> Sequence[str]:
        """Tables this projection owns (truncated on rebuild, compared by verify)."""
        ...

    def apply(self, envelope: Envelope) -> list[Statement]:
        """Statements that fold `envelope` into the read model (empty if not relevant)."""
        ...


def group(statements: Sequence[Statement]) -> list[tuple[str, list[tuple[Any, ...]]]]:
    """Consecutive statements with the same SQL become one executemany; order is kept."""
    grouped: list[tuple[str, list[tuple[Any, ...]]]] = []
    for stmt in statements:
        if grouped and grouped[-1][0] == stmt.sql:
            grouped[-1][1].append(stmt.args)
        else:
            grouped.append((stmt.sql, [stmt.args]))
    return grouped
