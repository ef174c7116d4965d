"""Array-form rule conditions, every operator, without servers."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from attune.errors import ValidationError
from attune.rules.conditions import matches, parse_conditions

NOW = datetime(2026, 6, 1, 12, 0, 0, tzinfo=UTC)
PAYLOAD = {"sev": "Critical", "count": 7, "host": "web-01.prod", "tags": ["a", "b"],
           "nested": {"list": [{"x": 1}, {"x": 2}]}, "seen": "2026-06-01T11:59:00Z",
           "none": None}


@pytest.mark.parametrize(("field", "op", "value", "expected"), [
    ("sev", "equals", "Critical", True), ("sev", "equals", "critical", False),
    ("sev", "eq", "Critical", True), ("count", "equals", "7", False),
    ("sev", "not_equals", "x", True), ("sev", "iequals", "CRITICAL", True),
    ("host", "contains", "prod", True), ("host", "icontains", "PROD", True),
    ("host", "ncontains", "dev", True), ("tags", "contains", "a", True),
    ("host", "startswith", "web", True), ("host", "istartswith", "WEB", True),
    ("host", "endswith", ".prod", True), ("host", "iendswith", ".PROD", True),
    ("count", "lt", 8, True), ("count", "gt", 8, False), ("count", "lte", 7, True),
    ("count", "gte", 7, True), ("count", "gt", "6", False),
    ("host", "matchwildcard", "web-*.prod", True), ("host", "matchwildcard", "db-*", False),
    ("host", "regex", r"web-\d+", True), ("sev", "iregex", "^crit", True),
    ("sev", "regex", "^crit", False), ("sev", "exists", None, True),
    ("none", "exists", None, False), ("missing", "nexists", None, True),
    ("sev", "in", ["Critical", "High"], True), ("sev", "nin", ["Low"], True),
    ("seen", "timediff_lt", 120, True), ("seen", "timediff_gt", 120, False),
    ("nested.list.1.x", "equals", 2, True), ("nested.list.5.x", "equals", 2, False),
    ("missing.deep", "equals", None, False),
])
def test_operator(field: str, op: str, value: Any, expected: bool) -> None:
    conds = parse_conditions([{"field": field, "operator": op, "value": value}])
    assert matches(conds, PAYLOAD, mode="all", now=NOW) is expected


def test_search_any_and_all() -> None:
    spec = [{"field": "nested.list", "operator": "search", "condition": "any",
             "value": [{"field": "item.x", "operator": "gt", "value": 1}]}]
    assert matches(parse_conditions(spec), PAYLOAD, mode="all", now=NOW)
    spec[0]["condition"] = "all"
    assert not matches(parse_conditions(spec), PAYLOAD, mode="all", now=NOW)


def test_all_and_any_modes_and_empty() -> None:
    conds = parse_conditions([{"field": "count", "operator": "gt", "value": 100},
                              {"field": "sev", "operator": "exists"}])
    assert not matches(conds, PAYLOAD, mode="all", now=NOW)
    assert matches(conds, PAYLOAD, mode="any", now=NOW)
    assert matches([], PAYLOAD, mode="all", now=NOW)
    assert parse_conditions(None) == []


@pytest.mark.parametrize(("raw", "message"), [
    ({"field": "x"}, "conditions: must be a list"),
    (["x"], r"conditions\[0\]: must be an object"),
    ([{"field": "x", "operator": "resembles"}], r"conditions\[0\]\.operator: unknown operator"),
    ([{"field": "x", "operator": "regex", "value": "("}], "invalid regular expression"),
    ([{"field": "x", "operator": "regex", "value": "a" * 2000}], "at most 1000"),
    ([{"field": "x", "operator": "in", "value": 3}], "needs a list"),
    ([{"field": "x", "operator": "timediff_lt", "value": "soon"}], "number of seconds"),
    ([{"field": "x", "operator": "search", "value": []}], "non-empty list"),
    ([{"field": "", "operator": "equals"}], r"conditions\[0\]\.field"),
    ([{"field": "x", "operator": "equals", "extra": 1}], r"conditions\[0\]\.extra"),
])
def test_bad_conditions_are_refused_precisely(raw: Any, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        parse_conditions(raw)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner,
                                                                 max_size=4), max_leaves=12)
OPS = ["equals", "iequals", "contains", "icontains", "ncontains", "startswith", "lt", "gte",
       "matchwildcard", "in", "nin", "exists", "timediff_gt"]


@given(payload=json_values, value=json_values, op=st.sampled_from(OPS),
       field=st.text(min_size=1, max_size=12))
def test_matching_never_crashes(payload: Any, value: Any, op: str, field: str) -> None:
    try:
        conds = parse_conditions([{"field": field, "operator": op, "value": value}])
    except ValidationError:
        return
    assert matches(conds, payload, mode="all", now=NOW) in (True, False)


def test_catastrophic_regex_stays_fast() -> None:
    conds = parse_conditions([{"field": "s", "operator": "regex", "value": "(a+)+$"}])
    assert not matches(conds, {"s": "a" * 5000 + "b"}, mode="all", now=NOW)


def test_contains_on_an_object_with_an_unhashable_value() -> None:
    conds = parse_conditions([{"field": "0", "operator": "contains", "value": []}])
    assert not matches(conds, [{}], mode="all", now=NOW)
