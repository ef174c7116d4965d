"""`rules/*.yaml` of a pack. The fields of the rule API; StackStorm's nested
`trigger: {type, parameters}` and `action: {ref, parameters}` are accepted too."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from attune.domain.rule import RuleDef
from attune.errors import PackError, ValidationError
from attune.packs.fields import build, component_name, field
from attune.packs.yamlfile import load_mapping
from attune.rules import engine
from attune.rules.conditions import parse_conditions
from attune.sensor import schedule


def load_rule(root: Path, path: Path, pack_ref: str) -> RuleDef:
    shown = str(path.relative_to(root))
    doc = load_mapping(path, shown)
    name = component_name(doc, shown, pack_ref, path.stem)
    trigger = field(doc, "trigger", shown, dict, default={})
    action = field(doc, "action", shown, dict, default={})
    trigger_ref = field(doc, "trigger_ref", shown, str) or trigger.get("type")
    action_ref = field(doc, "action_ref", shown, str) or action.get("ref")
    if not isinstance(trigger_ref, str) or "." not in trigger_ref:
        raise PackError(f"{shown}: field 'trigger_ref' is required (a trigger ref such as "
                        "core.intervaltimer)")
    if not isinstance(action_ref, str) or "." not in action_ref:
        raise PackError(f"{shown}: field 'action_ref' is required (an action ref such as "
                        "core.echo)")
    raw_conditions = doc.get("conditions")
    conditions: Any
    try:
        if isinstance(raw_conditions, dict):
            conditions = raw_conditions
        else:
            conditions = parse_conditions(raw_conditions)
    except ValidationError as exc:
        raise PackError(f"{shown}: {exc.message}") from None
    rule = build(RuleDef, shown, {
        "ref": f"{pack_ref}.{name}", "pack_ref": pack_ref,
        "label": field(doc, "label", shown, str) or name,
        "description": field(doc, "description", shown, str, default=""),
        "enabled": field(doc, "enabled", shown, bool, default=True),
        "trigger_ref": trigger_ref, "action_ref": action_ref,
        "conditions": conditions, "condition": doc.get("condition", "all"),
        "action_params": field(doc, "action_params", shown, dict,
                               default=action.get("parameters") or {}),
        "trigger_params": field(doc, "trigger_params", shown, dict,
                                default=trigger.get("parameters") or {}),
        "tags": field(doc, "tags", shown, list, default=[]),
    })
    try:
        if rule.trigger_ref in schedule.TIMER_TRIGGERS:  # a timer: its schedule must parse
            schedule.parse(rule.trigger_ref, rule.trigger_params)
        return engine.check(rule)
    except ValidationError as exc:
        raise PackError(f"{shown}: {exc.message}") from None
