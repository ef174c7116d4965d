"""The rules a sensor serves, and the messages that change them.

A managed sensor learns its rules twice: at start from `ATTUNE_SENSOR_TRIGGERS` (a JSON
array `[{id, ref, trigger_ref, config, active?}]`) and then live from the notifier's
`rule_lifecycle_changed` payloads (`{event_type: rule.created|enabled|disabled|deleted|
updated, rule_id, rule_ref, trigger_ref, trigger_params, active}`). Both become a
`RuleChange` here; `Sensor` applies them and calls its hooks.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Literal

ChangeKind = Literal["created", "enabled", "disabled", "deleted", "updated"]

_KINDS: dict[str, ChangeKind] = {
    "rule.created": "created", "rulecreated": "created",
    "rule.enabled": "enabled", "ruleenabled": "enabled",
    "rule.disabled": "disabled", "ruledisabled": "disabled",
    "rule.deleted": "deleted", "ruledeleted": "deleted",
    "rule.updated": "updated", "ruleupdated": "updated",
}


@dataclass
class RuleState:
    """One rule the sensor serves: its `trigger_params` are the per-rule configuration."""

    rule_id: int
    rule_ref: str
    trigger_ref: str = ""
    trigger_params: dict[str, Any] = field(default_factory=dict)
    enabled: bool = True


@dataclass(frozen=True)
class RuleChange:
    kind: ChangeKind
    rule: RuleState
    #: Whether the message said the rule is active (None: it did not say).
    active: bool | None = None


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _params(value: Any) -> dict[str, Any]:
    return dict(value) if isinstance(value, dict) else {}


def _flag(message: dict[str, Any]) -> bool | None:
    for key in ("active", "enabled"):
        if isinstance(message.get(key), bool):
            return bool(message[key])
    return None


def parse_rule_message(message: dict[str, Any]) -> RuleChange | None:
    """A lifecycle message as a change; None for anything that is not one (unknown
    `event_type`, no usable `rule_id`)."""
    kind = _KINDS.get(str(message.get("event_type", "")).lower())
    rule_id = _int(message.get("rule_id"))
    if kind is None or rule_id is None:
        return None
    active = _flag(message)
    trigger_ref = message.get("trigger_ref") or message.get("trigger_type") or ""
    rule = RuleState(rule_id=rule_id, rule_ref=str(message.get("rule_ref") or f"rule_{rule_id}"),
                     trigger_ref=str(trigger_ref),
                     trigger_params=_params(message.get("trigger_params")),
                     enabled=True if active is None else active)
    return RuleChange(kind, rule, active)


def parse_bootstrap(raw: str | None) -> list[RuleState]:
    """`ATTUNE_SENSOR_TRIGGERS`: anything but a JSON array counts as empty; items that are
    not objects or have no id are skipped."""
    try:
        items = json.loads(raw or "[]")
    except ValueError:
        return []
    if not isinstance(items, list):
        return []
    rules: list[RuleState] = []
    for item in items:
        if not isinstance(item, dict):
            continue
        rule_id = _int(item.get("id", item.get("rule_id")))
        if rule_id is None:
            continue
        active = item.get("active", item.get("enabled", True))
        rules.append(RuleState(
            rule_id=rule_id, rule_ref=str(item.get("ref") or item.get("rule_ref")
                                          or f"rule_{rule_id}"),
            trigger_ref=str(item.get("trigger_ref") or ""),
            trigger_params=_params(item.get("config", item.get("trigger_params"))),
            enabled=active if isinstance(active, bool) else True))
    return rules


def parse_trigger_types(raw: str | None) -> list[str]:
    """`ATTUNE_SENSOR_TRIGGER_TYPES`: a JSON array of refs or `a.b,c.d`; sorted, unique."""
    text = (raw or "").strip()
    if not text:
        return []
    refs: list[Any]
    try:
        parsed = json.loads(text)
        refs = parsed if isinstance(parsed, list) else [parsed]
    except ValueError:
        refs = text.split(",")
    return sorted({str(ref).strip() for ref in refs if str(ref).strip()})
