"""What-if for a rule: evaluate its current definition (even when disabled) against a
payload, or against the recorded events of its trigger — with the very engine the
executor uses (`attune.rules.engine.evaluate`), and without side effects: nothing is
appended to the event store, so no event, enforcement or execution comes of it.

StackStorm's rule tester takes one event; replaying history shows what a changed rule
would have done over the last hour.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from attune.app import triggers
from attune.app.context import Context
from attune.app.events import check_payload
from attune.domain.action import ActionDef
from attune.domain.params import secret_names
from attune.domain.rule import RuleDef
from attune.errors import NotFoundError
from attune.rules import engine
from attune.security.crypto import REDACTED

MAX_EVENTS = 1000


@dataclass(frozen=True)
class Outcome:
    event_id: int | None
    created: datetime
    matched: bool
    params: dict[str, Any] | None
    error: str | None


@dataclass(frozen=True)
class Report:
    rule: RuleDef
    outcomes: list[Outcome]

    @property
    def matched(self) -> int:
        return sum(1 for o in self.outcomes if o.matched)


async def _rule(ctx: Context, ref: str) -> RuleDef:
    row = await ctx.pool.fetchrow("SELECT definition FROM rules WHERE ref = $1", ref)
    if row is None:
        raise NotFoundError(f"rule {ref!r} not found: GET /api/v1/rules lists the rules")
    return RuleDef.model_validate(row["definition"])


async def _secrets(ctx: Context, action_ref: str) -> frozenset[str]:
    row = await ctx.pool.fetchrow("SELECT definition FROM actions WHERE ref = $1", action_ref)
    # an action deleted since the rule was made has no secrets to hide; the executor
    # would refuse such an enforcement, which is not what a what-if is about
    return secret_names(ActionDef.model_validate(row["definition"]).parameters) if row \
        else frozenset()


async def _pack_config(ctx: Context, pack_ref: str) -> dict[str, Any]:
    definition = await ctx.pool.fetchval("SELECT definition FROM packs WHERE ref = $1",
                                         pack_ref)
    config = definition.get("config") if isinstance(definition, dict) else None
    return config if isinstance(config, dict) else {}


def _outcome(rule: RuleDef, view: engine.EventView, *, event_id: int | None,
             pack_config: dict[str, Any], secrets: frozenset[str], now: datetime) -> Outcome:
    decision = engine.evaluate(rule, view, pack_config=pack_config, now=now)
    params = None if decision.params is None else {
        k: (REDACTED if k in secrets else v) for k, v in decision.params.items()}
    return Outcome(event_id=event_id, created=view.created, matched=decision.matched,
                   params=params, error=decision.error)


async def with_payload(ctx: Context, ref: str, payload: dict[str, Any]) -> Report:
    """`payload` as one event of the rule's trigger (checked against its out_schema,
    as a real event would be)."""
    rule = await _rule(ctx, ref)
    trigger = await triggers.definition(ctx, rule.trigger_ref)
    check_payload(trigger.ref, trigger.out_schema, payload)
    now = ctx.clock()
    view = engine.EventView(id=0, trigger_ref=rule.trigger_ref, payload=payload, created=now)
    outcome = _outcome(rule, view, event_id=None, now=now,
                       pack_config=await _pack_config(ctx, rule.pack_ref),
                       secrets=await _secrets(ctx, rule.action_ref))
    return Report(rule=rule, outcomes=[outcome])


async def over_history(ctx: Context, ref: str, *, since: timedelta, limit: int) -> Report:
    """The recorded events of the rule's trigger since `since` ago, newest first, at
    most `limit` (≤ MAX_EVENTS) — those the executor would offer the rule: events meant
    for one rule (a timer's) only when meant for this one."""
    rule = await _rule(ctx, ref)
    now = ctx.clock()
    rows = await ctx.pool.fetch(
        "SELECT id, trigger_ref, payload, created FROM events WHERE trigger_ref = $1 "
        "AND created >= $2 AND (rule_ref IS NULL OR rule_ref = $3) ORDER BY id DESC "
        "LIMIT $4", rule.trigger_ref, now - since, rule.ref, min(limit, MAX_EVENTS))
    pack_config = await _pack_config(ctx, rule.pack_ref)
    secrets = await _secrets(ctx, rule.action_ref)
    outcomes = [_outcome(rule, engine.EventView(id=r["id"], trigger_ref=r["trigger_ref"],
                                                payload=r["payload"], created=r["created"]),
                         event_id=r["id"], pack_config=pack_config, secrets=secrets, now=now)
                for r in rows]
    return Report(rule=rule, outcomes=outcomes)
