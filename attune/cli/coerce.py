"""Parameters typed on the command line (`key=value`) turned into JSON values with
the types the action's schema declares.

Only the conversion from text happens here; whether the values are acceptable
(required, enum, ranges, unknown names) is decided by the API, which reports every
problem at once.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from typing import Any

from attune.cli.output import CliError

_TRUE = frozenset({"true", "yes", "y", "on", "1"})
_FALSE = frozenset({"false", "no", "n", "off", "0"})


def parse_params_json(text: str | None) -> dict[str, Any]:
    if not text:
        return {}
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise CliError(f"--params-json is not valid JSON: {exc}") from None
    if not isinstance(value, dict):
        raise CliError("--params-json must be a JSON object, like "
                       "'{\"message\": \"hi\"}'")
    return value


def split_assignments(pairs: Iterable[str]) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            raise CliError(f"{pair!r} is not a parameter: write NAME=VALUE, "
                           "like message=hi")
        found.append((name.strip(), value))
    return found


def coerce(name: str, text: str, spec: Mapping[str, Any] | None) -> Any:
    """`text` as the type `spec` declares (text for unknown names: the API reports them)."""
    kind = str(spec.get("type", "string")) if spec else "string"
    match kind:
        case "integer":
            try:
                return int(text.strip(), 10)
            except ValueError:
                raise _bad(name, kind, text, "a whole number like 3") from None
        case "number":
            try:
                return int(text.strip(), 10)  # an integer is a number too; keep it exact
            except ValueError:
                pass
            try:
                number = float(text)
            except ValueError:
                raise _bad(name, kind, text, "a number like 1.5") from None
            if not math.isfinite(number):
                raise _bad(name, kind, text, "a finite number")
            return number
        case "boolean":
            lowered = text.strip().lower()
            if lowered in _TRUE:
                return True
            if lowered in _FALSE:
                return False
            raise _bad(name, kind, text, "true or false")
        case "array" | "object":
            return _json(name, kind, text)
        case "any":
            try:
                return json.loads(text)
            except ValueError:
                return text  # plain words stay text
        case _:
            return text


def _json(name: str, kind: str, text: str) -> Any:
    example = '["a", "b"]' if kind == "array" else '{"key": "value"}'
    try:
        value = json.loads(text)
    except ValueError:
        raise _bad(name, kind, text, f"JSON like '{example}'") from None
    if not isinstance(value, list if kind == "array" else dict):
        raise _bad(name, kind, text, f"JSON like '{example}'")
    return value


def _bad(name: str, kind: str, text: str, wanted: str) -> CliError:
    return CliError(f"parameter {name!r} is of type {kind}: {text!r} is not {wanted}")


def build_parameters(pairs: Iterable[str], params_json: str | None,
                     schema: Mapping[str, Any]) -> dict[str, Any]:
    """--params-json first, then each NAME=VALUE over it."""
    parameters = parse_params_json(params_json)
    for name, text in split_assignments(pairs):
        spec = schema.get(name)
        parameters[name] = coerce(name, text, spec if isinstance(spec, Mapping) else None)
    return parameters
