"""`actions/*.yaml` of a pack."""

from __future__ import annotations

import os
from pathlib import Path

from attune.domain.action import RUNTIME_ALIASES, ActionDef
from attune.errors import PackError
from attune.packs.fields import build, component_name, field, parameters
from attune.packs.yamlfile import load_mapping


def load_action(root: Path, path: Path, pack_ref: str) -> ActionDef:
    shown = str(path.relative_to(root))
    doc = load_mapping(path, shown)
    name = component_name(doc, shown, pack_ref, path.stem)
    runner = field(doc, "runner_type", shown, str) or field(doc, "runtime", shown, str)
    if runner is None:
        raise PackError(f"{shown}: field 'runner_type' is required (shell, python, nodejs, "
                        "native)")
    runtime = RUNTIME_ALIASES.get(runner.lower())
    if runtime is None:
        known = ", ".join(sorted({*RUNTIME_ALIASES}))
        raise PackError(f"{shown}: field 'runner_type': unknown runtime {runner!r} "
                        f"(known: {known})")
    entry = field(doc, "entry_point", shown, str, required=True)
    actions_dir = (root / "actions").resolve()
    target = (actions_dir / entry).resolve()
    if os.path.isabs(entry) or not target.is_relative_to(actions_dir):
        raise PackError(f"{shown}: field 'entry_point' {entry!r} must stay inside actions/")
    if not target.is_file():
        raise PackError(f"{shown}: field 'entry_point': file actions/{entry} not found")
    timeout = doc.get("timeout_seconds", doc.get("timeout"))
    if timeout is not None and (not isinstance(timeout, int) or isinstance(timeout, bool)
                                or timeout <= 0):
        raise PackError(f"{shown}: field 'timeout_seconds' must be a positive integer")
    return build(ActionDef, shown, {
        "ref": f"{pack_ref}.{name}", "pack_ref": pack_ref, "name": name,
        "label": field(doc, "label", shown, str) or name,
        "description": field(doc, "description", shown, str, default=""),
        "enabled": field(doc, "enabled", shown, bool, default=True),
        "runtime": runtime, "entry_point": entry,
        "parameters": parameters(doc.get("parameters"), shown),
        "parameter_delivery": doc.get("parameter_delivery", "stdin"),
        "parameter_format": doc.get("parameter_format", "json"),
        "output_format": doc.get("output_format", "text"),
        "timeout_seconds": timeout,
        "tags": field(doc, "tags", shown, list, default=[]),
    })
