"""Evaluating a rule against an event — pure: the time, the pack config and the event
are passed in. Used by the executor's enforcer and by `attune rule test`.

Rule templates see four namespaces:

    event     {id, trigger, trigger_ref, payload, created}
    pack      {config: {...}}          the rule's pack configuration
    system    {timestamp, rule: {ref}}
    keystore  {<key ref>: value}       keys (secrets), looked up when a template asks

A key's value rendered into an action parameter is sealed before it is recorded only
when that parameter is `secret: true` — pass secrets to secret parameters.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from attune.domain.rule import ExpressionCondition, RuleDef
from attune.errors import ValidationError
from attune.expr import Context, ExprError, ExprSyntaxError, compile_template, render_value, truthy
from attune.expr.lazy import LazyNamespace, Lookup
from attune.rules.conditions import matches

NO_FUNCTIONS: tuple[str, ...] = ()  # workflow functions (result(), ...) make no sense here


@dataclass(frozen=True)
class EventView:
    id: int
    trigger_ref: str
    payload: dict[str, Any]
    created: datetime


@dataclass(frozen=True)
class Decision:
    rule_ref: str
    matched: bool
    #: Rendered action parameters when matched.
    params: dict[str, Any] | None = None
    #: Why the conditions could not be evaluated (then not matched), or why the
    #: parameters of a match could not be rendered (then matched, params None).
    error: str | None = None


def context(event: EventView, *, pack_config: dict[str, Any], rule_ref: str, now: datetime,
            keystore: Lookup | None = None) -> Context:
    return Context({
        "event": {"id": event.id, "trigger": event.trigger_ref, "trigger_ref": event.trigger_ref,
                  "payload": event.payload, "created": event.created.isoformat()},
        "pack": {"config": pack_config},
        "system": {"timestamp": now.isoformat(), "rule": {"ref": rule_ref}},
        "keystore": LazyNamespace(keystore),
    }, lenient=True)


def uses_keystore(rule: RuleDef) -> bool:
    """Whether the rule's templates read the `keystore` (so keys must be at hand)."""
    return "keystore" in repr(rule.action_params) or (
        isinstance(rule.conditions, ExpressionCondition)
        and "keystore" in rule.conditions.expression)


def evaluate(rule: RuleDef, event: EventView, *, pack_config: dict[str, Any], now: datetime,
             keystore: Lookup | None = None) -> Decision:
    """Whether `rule` matches `event`, and the action parameters it renders."""
    # the template scope is built only when needed: array-form conditions read the
    # payload alone, and most rules of a trigger do not match a given event
    scope: Context | None = None
    try:
        if isinstance(rule.conditions, ExpressionCondition):
            scope = context(event, pack_config=pack_config, rule_ref=rule.ref, now=now,
                            keystore=keystore)
            matched = truthy(compile_template(rule.conditions.expression,
                                              functions=NO_FUNCTIONS).render(scope))
        else:
            matched = matches(rule.conditions, event.payload, mode=rule.condition, now=now)
    except ExprError as exc:
        return Decision(rule.ref, matched=False, error=f"conditions: {exc.message}")
    if not matched:
        return Decision(rule.ref, matched=False)
    if scope is None:
        scope = context(event, pack_config=pack_config, rule_ref=rule.ref, now=now,
                        keystore=keystore)
    try:
        params = render_value(rule.action_params, scope, field="action_params",
                              functions=NO_FUNCTIONS)
    except ExprError as exc:
        # it matched, but its parameters cannot be rendered: the enforcement says why
        return Decision(rule.ref, matched=True, error=exc.message)
    assert isinstance(params, dict)
    return Decision(rule.ref, matched=True, params=params)


def check(rule: RuleDef) -> RuleDef:
    """Refuse, at creation, templates and conditions that could never work; the message
    names the field (`conditions.expression`, `action_params.cmd[2]`...)."""
    if isinstance(rule.conditions, ExpressionCondition):
        try:
            template = compile_template(rule.conditions.expression, functions=NO_FUNCTIONS)
        except ExprError as exc:
            raise _at(exc, "conditions.expression") from None
        if template.pure is None:
            raise ValidationError("conditions.expression: must be one {{ expression }}, e.g. "
                                  "{{ event.payload.severity == 'critical' }}",
                                  details=[{"field": "conditions.expression"}])
    _check_templates(rule.action_params, "action_params")
    return rule


def _check_templates(value: Any, path: str) -> None:
    if isinstance(value, str):
        if "{{" in value:
            try:
                compile_template(value, functions=NO_FUNCTIONS)
            except ExprError as exc:
                raise _at(exc, path) from None
    elif isinstance(value, list):
        for i, item in enumerate(value):
            _check_templates(item, f"{path}[{i}]")
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_templates(item, f"{path}.{key}")


def _at(exc: ExprError, field: str) -> ValidationError:
    kind = "syntax error" if isinstance(exc, ExprSyntaxError) else "invalid template"
    return ValidationError(f"{field}: {kind}: {exc.message}",
                           details=[{"field": field, "message": exc.message}])
