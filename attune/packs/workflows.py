"""Workflow actions of a pack: `actions/<name>.yaml` with `workflow_file:` (the graph in
`actions/workflows/<name>.workflow.yaml`), and standalone `workflows/*.yaml` at the
pack's root (the action is named after the file, or the document's `name`).

Either becomes an ordinary `ActionDef` whose `workflow` holds the canonical model
(`attune.workflow.WorkflowDef` as JSON): the executor runs its conductor instead of a
worker. Definitions that cannot run are refused with every problem named by task and
field; actions of other packs are not known here, so they are checked when the
workflow is validated through the API (`POST /packs/{ref}/workflows/validate`).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from attune.domain.action import ActionDef
from attune.errors import PackError
from attune.packs.fields import build, component_name, field
from attune.packs.yamlfile import load_mapping
from attune.workflow import (
    WorkflowDef,
    WorkflowDefinitionError,
    parse_action_workflow,
    parse_workflow,
    validate_workflow,
)

#: Workflow actions run in the executor; `runtime` only says no worker takes them.
WORKFLOW_RUNTIME = "native"
WORKFLOW_ENTRY_POINT = "workflow"
#: A workflow runs as long as its tasks take: a day unless it says otherwise (the
#: executions' default, minutes, would stop most real ones half-way).
DEFAULT_WORKFLOW_TIMEOUT_SECONDS = 86_400


def is_workflow_action(doc: Mapping[str, Any]) -> bool:
    return doc.get("workflow_file") is not None


def load_workflow_action(root: Path, path: Path, pack_ref: str,
                         doc: dict[str, Any]) -> ActionDef:
    """`actions/<name>.yaml` with `workflow_file` (relative to `actions/`)."""
    shown = str(path.relative_to(root))
    name = component_name(doc, shown, pack_ref, path.stem)
    actions_dir = (root / "actions").resolve()

    def load(relative: str) -> Mapping[str, Any]:
        target = (actions_dir / relative).resolve()
        if os.path.isabs(relative) or not target.is_relative_to(actions_dir):
            raise PackError(f"{shown}: field 'workflow_file' {relative!r} must stay inside "
                            "actions/")
        if not target.is_file():
            raise PackError(f"{shown}: field 'workflow_file': file actions/{relative} "
                            "not found")
        return load_mapping(target, f"actions/{relative}")

    try:
        definition = parse_action_workflow({**doc, "name": name}, pack_ref=pack_ref,
                                           load=load)
    except WorkflowDefinitionError as exc:
        raise PackError(f"{shown}: {_problems(exc)}") from None
    return workflow_action(definition, pack_ref=pack_ref, name=name, shown=shown, doc=doc)


def load_standalone_workflow(root: Path, path: Path, pack_ref: str) -> ActionDef:
    """`workflows/<name>.yaml`: a workflow document that is an action of its own."""
    shown = str(path.relative_to(root))
    doc = load_mapping(path, shown)
    stem = path.name.split(".")[0]
    name = component_name(doc, shown, pack_ref, stem)
    body = {k: v for k, v in doc.items() if k not in ("name", "ref", "pack", "enabled",
                                                          "timeout_seconds", "tags")}
    try:
        definition = parse_workflow(body, ref=f"{pack_ref}.{name}")
    except WorkflowDefinitionError as exc:
        raise PackError(f"{shown}: {_problems(exc)}") from None
    return workflow_action(definition, pack_ref=pack_ref, name=name, shown=shown, doc=doc)


def workflow_action(definition: WorkflowDef, *, pack_ref: str, name: str, shown: str,
                    doc: Mapping[str, Any] | None = None) -> ActionDef:
    """The action that runs `definition`; refused (PackError) when it cannot run."""
    report = validate_workflow(definition)
    if report.errors:
        shown_problems = "; ".join(str(p) for p in report.errors[:10])
        raise PackError(f"{shown}: invalid workflow: {shown_problems}")
    raw = dict(doc or {})
    timeout = raw.get("timeout_seconds", raw.get("timeout"))
    if timeout is not None and (not isinstance(timeout, int) or isinstance(timeout, bool)
                                or timeout <= 0):
        raise PackError(f"{shown}: field 'timeout_seconds' must be a positive integer")
    return build(ActionDef, shown, {
        "ref": f"{pack_ref}.{name}", "pack_ref": pack_ref, "name": name,
        "label": definition.label or name, "description": definition.description,
        "enabled": field(raw, "enabled", shown, bool, default=True),
        "runtime": WORKFLOW_RUNTIME, "entry_point": WORKFLOW_ENTRY_POINT,
        "parameters": definition.parameters,
        "timeout_seconds": timeout or DEFAULT_WORKFLOW_TIMEOUT_SECONDS,
        "tags": list(definition.tags) or field(raw, "tags", shown, list, default=[]),
        "workflow": definition.model_dump(mode="json"),
    })


def _problems(exc: WorkflowDefinitionError) -> str:
    details = exc.details if isinstance(exc.details, list) else []
    if not details:
        return exc.message
    return "; ".join(f"{d['field']}: {d['message']}" if d.get("field") else d["message"]
                     for d in details[:10])
