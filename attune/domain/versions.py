"""Runtime versions and semver constraints, as actions state them (`runtime_version`).

    ">=3.11"          at least 3.11.0
    ">=3.11, <4"      both (comma or space separated comparators)
    "~3.12"           >=3.12.0, <3.13.0 (a bare "3.12" means the same)
    "^3.12"           >=3.12.0, <4.0.0 (^0.4 -> <0.5.0)
    "3.x", "3.*", "*" wildcards
    ">=3.13 || ~3.11" either side

Versions are parsed leniently ("v20.11", "3.12.1rc1" -> 3.12.1): interpreters print
all sorts. Pure functions; no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

Version = tuple[int, int, int]

_VERSION = re.compile(r"v?(\d+)(?:\.(\d+))?(?:\.(\d+))?")
_COMPARATOR = re.compile(r"^(>=|<=|>|<|=|==|~|\^)?\s*v?(\d+|[xX*])(?:\.(\d+|[xX*]))?"
                         r"(?:\.(\d+|[xX*]))?$")


class ConstraintError(ValueError):
    """A constraint that cannot be parsed; the message says what is wrong."""


def parse_version(text: str) -> Version | None:
    """The first `major[.minor[.patch]]` in `text` (e.g. `Python 3.11.2` -> (3, 11, 2))."""
    found = _VERSION.search(text)
    if found is None:
        return None
    major, minor, patch = found.groups()
    return int(major), int(minor or 0), int(patch or 0)


def format_version(version: Version) -> str:
    return ".".join(str(p) for p in version)


@dataclass(frozen=True)
class _Range:
    """low <= v < high (either bound optional); `low_open` makes it low < v."""

    low: Version | None = None
    low_open: bool = False
    high: Version | None = None
    high_closed: bool = False

    def __contains__(self, v: Version) -> bool:
        if self.low is not None and (v < self.low or (self.low_open and v == self.low)):
            return False
        return self.high is None or v < self.high or (self.high_closed and v == self.high)


def _bump(parts: list[int], at: int) -> Version:
    """The first version past `parts[:at+1]`: _bump([3,12], 1) -> (3, 13, 0)."""
    head = parts[:at + 1]
    head[-1] += 1
    padded = head + [0] * (3 - len(head))
    return padded[0], padded[1], padded[2]


def _comparator(text: str) -> _Range:
    m = _COMPARATOR.match(text)
    if m is None:
        raise ConstraintError(f"{text!r} is not a version comparator (use e.g. >=3.11, ~3.12, "
                              "^18, 3.x)")
    op = m.group(1) or "~"
    raw = [p for p in m.groups()[1:] if p is not None]
    wild = next((i for i, p in enumerate(raw) if p in "xX*"), None)
    if wild is not None:
        if op not in ("~", "=", "=="):
            raise ConstraintError(f"{text!r}: wildcards only go without an operator (3.x)")
        parts = [int(p) for p in raw[:wild]]
        if not parts:
            return _Range()
        return _Range(low=_pad(parts), high=_bump(parts, len(parts) - 1))
    parts = [int(p) for p in raw]
    v = _pad(parts)
    match op:
        case ">=":
            return _Range(low=v)
        case ">":
            return _Range(low=v, low_open=True)
        case "<":
            return _Range(high=v)
        case "<=":
            return _Range(high=v, high_closed=True)
        case "=" | "==":
            return (_Range(low=v, high=v, high_closed=True) if len(parts) == 3
                    else _Range(low=v, high=_bump(parts, len(parts) - 1)))
        case "~":
            return _Range(low=v, high=_bump(parts, min(len(parts) - 1, 1)))
        case _:  # "^": the left-most non-zero part stays
            first = next((i for i, p in enumerate(parts) if p != 0), len(parts) - 1)
            return _Range(low=v, high=_bump(parts, first))


def _pad(parts: list[int]) -> Version:
    padded = parts + [0] * (3 - len(parts))
    return padded[0], padded[1], padded[2]


@dataclass(frozen=True)
class Constraint:
    text: str
    #: Alternatives (||) of conjunctions of ranges.
    alternatives: tuple[tuple[_Range, ...], ...]

    def matches(self, version: Version) -> bool:
        return any(all(version in r for r in conj) for conj in self.alternatives)


def parse_constraint(text: str) -> Constraint:
    if not text.strip():
        raise ConstraintError("empty version constraint")
    alternatives = []
    for alt in text.split("||"):
        # ">= 3.11" is one comparator: glue operators to their version first
        glued = re.sub(r"(>=|<=|>|<|==|=|~|\^)\s+", r"\1", alt.replace(",", " "))
        pieces = glued.split()
        if not pieces:
            raise ConstraintError(f"{text!r}: empty alternative around '||'")
        alternatives.append(tuple(_comparator(p) for p in pieces))
    return Constraint(text=text, alternatives=tuple(alternatives))


def select_best(available: Iterable[str], constraint: str | None) -> str | None:
    """The highest of `available` (version strings) matching `constraint`; with no
    constraint, simply the highest. None when nothing matches."""
    parsed = parse_constraint(constraint) if constraint else None
    best: tuple[Version, str] | None = None
    for text in available:
        v = parse_version(text)
        if v is None or (parsed is not None and not parsed.matches(v)):
            continue
        if best is None or v > best[0]:
            best = (v, text)
    return best[1] if best else None
