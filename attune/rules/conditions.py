"""The array form of rule conditions, StackStorm's criteria operators made strict.

    conditions: [{field: "payload.severity", operator: equals, value: critical}, ...]
    condition: all | any

`field` is a dot path into the event payload (`a.b.0.c`; list indexes allowed). A
missing field makes every operator but `exists`/`nexists` not match. Conditions
are checked when a rule is created (`parse_conditions`), so an unknown operator or
a bad regex is a 422 then, never a silent non-match later. Pure: time is passed in.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic import ValidationError as PydanticValidationError

from attune.errors import ValidationError
from attune.expr import ExprError
from attune.expr.regex import search as regex_search

MAX_PATTERN = 1000
MAX_SUBJECT = 100_000  # longer strings are matched on their first 100k characters

Operator = Literal[
    "equals", "not_equals", "iequals", "contains", "icontains", "ncontains", "startswith",
    "endswith", "istartswith", "iendswith", "lt", "gt", "lte", "gte", "matchwildcard", "regex",
    "iregex", "exists", "nexists", "in", "nin", "timediff_lt", "timediff_gt", "search"]

#: StackStorm's names for the same operators, accepted on input.
ALIASES: dict[str, str] = {"eq": "equals", "nequals": "not_equals", "neq": "not_equals",
                           "ieq": "iequals", "lessthan": "lt", "greaterthan": "gt",
                           "inside": "in", "ninside": "nin", "td_lt": "timediff_lt",
                           "td_gt": "timediff_gt"}

_MISSING = object()


class Condition(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    field: str = Field(min_length=1, max_length=512)
    operator: Operator
    value: Any = None
    #: For `search`: how item matches combine (any item / all items match all `value` conditions).
    condition: Literal["any", "all"] = "any"


def lookup(data: Any, path: str) -> Any:
    """Follow a dot path through dicts and lists; `_MISSING` when it leads nowhere."""
    current = data
    for part in path.split("."):
        if isinstance(current, dict):
            current = current.get(part, _MISSING)
        elif isinstance(current, list):
            try:
                current = current[int(part)]
            except (ValueError, IndexError):
                return _MISSING
        else:
            return _MISSING
        if current is _MISSING:
            return _MISSING
    return current


def _parse_time(value: Any) -> datetime | None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return datetime.fromtimestamp(value, UTC)
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return None


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _ordered(a: Any, b: Any) -> bool:
    return (_number(a) and _number(b)) or (isinstance(a, str) and isinstance(b, str))


def _lower(value: Any) -> Any:
    return value.lower() if isinstance(value, str) else value


def _contains(container: Any, item: Any, *, fold: bool = False) -> bool:
    if isinstance(container, str) and isinstance(item, str):
        return (item.lower() in container.lower()) if fold else item in container
    if isinstance(container, list):
        return any(_lower(x) == _lower(item) for x in container) if fold else item in container
    if isinstance(container, dict):  # a key test; only strings can be JSON keys
        return isinstance(item, str) and item in container
    return False


def _affix(value: Any, pattern: Any, fold: bool, test: Callable[[str, str], bool]) -> bool:
    if not (isinstance(value, str) and isinstance(pattern, str)):
        return False
    return test(value.lower(), pattern.lower()) if fold else test(value, pattern)


def _compare(value: Any, pattern: Any, test: Callable[[Any, Any], bool]) -> bool:
    return _ordered(value, pattern) and test(value, pattern)


def _timediff(value: Any, pattern: Any, now: datetime, less: bool) -> bool:
    moment = _parse_time(value)
    if moment is None or not _number(pattern):
        return False
    age = (now - moment).total_seconds()
    return bool(age < pattern) if less else bool(age > pattern)


def _search(items: Any, cond: Condition, now: datetime) -> bool:
    if not isinstance(items, list) or not items:
        return False
    children: list[Condition] = cond.value
    results = (all(_matches(_relative(item), c, now) for c in children) for item in items)
    return any(results) if cond.condition == "any" else all(results)


def _relative(item: Any) -> dict[str, Any]:
    """Inside `search`, fields may be written `item.x` or just `x`."""
    return {"item": item, **item} if isinstance(item, dict) else {"item": item}


def _matches(data: Any, cond: Condition, now: datetime) -> bool:
    value = lookup(data, cond.field)
    op, pattern = cond.operator, cond.value
    if op == "exists":
        return value is not _MISSING and value is not None
    if op == "nexists":
        return value is _MISSING or value is None
    if value is _MISSING:
        return False
    if isinstance(value, str) and len(value) > MAX_SUBJECT:
        value = value[:MAX_SUBJECT]
    match op:
        case "equals":
            return bool(value == pattern)
        case "not_equals":
            return bool(value != pattern)
        case "iequals":
            return bool(_lower(value) == _lower(pattern))
        case "contains":
            return _contains(value, pattern)
        case "icontains":
            return _contains(value, pattern, fold=True)
        case "ncontains":
            return not _contains(value, pattern)
        case "startswith" | "istartswith":
            return _affix(value, pattern, op == "istartswith", str.startswith)
        case "endswith" | "iendswith":
            return _affix(value, pattern, op == "iendswith", str.endswith)
        case "lt":
            return _compare(value, pattern, lambda a, b: a < b)
        case "gt":
            return _compare(value, pattern, lambda a, b: a > b)
        case "lte":
            return _compare(value, pattern, lambda a, b: a <= b)
        case "gte":
            return _compare(value, pattern, lambda a, b: a >= b)
        case "matchwildcard":
            return isinstance(value, str) and fnmatch.fnmatchcase(value, pattern)
        case "regex" | "iregex":
            # linear-time engine: a hostile pattern cannot stall the executor
            try:
                return isinstance(value, str) and regex_search(
                    pattern, value, ignore_case=op == "iregex")
            except ExprError:
                return False
        case "in":
            return _contains(pattern, value)
        case "nin":
            return not _contains(pattern, value)
        case "timediff_lt" | "timediff_gt":
            return _timediff(value, pattern, now, op == "timediff_lt")
        case "search":
            return _search(value, cond, now)
    return False


def matches(conditions: Sequence[Condition], payload: Any, *, mode: Literal["all", "any"],
            now: datetime) -> bool:
    """Whether `payload` satisfies the conditions. No conditions always match."""
    if not conditions:
        return True
    results = (_matches(payload, c, now) for c in conditions)
    return all(results) if mode == "all" else any(results)


def _check(cond: Condition, where: str) -> Condition:
    op, value = cond.operator, cond.value
    if op in ("regex", "iregex"):
        if not isinstance(value, str) or len(value) > MAX_PATTERN:
            raise ValidationError(f"{where}.value: {op} needs a pattern string of at most "
                                  f"{MAX_PATTERN} characters")
        try:
            regex_search(value, "", ignore_case=op == "iregex")
        except ExprError as exc:
            raise ValidationError(f"{where}.value: invalid regular expression: {exc.message}"
                                  ) from None
    elif op == "matchwildcard" and not isinstance(value, str):
        raise ValidationError(f"{where}.value: matchwildcard needs a glob pattern string")
    elif op in ("in", "nin") and not isinstance(value, list | str | dict):
        raise ValidationError(f"{where}.value: {op} needs a list (or string) to look in")
    elif op in ("lt", "gt", "lte", "gte") and not (_number(value) or isinstance(value, str)):
        raise ValidationError(f"{where}.value: {op} compares with a number or a string")
    elif op in ("timediff_lt", "timediff_gt") and not _number(value):
        raise ValidationError(f"{where}.value: {op} needs a number of seconds")
    elif op == "search":
        if not isinstance(value, list) or not value:
            raise ValidationError(f"{where}.value: search needs a non-empty list of conditions "
                                  "applied to each item")
        children = parse_conditions(value, where=f"{where}.value")
        return cond.model_copy(update={"value": children})
    return cond


def parse_conditions(raw: Any, *, where: str = "conditions") -> list[Condition]:
    """Validate the array form; every error names the condition's position and field."""
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise ValidationError(f"{where}: must be a list of {{field, operator, value}}")
    out: list[Condition] = []
    for i, item in enumerate(raw):
        at = f"{where}[{i}]"
        if not isinstance(item, dict):
            raise ValidationError(f"{at}: must be an object with field, operator and value")
        item = {**item}
        op = item.get("operator")
        if isinstance(op, str):
            item["operator"] = ALIASES.get(op.lower(), op.lower())
        try:
            cond = Condition.model_validate(item)
        except PydanticValidationError as exc:
            first = exc.errors()[0]
            loc = ".".join(str(p) for p in first["loc"])
            if loc == "operator":
                known = ", ".join(Operator.__args__)  # type: ignore[attr-defined]
                raise ValidationError(f"{at}.operator: unknown operator {op!r} (known: {known})",
                                      details=[{"field": f"{at}.operator"}]) from None
            raise ValidationError(f"{at}.{loc}: {first['msg']}",
                                  details=[{"field": f"{at}.{loc}"}]) from None
        out.append(_check(cond, at))
    return out
