"""Reading fields of pack YAML documents, each error naming the file and the field."""

from __future__ import annotations

import re
from typing import Any, TypeVar

from pydantic import BaseModel
from pydantic import ValidationError as PydanticValidationError

from attune.domain.params import ParamSpec
from attune.errors import PackError

NAME = re.compile(r"^[a-z][a-z0-9_-]*$")
M = TypeVar("M", bound=BaseModel)


def field(doc: dict[str, Any], key: str, shown: str, kind: type, *, required: bool = False,
           default: Any = None) -> Any:
    if key not in doc or doc[key] is None:
        if required:
            raise PackError(f"{shown}: field '{key}' is required")
        return default
    value = doc[key]
    # bool is an int subclass: `true` is no integer here
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
        raise PackError(f"{shown}: field '{key}' must be {kind.__name__}, got "
                        f"{type(value).__name__}")
    return value


def parameters(raw: Any, shown: str, key: str = "parameters") -> dict[str, ParamSpec]:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise PackError(f"{shown}: field '{key}' must be a mapping of name -> schema")
    # Older packs use JSON Schema: {type: object, properties: {...}, required: [...]}
    if raw.get("type") == "object" and isinstance(raw.get("properties"), dict):
        required = set(raw.get("required") or [])
        raw = {k: {**v, "required": k in required} if isinstance(v, dict) else v
               for k, v in raw["properties"].items()}
    out: dict[str, ParamSpec] = {}
    for name, spec in raw.items():
        if not isinstance(name, str) or not name.isidentifier():
            raise PackError(f"{shown}: {key}.{name}: name must be an identifier")
        if not isinstance(spec, dict):
            raise PackError(f"{shown}: {key}.{name}: must be a mapping (type, required, ...)")
        try:
            out[name] = ParamSpec.model_validate(spec)
        except PydanticValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            raise PackError(f"{shown}: {key}.{name}.{where}: {first['msg']}") from None
    return out




def component_name(doc: dict[str, Any], shown: str, pack_ref: str, default: str) -> str:
    """The short name of a component from `name` or a pack-qualified `ref`."""
    name = field(doc, "name", shown, str)
    ref = field(doc, "ref", shown, str)
    if ref and "." in ref:
        prefix, _, short = ref.partition(".")
        if prefix != pack_ref:
            raise PackError(f"{shown}: field 'ref' {ref!r} must start with the pack ref "
                            f"'{pack_ref}.'")
        name = name or short
    name = name or ref or default
    if not NAME.match(name):
        raise PackError(f"{shown}: field 'name' {name!r} must match [a-z][a-z0-9_-]*")
    return name


def build(model: type[M], shown: str, values: dict[str, Any]) -> M:
    """Validate `values` as `model`; the first problem becomes a PackError naming the field."""
    try:
        return model.model_validate(values)
    except PydanticValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise PackError(f"{shown}: field '{where}': {first['msg']}") from None
