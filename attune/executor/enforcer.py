"""Events -> rules -> enforcements -> executions, exactly once (invariant 4).

For each event, every enabled rule of its trigger (as of the event's position, see
`RuleBook`) is evaluated. A match creates one enforcement — its idempotency key is
(event, rule), so redelivery never makes a second — and requests the execution
(idempotency key: the enforcement), then resolves the enforcement `processed`
(or `disabled` with the reason when no execution could be requested).

The hot path takes events in batches: the matches of a whole batch are recorded in
three rounds of atomic appends (enforcements, then the execution requests that name
them, then the resolutions), not three acked appends per match. A batch that meets
one of its appends already recorded (a redelivery) is redone match by match, where
JetStream's deduplication returns the recorded ids.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from typing import Any

from nats.aio.msg import Msg

import attune.log as log
from attune.app import executions, keys
from attune.app.context import Context
from attune.domain.action import ActionDef
from attune.domain.enforcement import (
    EnforcementCreated,
    EnforcementDisabled,
    EnforcementProcessed,
)
from attune.domain.execution import ExecutionRequested
from attune.domain.params import secret_names
from attune.domain.rule import RuleDef
from attune.domain.trigger_event import EventCreated
from attune.errors import AttuneError, ConcurrencyError, DuplicateAppendError
from attune.eventstore.consumer import BatchConsumer
from attune.eventstore.envelope import Envelope, Meta, decode_message
from attune.eventstore.store import EVENTS_STREAM, Append
from attune.executor.rulebook import RuleBook
from attune.expr.lazy import Lookup
from attune.rules import engine

_log = log.get("enforcer")


@dataclass(frozen=True, slots=True)
class Match:
    """A rule that matched an event, with what its enforcement needs."""

    env: Envelope
    view: engine.EventView
    rule: RuleDef
    params: dict[str, Any]
    #: Why no execution can be requested (the enforcement ends `disabled`), if so.
    reason: str | None
    action: tuple[ActionDef, str] | None
    meta: Meta

    @property
    def msg_id(self) -> str:
        return f"enforcement:{self.view.id}:{self.rule.ref}"


class Enforcer:
    def __init__(self, ctx: Context, rulebook: RuleBook | None = None) -> None:
        self.ctx = ctx
        #: shared with the scheduler in an executor process (it follows the stream once);
        #: run here only when it is the enforcer's own
        self.rulebook = rulebook or RuleBook(ctx.nc, ctx.pool)
        self._own_rulebook = rulebook is None

    async def on_batch(self, msgs: list[Msg]) -> None:
        envelopes = [decode_message(m.metadata.sequence.stream, m.subject, m.data, m.headers)
                     for m in msgs]
        await self.rulebook.ready_for(max(env.seq for env in envelopes))
        candidates = [(env, self.candidates(env)) for env in envelopes]
        # keys (decrypted) only for a batch whose rules read them
        keystore = (await keys.keystore(self.ctx)
                    if any(engine.uses_keystore(r) for _, rules in candidates for r in rules)
                    else None)
        matches = [m for env, rules in candidates for m in self.matches(env, rules, keystore)]
        if not matches:
            return
        try:
            await self._enforce_batch(matches)
        except (DuplicateAppendError, ConcurrencyError):
            # recorded before, at least in part (a redelivery): one by one, deduplicated
            await asyncio.gather(*(self._enforce(m) for m in matches))

    def candidates(self, env: Envelope) -> list[RuleDef]:
        """The enabled rules of the event's trigger as of its position (those its payload
        can match)."""
        event = env.event
        assert isinstance(event, EventCreated)
        return self.rulebook.candidates(event.trigger_ref, event.rule_ref, env.seq,
                                        event.payload)

    def matches(self, env: Envelope, rules: list[RuleDef], keystore: Lookup | None
                ) -> list[Match]:
        """Those of `rules` that match the event. Evaluation is pure and cheap; only
        matches cost appends."""
        event = env.event
        assert isinstance(event, EventCreated)
        view = engine.EventView(id=env.seq, trigger_ref=event.trigger_ref,
                                payload=event.payload, created=event.at)
        now = self.ctx.clock()
        found: list[Match] = []
        for rule in rules:
            decision = engine.evaluate(rule, view, now=now, keystore=keystore,
                                       pack_config=self.rulebook.pack_config.get(rule.pack_ref, {}))
            if decision.matched:
                found.append(self._match(env, view, rule, decision))
            elif decision.error is not None:
                _log.warning("rule.evaluation_failed", rule_ref=rule.ref, event_id=env.seq,
                             error=decision.error)
        return found

    def _match(self, env: Envelope, view: engine.EventView, rule: RuleDef,
               decision: engine.Decision) -> Match:
        reason = decision.error
        action: tuple[ActionDef, str] | None = None
        if reason is None:
            try:
                # as of the event's position (the rule book follows the actions too)
                action = self.rulebook.action(rule.action_ref)
            except AttuneError as exc:
                reason = exc.message
        return Match(env=env, view=view, rule=rule, params=decision.params or {},
                     reason=reason, action=action, meta=env.meta.caused_by(env))

    def _created(self, m: Match) -> EnforcementCreated:
        secrets = secret_names(m.action[0].parameters) if m.action else frozenset()
        config = {k: (self.ctx.sealer.seal(v) if k in secrets else v)
                  for k, v in m.params.items()}
        return EnforcementCreated(
            at=self.ctx.clock(), rule_ref=m.rule.ref, trigger_ref=m.view.trigger_ref,
            event_id=m.view.id, action_ref=m.rule.action_ref, payload=m.view.payload,
            config=config, conditions=_conditions(m.rule), condition=m.rule.condition)

    def _request(self, m: Match, enforcement_id: int) -> ExecutionRequested | str:
        """The execution request of an enforcement, or why there can be none."""
        if m.reason is not None or m.action is None:
            return m.reason or "no action"
        try:
            return executions.prepare(
                self.ctx, m.action[0], m.action[1], m.params, enforcement=enforcement_id,
                rule_ref=m.rule.ref, trigger_ref=m.view.trigger_ref, event_id=m.view.id)
        except AttuneError as exc:
            return exc.message

    def _resolution(self, m: Match, outcome: int | str
                    ) -> EnforcementProcessed | EnforcementDisabled:
        if isinstance(outcome, int):
            return EnforcementProcessed(at=self.ctx.clock(), execution_id=outcome)
        _log.warning("enforcement.disabled", rule_ref=m.rule.ref, event_id=m.view.id,
                     reason=outcome)
        return EnforcementDisabled(at=self.ctx.clock(), reason=outcome)

    async def _enforce_batch(self, matches: list[Match]) -> None:
        store = self.ctx.store
        meta = matches[0].meta
        ids = await store.append_many(
            [Append(None, self._created(m), None, m.msg_id, m.meta) for m in matches],
            meta=meta)
        planned = [self._request(m, eid) for m, eid in zip(matches, ids, strict=True)]
        requests = [Append(None, outcome, None,
                           executions.request_msg_id(f"enforcement:{eid}"), m.meta)
                    for m, eid, outcome in zip(matches, ids, planned, strict=True)
                    if isinstance(outcome, ExecutionRequested)]
        requested = iter(await store.append_many(requests, meta=meta) if requests else [])
        # an execution id where one was requested, else why none could be
        outcomes: list[int | str] = [next(requested) if isinstance(o, ExecutionRequested)
                                     else o for o in planned]
        await store.append_many(
            [Append(eid, self._resolution(m, outcome), 0, f"enforcement:{eid}:resolved",
                    m.meta)
             for m, eid, outcome in zip(matches, ids, outcomes, strict=True)], meta=meta)

    async def _enforce(self, m: Match) -> None:
        """One match, append by append (each deduplicated by its msg id)."""
        store = self.ctx.store
        eid = await store.create(self._created(m), msg_id=m.msg_id, meta=m.meta)
        outcome: int | str
        match self._request(m, eid):
            case ExecutionRequested() as requested:
                outcome = await store.create(
                    requested, msg_id=executions.request_msg_id(f"enforcement:{eid}"),
                    meta=m.meta)
            case str() as reason:
                outcome = reason
        with contextlib.suppress(ConcurrencyError):  # resolved by an earlier delivery
            await store.append(eid, self._resolution(m, outcome), expected_version=0,
                               msg_id=f"enforcement:{eid}:resolved", meta=m.meta)

    async def run(self, stop: asyncio.Event) -> None:
        consumer = BatchConsumer(self.ctx.nc, stream=EVENTS_STREAM, durable="enforcer",
                                 handler=self.on_batch, batch_size=256, batches=2)
        if self._own_rulebook:
            await asyncio.gather(self.rulebook.run(stop), consumer.run(stop))
        else:
            await consumer.run(stop)


def _conditions(rule: RuleDef) -> Any:
    conditions = rule.conditions
    if isinstance(conditions, list):
        return [c.model_dump(mode="json") for c in conditions]
    return conditions.model_dump(mode="json")
