"""Filters shared by the catalogue lists: `q` (whitespace-separated words, each a
case-insensitive substring of ref, label, description or pack) and `pack.*`
wildcards on refs."""

from __future__ import annotations

from typing import Any


def like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


class Where:
    """AND-ed conditions with numbered parameters, built in order."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.args: list[Any] = []

    def add(self, sql: str, *values: Any) -> None:
        """`sql` with `{}` placeholders, one per value."""
        numbers = []
        for value in values:
            self.args.append(value)
            numbers.append(f"${len(self.args)}")
        self.parts.append(sql.format(*numbers))

    def equals(self, column: str, value: Any) -> None:
        if value is not None:
            self.add(f"{column} = {{}}", value)

    def ref(self, column: str, value: str | None) -> None:
        """An exact ref, or `pack.*` for every ref of a pack."""
        if value is None:
            return
        if value.endswith(".*"):
            self.add(f"{column} LIKE {{}}", like_escape(value[:-1]) + "%")
        else:
            self.add(f"{column} = {{}}", value)

    def words(self, columns: tuple[str, ...], q: str | None) -> None:
        for word in (q or "").split():
            pattern = "%" + like_escape(word.lower()) + "%"
            self.add("(" + " OR ".join(f"lower({c}) LIKE {{0}}" for c in columns) + ")",
                     pattern)

    @property
    def sql(self) -> str:
        return ("WHERE " + " AND ".join(self.parts)) if self.parts else ""

    def page(self, limit: int | None, offset: int) -> str:
        """`LIMIT .. OFFSET ..` with their values appended to `args`."""
        self.args += [limit, offset]
        return f"LIMIT ${len(self.args) - 1} OFFSET ${len(self.args)}"
