"""Rendering parameters for an action's stdin or parameter file (json | dotenv | yaml)."""

from __future__ import annotations

from typing import Any

import orjson
import yaml

from attune.domain.action import ParameterFormat


def _dotenv_value(value: Any) -> str:
    """Double-quoted, with backslash escapes a POSIX `printf '%b'` turns back."""
    text = value if isinstance(value, str) else orjson.dumps(value).decode()
    out = []
    for ch in text:
        if ch == "\\":
            out.append("\\\\")
        elif ch == "\n":
            out.append("\\n")
        elif ord(ch) < 32:
            out.append(f"\\0{ord(ch):03o}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def render(parameters: dict[str, Any], fmt: ParameterFormat) -> bytes:
    match fmt:
        case "json":
            return orjson.dumps(parameters) + b"\n"
        case "yaml":
            return yaml.safe_dump(parameters, sort_keys=True).encode()
        case "dotenv":
            lines = [f"{k}={_dotenv_value(v)}" for k, v in sorted(parameters.items())
                     if v is not None]
            return ("\n".join(lines) + "\n").encode() if lines else b""
