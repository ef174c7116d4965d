"""Flat parameter schema validation, without servers."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from attune.domain.params import ParamSpec, secret_names, validate_parameters
from attune.errors import ValidationError

SCHEMA = {
    "message": ParamSpec(type="string", required=True),
    "count": ParamSpec(type="integer", default=1, minimum=0, maximum=10),
    "ratio": ParamSpec(type="number"),
    "flag": ParamSpec(type="boolean", default=False),
    "mode": ParamSpec(type="string", enum=["a", "b"]),
    "items": ParamSpec(type="array"),
    "token": ParamSpec(type="string", secret=True),
}


def test_defaults_fill_in() -> None:
    assert validate_parameters(SCHEMA, {"message": "hi"}) == {
        "message": "hi", "count": 1, "flag": False}


def test_every_problem_is_reported_with_its_field() -> None:
    with pytest.raises(ValidationError) as info:
        validate_parameters(SCHEMA, {"count": "3", "flag": 1, "mode": "c", "bogus": 1,
                                     "ratio": True})
    fields = {d["field"] for d in info.value.details}
    assert fields == {"message", "count", "flag", "mode", "bogus", "ratio"}
    assert "expected integer, got str" in info.value.message
    assert "unknown parameter" in info.value.message


def test_no_implicit_coercion_and_bounds() -> None:
    with pytest.raises(ValidationError, match="count: expected integer"):
        validate_parameters(SCHEMA, {"message": "x", "count": 2.0})
    with pytest.raises(ValidationError, match="count: must be <= 10"):
        validate_parameters(SCHEMA, {"message": "x", "count": 11})
    assert validate_parameters(SCHEMA, {"message": "x", "ratio": 3})["ratio"] == 3


def test_secret_names() -> None:
    assert secret_names(SCHEMA) == {"token"}


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda inner: st.lists(inner) | st.dictionaries(st.text(), inner), max_leaves=10)


@given(st.dictionaries(st.text(max_size=8), json_values, max_size=6))
def test_any_input_is_accepted_or_refused_cleanly(given_params: dict[str, Any]) -> None:
    try:
        out = validate_parameters(SCHEMA, given_params)
    except ValidationError as exc:
        assert exc.details and all("field" in d for d in exc.details)
    else:
        assert set(out) <= set(SCHEMA)
        assert isinstance(out["message"], str)
