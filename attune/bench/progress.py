"""How a benchmark shows progress: one phase at a time, counted in units of work."""

from __future__ import annotations

from typing import Protocol


class Progress(Protocol):
    def phase(self, name: str, total: int) -> None:
        """A new phase begins with `total` units of work."""
        ...

    def update(self, done: int) -> None:
        """`done` units of the current phase are finished."""
        ...


class Silent:
    def phase(self, name: str, total: int) -> None:
        pass

    def update(self, done: int) -> None:
        pass
