"""The enforcer's view of the rules: every enabled rule by trigger, and each pack's
config — *as of the stream position of the event being matched*.

It starts from the read model (rules and packs, read with their projection
position in one snapshot) and follows `attune.rule.>` and `attune.pack.>` on the
stream from there. Before matching an event at sequence S, `ready_for(S)` makes
sure every rule change recorded before S has been applied, so a rule created just
before an event always sees it, and one disabled just before never does — on every
executor replica alike, and on replays.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import defaultdict
from functools import partial
from typing import Any

import asyncpg
from nats.aio.client import Client
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from nats.js.errors import FetchTimeoutError, NotFoundError

import attune.log as log
from attune.domain import catalog
from attune.domain.pack import PackRegistered
from attune.domain.rule import RULE, RuleDef
from attune.eventstore.envelope import Envelope, decode_message
from attune.eventstore.store import EVENTS_STREAM

_log = log.get("rulebook")
SUBJECTS = ["attune.rule.>", "attune.pack.>"]


class RuleBook:
    def __init__(self, nc: Client, pool: asyncpg.Pool) -> None:
        self.nc = nc
        self.pool = pool
        #: Every rule, enabled or not (a disabled one may be enabled again).
        self.states: dict[str, catalog.Component[RuleDef]] = {}
        self.by_trigger: dict[str, dict[str, RuleDef]] = defaultdict(dict)
        self.pack_config: dict[str, dict[str, Any]] = {}
        #: Last stream sequence whose rule/pack changes are applied.
        self.position = 0
        #: Events up to this sequence are known to have no unapplied rule change before them.
        self._verified = 0
        self._advanced = asyncio.Condition()
        self.loaded = asyncio.Event()

    # -- state ---------------------------------------------------------------------------

    def candidates(self, trigger_ref: str, rule_ref: str | None) -> list[RuleDef]:
        """Enabled rules of `trigger_ref` (only `rule_ref` when the event targets one)."""
        rules = self.by_trigger.get(trigger_ref, {})
        if rule_ref is not None:
            rule = rules.get(rule_ref)
            return [rule] if rule is not None else []
        return list(rules.values())

    def _set(self, ref: str, state: catalog.Component[RuleDef] | None) -> None:
        old = self.states.pop(ref, None)
        if old is not None:
            self.by_trigger[old.definition.trigger_ref].pop(ref, None)
        if state is not None:
            self.states[ref] = state
            if state.definition.enabled:
                self.by_trigger[state.definition.trigger_ref][ref] = state.definition

    def apply(self, envelope: Envelope) -> None:
        event = envelope.event
        if isinstance(event, PackRegistered):
            self.pack_config[event.pack.ref] = event.pack.config
        elif event.aggregate == "rule":
            ref = envelope.ref
            self._set(ref, catalog.evolve(RULE, self.states.get(ref), event))
        self.position = max(self.position, envelope.seq)

    # -- loading and following -----------------------------------------------------------

    async def load(self) -> None:
        async with self.pool.acquire() as conn, conn.transaction(isolation="repeatable_read"):
            position = await conn.fetchval(
                "SELECT min(position) FROM projection_positions WHERE name IN ('rules', 'packs')")
            rows = await conn.fetch("SELECT definition, source FROM rules")
            packs = await conn.fetch("SELECT ref, definition FROM packs")
        self.states.clear()
        self.by_trigger.clear()
        for row in rows:
            rule = RuleDef.model_validate(row["definition"])
            self._set(rule.ref, catalog.Component(definition=rule, source=row["source"]))
        self.pack_config = {r["ref"]: r["definition"].get("config") or {} for r in packs}
        self.position = self._verified = int(position or 0)
        self.loaded.set()

    async def run(self, stop: asyncio.Event) -> None:
        """Follow rule and pack changes until `stop`; reload from the read model after
        any error (the read model is consistent with its position)."""
        backoff = 0.2
        while not stop.is_set():
            try:
                await self.load()
                await self._follow(stop)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                _log.warning("rulebook.restart", error=repr(exc))
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), backoff)
                backoff = min(backoff * 2, 5.0)

    async def _follow(self, stop: asyncio.Event) -> None:
        config = ConsumerConfig(
            deliver_policy=DeliverPolicy.BY_START_SEQUENCE, opt_start_seq=self.position + 1,
            ack_policy=AckPolicy.NONE, filter_subjects=SUBJECTS, inactive_threshold=30.0,
            mem_storage=True)
        sub = await self.nc.jetstream().pull_subscribe("", stream=EVENTS_STREAM, config=config)
        try:
            while not stop.is_set():
                try:
                    msgs = await sub.fetch(256, timeout=0.5)
                except (FetchTimeoutError, TimeoutError):
                    continue
                for msg in msgs:
                    seq = msg.metadata.sequence.stream
                    if seq > self.position:
                        self.apply(decode_message(seq, msg.subject, msg.data, msg.headers))
                async with self._advanced:
                    self._advanced.notify_all()
        finally:
            with contextlib.suppress(Exception):
                await sub.unsubscribe()

    def _reached(self, seq: int) -> bool:
        return self.position >= seq

    async def ready_for(self, seq: int, timeout: float = 10.0) -> None:
        """Return once every rule or pack change recorded before `seq` is applied."""
        await asyncio.wait_for(self.loaded.wait(), timeout)
        if seq - 1 <= max(self.position, self._verified):
            return
        js = self.nc.jetstream()
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            pending = await _next_change(js, self.position + 1)
            if pending is None or pending >= seq:
                self._verified = max(self._verified, seq - 1)
                return
            async with self._advanced:
                remaining = deadline - asyncio.get_running_loop().time()
                if remaining <= 0:
                    raise TimeoutError(f"rules not caught up to {pending} in time")
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(
                        self._advanced.wait_for(partial(self._reached, pending)), remaining)


async def _next_change(js: Any, start: int) -> int | None:
    """Sequence of the first rule or pack change at or after `start`, if any."""
    found: list[int] = []
    for subject in SUBJECTS:
        try:
            raw = await js.get_msg(EVENTS_STREAM, seq=start, subject=subject, direct=True,
                                   next=True)
        except NotFoundError:
            continue
        if raw.seq is not None:
            found.append(int(raw.seq))
    return min(found) if found else None
