"""`policies/*.yaml` of a pack: ref/name, label, enabled, priority, the target
(`action_ref`, or `pack_ref` for every action of a pack), `concurrency: {limit, method,
parameters}` and/or `rate_limit: {max_executions, window_seconds}`."""

from __future__ import annotations

from pathlib import Path

from attune.domain.policy import PolicyDef
from attune.errors import PackError
from attune.packs.fields import build, component_name, field
from attune.packs.yamlfile import load_mapping


def load_policy(root: Path, path: Path, pack_ref: str) -> PolicyDef:
    shown = str(path.relative_to(root))
    doc = load_mapping(path, shown)
    name = component_name(doc, shown, pack_ref, path.stem)
    action_ref = field(doc, "action_ref", shown, str)
    target_pack = field(doc, "pack_ref", shown, str)
    if (action_ref is None) == (target_pack is None):
        raise PackError(f"{shown}: give exactly one of 'action_ref' (one action) or "
                        "'pack_ref' (every action of a pack)")
    return build(PolicyDef, shown, {
        "ref": f"{pack_ref}.{name}", "pack_ref": pack_ref,
        "label": field(doc, "label", shown, str) or field(doc, "name", shown, str) or name,
        "description": field(doc, "description", shown, str, default=""),
        "enabled": field(doc, "enabled", shown, bool, default=True),
        "priority": field(doc, "priority", shown, int, default=0),
        "action_ref": action_ref, "target_pack_ref": target_pack,
        "concurrency": field(doc, "concurrency", shown, dict),
        "rate_limit": field(doc, "rate_limit", shown, dict),
        "tags": field(doc, "tags", shown, list, default=[]),
    })
