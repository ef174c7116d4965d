"""Input documents of `create` commands: a YAML or JSON file (YAML reads both), and
JSON given inline to an option — each error saying which file or option is wrong."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from attune.cli.output import CliError


def load_document(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text()
    except OSError as exc:
        raise CliError(f"cannot read {path}: {exc.strerror or exc}") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise CliError(f"{path} is not valid YAML or JSON: {exc}") from None
    if not isinstance(data, dict):
        raise CliError(f"{path} must hold a mapping of fields (like the API's request body)")
    return data


def json_option(text: str | None, option: str, *, kind: type = dict) -> Any:
    """The JSON value of `option` (None when not given), of type `kind`."""
    if text is None:
        return None
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise CliError(f"{option} is not valid JSON: {exc}") from None
    if not isinstance(value, kind):
        shape = "an object, like '{\"key\": \"value\"}'" if kind is dict else "a JSON array"
        raise CliError(f"{option} must be {shape}")
    return value


def json_value(text: str, option: str) -> Any:
    """Any JSON value of `option` (objects and arrays alike)."""
    try:
        return json.loads(text)
    except ValueError as exc:
        raise CliError(f"{option} is not valid JSON: {exc}") from None
