"""Rules defined through the API: everything a rule could get wrong is refused when it
is created or changed — with a message naming the field — never discovered later as
a silent non-match:

- its trigger and its action exist (404 naming which),
- conditions in the array form parse (`attune.rules.conditions.parse_conditions`) or
  are one `{"expression": "{{ ... }}"}`,
- conditions and `action_params` templates compile (`attune.rules.engine.check`),
- `trigger_params` fit the trigger's `param_schema`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from attune.app import components, triggers
from attune.app.context import Context
from attune.domain.params import validate_parameters
from attune.domain.rule import RULE, ExpressionCondition, RuleDef
from attune.errors import NotFoundError, ValidationError
from attune.eventstore.envelope import Meta
from attune.rules import engine
from attune.rules.conditions import Condition, parse_conditions
from attune.sensor import schedule

EXPRESSION_HINT = ('conditions: an object must be {"expression": "{{ ... }}"}, e.g. '
                   '{"expression": "{{ event.payload.severity == \'critical\' }}"}; the '
                   'array form is a list of {field, operator, value}')


def conditions_of(raw: Any) -> list[Condition] | ExpressionCondition:
    """Either form of conditions, checked; none (null, {} or []) always matches."""
    if raw is None or raw == {} or raw == []:
        return []
    if isinstance(raw, dict):
        expression = raw.get("expression")
        if set(raw) != {"expression"} or not isinstance(expression, str) or not expression:
            raise ValidationError(EXPRESSION_HINT,
                                  details=[{"field": "conditions", "message": EXPRESSION_HINT}])
        return ExpressionCondition(expression=expression)
    return parse_conditions(raw)


def _parsed(values: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(values)
    if "conditions" in out:
        out["conditions"] = conditions_of(out["conditions"])
    return out


async def check(ctx: Context, rule: RuleDef) -> RuleDef:
    engine.check(rule)
    if rule.trigger_ref in schedule.TIMER_TRIGGERS:  # a timer: its schedule must parse
        _schedule_parses(rule)
    if await ctx.pool.fetchval("SELECT 1 FROM actions WHERE ref = $1", rule.action_ref) is None:
        raise NotFoundError(f"action_ref: action {rule.action_ref!r} not found: GET "
                            "/api/v1/actions lists the actions",
                            details=[{"field": "action_ref", "message": "not found"}])
    try:
        trigger = await triggers.definition(ctx, rule.trigger_ref)
    except NotFoundError as exc:
        raise NotFoundError(f"trigger_ref: {exc.message}",
                            details=[{"field": "trigger_ref", "message": "not found"}]) from None
    try:
        validate_parameters(trigger.param_schema, rule.trigger_params)
    except ValidationError as exc:
        details = [{"field": f"trigger_params.{d['field']}", "message": d["message"]}
                   for d in exc.details or []]
        problems = "; ".join(d["message"] for d in exc.details or [])
        raise ValidationError(f"trigger_params: do not fit the parameters of trigger "
                              f"{trigger.ref!r}: {problems}", details=details) from None
    return rule


def _schedule_parses(rule: RuleDef) -> None:
    try:
        schedule.parse(rule.trigger_ref, rule.trigger_params)
    except ValidationError as exc:
        details = [{"field": f"trigger_params.{d['field']}", "message": d["message"]}
                   for d in exc.details or []]
        raise ValidationError(f"trigger_params: {exc.message}",
                              details=details or [{"field": "trigger_params",
                                                   "message": exc.message}]) from None


async def create(ctx: Context, values: Mapping[str, Any], *, meta: Meta) -> int:
    """`values` are the fields of RuleDef but pack_ref, which the ref gives."""
    ref = str(values["ref"])
    pack_ref = await components.pack_of(ctx, RULE, ref)
    fields = {"label": ref.partition(".")[2], **_parsed(values), "pack_ref": pack_ref}
    rule = await check(ctx, components.build(RuleDef, fields))
    return await components.create(ctx, RULE, rule, meta=meta)


async def update(ctx: Context, ref: str, changes: Mapping[str, Any], *, meta: Meta) -> int:
    async def checked(rule: RuleDef) -> RuleDef:
        return await check(ctx, rule)
    return await components.update(ctx, RULE, ref, _parsed(changes), checked, meta=meta)


async def delete(ctx: Context, ref: str, *, meta: Meta) -> int:
    return await components.delete(ctx, RULE, ref, meta=meta)


async def set_enabled(ctx: Context, ref: str, enabled: bool, *, meta: Meta) -> int:
    return await components.set_enabled(ctx, RULE, ref, enabled, meta=meta)
