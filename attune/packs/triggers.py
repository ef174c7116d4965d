"""`triggers/*.yaml` of a pack: ref/name, label, description, parameters (what a rule
passes to the trigger's sensor) and output (the payload's shape), both flat schemas."""

from __future__ import annotations

from pathlib import Path

from attune.domain.trigger import TriggerDef
from attune.packs.fields import build, component_name, field, parameters
from attune.packs.yamlfile import load_mapping


def load_trigger(root: Path, path: Path, pack_ref: str) -> TriggerDef:
    shown = str(path.relative_to(root))
    doc = load_mapping(path, shown)
    name = component_name(doc, shown, pack_ref, path.stem)
    out_key = "output" if "output" in doc else "out_schema"
    param_key = "parameters" if "parameters" in doc else "param_schema"
    return build(TriggerDef, shown, {
        "ref": f"{pack_ref}.{name}", "pack_ref": pack_ref,
        "label": field(doc, "label", shown, str) or name,
        "description": field(doc, "description", shown, str, default=""),
        "enabled": field(doc, "enabled", shown, bool, default=True),
        "param_schema": parameters(doc.get(param_key), shown, param_key),
        "out_schema": parameters(doc.get(out_key), shown, out_key),
        "tags": field(doc, "tags", shown, list, default=[]),
    })
