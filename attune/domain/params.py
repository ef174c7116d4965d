"""The flat parameter schema of actions (StackStorm style) and its validation.

    parameters:
      message: {type: string, required: true, description: "..."}
      token:   {type: string, secret: true}

Validation is strict: no implicit coercion (`"3"` is not an integer), unknown
parameters are refused, every problem is reported at once with its field.
"""

from __future__ import annotations

import math
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from attune.errors import ValidationError

ParamType = Literal["string", "integer", "number", "boolean", "array", "object", "any"]


class ParamSpec(BaseModel):
    # pack files may say minLength (JSON Schema) or min_length; stored by field name
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    type: ParamType = "string"
    description: str | None = None
    required: bool = False
    secret: bool = False
    default: Any = None
    enum: list[Any] | None = None
    minimum: float | None = None
    maximum: float | None = None
    min_length: int | None = Field(default=None, alias="minLength")
    max_length: int | None = Field(default=None, alias="maxLength")
    items: dict[str, Any] | None = None
    position: int | None = None


ParamSchema = dict[str, ParamSpec]


def _type_ok(kind: ParamType, value: Any) -> bool:
    match kind:
        case "string":
            return isinstance(value, str)
        case "integer":
            return isinstance(value, int) and not isinstance(value, bool)
        case "number":
            return (isinstance(value, int | float) and not isinstance(value, bool)
                    and math.isfinite(value))
        case "boolean":
            return isinstance(value, bool)
        case "array":
            return isinstance(value, list)
        case "object":
            return isinstance(value, dict)
        case "any":
            return True


def _problems(name: str, spec: ParamSpec, value: Any) -> list[str]:
    if value is None:
        return [f"{name}: is required"] if spec.required else []
    if not _type_ok(spec.type, value):
        return [f"{name}: expected {spec.type}, got {type(value).__name__}"]
    found: list[str] = []
    if spec.enum is not None and value not in spec.enum:
        found.append(f"{name}: must be one of {spec.enum!r}")
    if isinstance(value, int | float) and not isinstance(value, bool):
        if spec.minimum is not None and value < spec.minimum:
            found.append(f"{name}: must be >= {spec.minimum:g}")
        if spec.maximum is not None and value > spec.maximum:
            found.append(f"{name}: must be <= {spec.maximum:g}")
    if isinstance(value, str):
        if spec.min_length is not None and len(value) < spec.min_length:
            found.append(f"{name}: must be at least {spec.min_length} characters")
        if spec.max_length is not None and len(value) > spec.max_length:
            found.append(f"{name}: must be at most {spec.max_length} characters")
    return found


def validate_parameters(schema: ParamSchema, given: dict[str, Any]) -> dict[str, Any]:
    """Return the parameters with defaults filled in, or raise one ValidationError
    whose `details` lists every bad field as `{"field", "message"}`."""
    problems: list[tuple[str, str]] = []
    for name in given:
        if name not in schema:
            known = ", ".join(sorted(schema)) or "none"
            problems.append((name, f"{name}: unknown parameter (known: {known})"))
    resolved: dict[str, Any] = {}
    for name, spec in schema.items():
        value = given.get(name, spec.default)
        problems.extend((name, msg) for msg in _problems(name, spec, value))
        if value is not None:
            resolved[name] = value
    if problems:
        raise ValidationError(
            "invalid parameters: " + "; ".join(msg for _, msg in problems),
            details=[{"field": f, "message": m} for f, m in problems],
        )
    return resolved


def secret_names(schema: ParamSchema) -> frozenset[str]:
    return frozenset(name for name, spec in schema.items() if spec.secret)
