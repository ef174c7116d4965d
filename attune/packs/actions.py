"""`actions/*.yaml` of a pack."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from attune.domain.action import RUNTIME_ALIASES, ActionDef
from attune.domain.runtime import RuntimeDef
from attune.domain.versions import ConstraintError, parse_constraint
from attune.errors import PackError
from attune.packs.fields import build, component_name, field, parameters
from attune.packs.workflows import is_workflow_action, load_workflow_action
from attune.packs.yamlfile import load_mapping

#: What runtimes handled inside the worker (no process) offer as entry points.
BUILTIN_ENTRY_POINTS = {"http": ("http_request",)}


def load_action(root: Path, path: Path, pack_ref: str,
                runtimes: Sequence[RuntimeDef] = ()) -> ActionDef:
    """`runtimes` are the pack's own (`runtimes/*.yaml`): a `runner_type` naming one of
    them (by name, ref or alias) runs with it; otherwise a core runtime alias is expected."""
    shown = str(path.relative_to(root))
    doc = load_mapping(path, shown)
    if is_workflow_action(doc):  # workflow actions: attune/packs/workflows.py
        return load_workflow_action(root, path, pack_ref, doc)
    name = component_name(doc, shown, pack_ref, path.stem)
    runner = field(doc, "runner_type", shown, str) or field(doc, "runtime", shown, str)
    if runner is None:
        raise PackError(f"{shown}: field 'runner_type' is required (shell, python, nodejs, "
                        "native)")
    own = next((r for r in runtimes if r.answers_to(runner)), None)
    runtime = own.family if own else RUNTIME_ALIASES.get(runner.lower())
    if runtime is None:
        known = ", ".join(sorted({*RUNTIME_ALIASES, *(r.name for r in runtimes)}))
        raise PackError(f"{shown}: field 'runner_type': unknown runtime {runner!r} "
                        f"(known: {known})")
    version = doc.get("runtime_version", doc.get("runtime_version_constraint"))
    if version is not None:
        try:
            parse_constraint(str(version))
        except ConstraintError as exc:
            raise PackError(f"{shown}: field 'runtime_version': {exc}") from None
        version = str(version)
    entry = field(doc, "entry_point", shown, str, required=True)
    builtin = BUILTIN_ENTRY_POINTS.get(runtime)
    if builtin is not None and entry not in builtin:
        raise PackError(f"{shown}: field 'entry_point': runtime {runner!r} runs "
                        f"{', '.join(builtin)}, not {entry!r}")
    actions_dir = (root / "actions").resolve()
    target = (actions_dir / entry).resolve()
    if os.path.isabs(entry) or not target.is_relative_to(actions_dir):
        raise PackError(f"{shown}: field 'entry_point' {entry!r} must stay inside actions/")
    if builtin is None and not target.is_file():
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
        "runtime": runtime, "runtime_ref": own.ref if own else None,
        "runtime_version": version, "entry_point": entry,
        "parameters": parameters(doc.get("parameters"), shown),
        "parameter_delivery": doc.get("parameter_delivery", "stdin"),
        "parameter_format": doc.get("parameter_format", "json"),
        "output_format": doc.get("output_format", "text"),
        "timeout_seconds": timeout,
        "tags": field(doc, "tags", shown, list, default=[]),
        "placement": doc.get("placement") or None,
        "permission_sets": field(doc, "permission_sets", shown, list, default=[]),
    })
