"""Turning captured stdout into a result per the action's `output_format`:
text (no data), json (the last non-empty stdout line), yaml (all of stdout),
jsonl (one value per line; lines that are not JSON are skipped)."""

from __future__ import annotations

from typing import Any

import orjson
import yaml

import attune.log as log
from attune.domain.action import OutputFormat

#: Parsed data kept in the outcome event at most (the event stream takes 1 MiB messages,
#: and the event also carries the beginning of stdout and stderr).
DATA_CAP = 256 * 1024

_log = log.get("output")


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


def fit(data: Any) -> Any:
    """`data`, or None when it is too large for the outcome event (the output itself
    stays readable in the execution's logs)."""
    if data is None:
        return None
    try:
        size = len(orjson.dumps(data, option=orjson.OPT_NON_STR_KEYS))
    except TypeError:  # yaml may yield values JSON cannot hold (dates are fine)
        return None
    if size > DATA_CAP:
        _log.warning("output.data_dropped", bytes=size, cap=DATA_CAP)
        return None
    return data
