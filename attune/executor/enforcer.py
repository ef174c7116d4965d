"""Events -> rules -> enforcements -> executions, exactly once (invariant 4).

For each event, every enabled rule of its trigger (as of the event's position, see
`RuleBook`) is evaluated. A match creates one enforcement — its idempotency key is
(event, rule), so redelivery never makes a second — and requests the execution
(idempotency key: the enforcement), then resolves the enforcement `processed`
(or `disabled` with the reason when no execution could be requested).
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from nats.aio.msg import Msg

import attune.log as log
from attune.app import executions
from attune.app.context import Context
from attune.domain.action import ActionDef
from attune.domain.enforcement import (
    EnforcementCreated,
    EnforcementDisabled,
    EnforcementProcessed,
)
from attune.domain.params import secret_names
from attune.domain.rule import RuleDef
from attune.domain.trigger_event import EventCreated
from attune.errors import AttuneError, ConcurrencyError
from attune.eventstore.consumer import DurableConsumer
from attune.eventstore.envelope import Envelope, decode_message
from attune.eventstore.store import EVENTS_STREAM
from attune.executor.rulebook import RuleBook
from attune.rules import engine

_log = log.get("enforcer")


class Enforcer:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.rulebook = RuleBook(ctx.nc, ctx.pool)

    async def on_event(self, msg: Msg) -> None:
        env = decode_message(msg.metadata.sequence.stream, msg.subject, msg.data, msg.headers)
        event = env.event
        assert isinstance(event, EventCreated)
        with log.bound(event_id=env.seq, trigger_ref=event.trigger_ref,
                       correlation_id=env.meta.correlation_id):
            await self.rulebook.ready_for(env.seq)
            view = engine.EventView(id=env.seq, trigger_ref=event.trigger_ref,
                                    payload=event.payload, created=event.at)
            matched: list[tuple[RuleDef, engine.Decision]] = []
            now = self.ctx.clock()
            # evaluation is pure and cheap: do it inline, and spawn concurrent work only
            # for the matches (usually one or none of a trigger's rules)
            for rule in self.rulebook.candidates(event.trigger_ref, event.rule_ref, env.seq):
                decision = engine.evaluate(
                    rule, view, now=now,
                    pack_config=self.rulebook.pack_config.get(rule.pack_ref, {}))
                if decision.matched:
                    matched.append((rule, decision))
                elif decision.error is not None:
                    _log.warning("rule.evaluation_failed", rule_ref=rule.ref,
                                 error=decision.error)
            if len(matched) == 1:
                await self._enforce(env, view, *matched[0])
            elif matched:
                await asyncio.gather(*(self._enforce(env, view, rule, decision)
                                       for rule, decision in matched))

    async def _enforce(self, env: Envelope, view: engine.EventView, rule: RuleDef,
                       decision: engine.Decision) -> None:
        meta = env.meta.caused_by(env)
        params = decision.params or {}
        reason = decision.error
        secrets: frozenset[str] = frozenset()
        action: tuple[ActionDef, str] | None = None
        if reason is None:
            try:
                # as of the event's position (the rule book follows the actions too)
                action = self.rulebook.action(rule.action_ref)
                secrets = secret_names(action[0].parameters)
            except AttuneError as exc:
                reason = exc.message
        config = {k: (self.ctx.sealer.seal(v) if k in secrets else v) for k, v in params.items()}
        enforcement_id = await self.ctx.store.create(
            EnforcementCreated(at=self.ctx.clock(), rule_ref=rule.ref,
                               trigger_ref=view.trigger_ref, event_id=view.id,
                               action_ref=rule.action_ref, payload=view.payload, config=config,
                               conditions=_conditions(rule), condition=rule.condition),
            msg_id=f"enforcement:{view.id}:{rule.ref}", meta=meta)
        resolution: EnforcementProcessed | EnforcementDisabled
        if reason is None:
            try:
                execution_id = await executions.request(
                    self.ctx, rule.action_ref, params, meta=meta, enforcement=enforcement_id,
                    rule_ref=rule.ref, trigger_ref=view.trigger_ref, event_id=view.id,
                    idempotency_key=f"enforcement:{enforcement_id}",
                    known_action=action)
            except AttuneError as exc:
                reason = exc.message
            else:
                resolution = EnforcementProcessed(at=self.ctx.clock(), execution_id=execution_id)
        if reason is not None:
            _log.warning("enforcement.disabled", rule_ref=rule.ref, reason=reason)
            resolution = EnforcementDisabled(at=self.ctx.clock(), reason=reason)
        with contextlib.suppress(ConcurrencyError):  # resolved by an earlier delivery
            await self.ctx.store.append(enforcement_id, resolution, expected_version=0,
                                        msg_id=f"enforcement:{enforcement_id}:resolved",
                                        meta=meta)

    async def run(self, stop: asyncio.Event) -> None:
        consumer = DurableConsumer(self.ctx.nc, stream=EVENTS_STREAM, durable="enforcer",
                                   handler=self.on_event, concurrency=128)
        await asyncio.gather(self.rulebook.run(stop), consumer.run(stop))


def _conditions(rule: RuleDef) -> Any:
    conditions = rule.conditions
    if isinstance(conditions, list):
        return [c.model_dump(mode="json") for c in conditions]
    return conditions.model_dump(mode="json")
