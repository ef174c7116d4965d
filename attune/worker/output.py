"""Turning captured stdout into a result per the action's `output_format`."""

from __future__ import annotations

from typing import Any

import orjson
import yaml

from attune.domain.action import OutputFormat


def parse(stdout: str, fmt: OutputFormat) -> Any:
    """Best-effort: unparseable output yields None (the raw text stays in stdout)."""
    match fmt:
        case "text":
            return None
        case "json":
            lines = [ln for ln in stdout.splitlines() if ln.strip()]
            if not lines:
                return None
            try:
                return orjson.loads(lines[-1])
            except orjson.JSONDecodeError:
                return None
        case "yaml":
            try:
                return yaml.safe_load(stdout)
            except yaml.YAMLError:
                return None
        case "jsonl":
            items = []
            for line in stdout.splitlines():
                try:
                    items.append(orjson.loads(line))
                except orjson.JSONDecodeError:
                    continue
            return items
