"""The executor's view of the catalogue: every enabled rule by trigger, each pack's
config and directory, every action and every policy — *as of the stream position of
the event being handled*.

It starts from the read model (rules, actions, packs and policies, read with their
projection position in one snapshot) and follows `attune.rule.>`, `attune.action.>`,
`attune.pack.>` and `attune.policy.>` on the stream from there. Holding them here
spares the enforcer a PostgreSQL read per matched rule (twice: for the secret
parameters and for the request) and the scheduler one per requested execution (its
policy), and a policy recorded before a request always governs it.

Before matching an event at sequence S, `ready_for(S)` makes sure every change recorded
before S has been applied, and `candidates` answers with the rules as they were just
before S (recent versions are kept): a rule created just before an event always sees
it, one disabled just before never does, and one disabled just after still does — on
every executor replica alike, and on replays.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import defaultdict
from functools import partial
from typing import Any, TypeVar

import asyncpg
from nats.aio.client import Client
from nats.js.errors import NotFoundError
from pydantic import BaseModel

import attune.log as log
from attune.domain import catalog
from attune.domain.action import ACTION, ActionDef
from attune.domain.events import Event
from attune.domain.pack import PackRegistered
from attune.domain.policy import POLICY, PolicyDef, effective
from attune.domain.rule import RULE, RuleDef
from attune.errors import NotFoundError as UnknownAction
from attune.eventstore import follow
from attune.eventstore.envelope import Envelope, decode_message
from attune.eventstore.store import EVENTS_STREAM
from attune.rules.conditions import lookup

_log = log.get("rulebook")
D = TypeVar("D", bound=BaseModel)
SUBJECTS = ["attune.rule.>", "attune.action.>", "attune.pack.>", "attune.policy.>"]
#: Versions kept per rule for events handled after later changes.
KEPT_VERSIONS = 32
POSITIONS = ("rules", "actions", "packs", "policies")


class RuleBook:
    def __init__(self, nc: Client, pool: asyncpg.Pool) -> None:
        self.nc = nc
        self.pool = pool
        #: Every rule, enabled or not (a disabled one may be enabled again).
        self.states: dict[str, catalog.Component[RuleDef]] = {}
        #: Recent versions of each rule as (sequence it took effect, state), oldest first:
        #: an event is matched against the rules as they were just before it, also when
        #: it is handled after later changes were applied (late or redelivered events).
        self.history: dict[str, list[tuple[int, RuleDef | None]]] = {}
        #: Every rule ref that had, in its kept history, this trigger.
        self.by_trigger: dict[str, set[str]] = defaultdict(set)
        #: The same refs split by an `equals` condition every match needs, if a version has
        #: one (trigger -> field -> value -> refs), else `unkeyed`: an event is evaluated
        #: only against the rules whose key its payload holds (plus the unkeyed ones), not
        #: against every rule of its trigger.
        self.keyed: dict[str, dict[str, dict[Any, set[str]]]] = defaultdict(
            lambda: defaultdict(lambda: defaultdict(set)))
        self.unkeyed: dict[str, set[str]] = defaultdict(set)
        self.pack_config: dict[str, dict[str, Any]] = {}
        self.pack_path: dict[str, str] = {}
        self.actions: dict[str, catalog.Component[ActionDef]] = {}
        self.policies: dict[str, catalog.Component[PolicyDef]] = {}
        #: Last stream sequence whose rule/pack changes are applied.
        self.position = 0
        #: Events up to this sequence are known to have no unapplied rule change before them.
        self._verified = 0
        self._advanced = asyncio.Condition()
        self.loaded = asyncio.Event()
        #: The highest sequence an event waits to be verified for, and the one check
        #: of the stream in flight: concurrent events share it instead of each asking.
        self._wanted = 0
        self._check: asyncio.Task[None] | None = None
        #: Bumped by every (re)load: a lookup begun before it must not verify anything.
        self._generation = 0

    # -- state ---------------------------------------------------------------------------

    def candidates(self, trigger_ref: str, rule_ref: str | None, seq: int,
                   payload: dict[str, Any] | None = None) -> list[RuleDef]:
        """Rules of `trigger_ref` enabled just before stream sequence `seq` (only `rule_ref`
        when the event targets one), as they were then. Given the event's `payload`, rules
        whose `equals` key it does not hold are left out (they cannot match it)."""
        refs = self.by_trigger.get(trigger_ref, set())
        if rule_ref is not None:
            refs = {rule_ref} & refs
        elif payload is not None:
            refs = self._keyed_candidates(trigger_ref, payload)
        found = []
        for ref in sorted(refs):
            rule = self._as_of(ref, seq)
            if rule is not None and rule.enabled and rule.trigger_ref == trigger_ref:
                found.append(rule)
        return found

    def _keyed_candidates(self, trigger_ref: str, payload: dict[str, Any]) -> set[str]:
        refs = set(self.unkeyed.get(trigger_ref, ()))
        for field, by_value in self.keyed.get(trigger_ref, {}).items():
            value = lookup(payload, field)
            try:
                refs.update(by_value.get(value, ()))
            except TypeError:  # unhashable (a list, a dict): no scalar equals it
                continue
        return refs

    def _as_of(self, ref: str, seq: int) -> RuleDef | None:
        versions = self.history.get(ref, [])
        for at, rule in reversed(versions):
            if at < seq:
                return rule
        # older than what is kept (a very late redelivery): the oldest known version
        return versions[0][1] if versions else None

    def action(self, ref: str) -> tuple[ActionDef, str]:
        """The action's definition and its pack's directory (as `load_action` reads them
        from the read model)."""
        state = self.actions.get(ref)
        path = self.pack_path.get(state.definition.pack_ref) if state is not None else None
        if state is None or path is None:
            raise UnknownAction(f"action {ref!r} not found: list actions with "
                                "`attune action list`")
        return state.definition, path

    def policy_for(self, action_ref: str) -> PolicyDef | None:
        """The policy that governs executions of `action_ref` now (see `ready_for`)."""
        return effective((p.definition for p in self.policies.values()), action_ref)

    def _set(self, ref: str, state: catalog.Component[RuleDef] | None, seq: int, *,
             created: bool = False) -> None:
        if state is None:
            self.states.pop(ref, None)
        else:
            self.states[ref] = state
            rule = state.definition
            self.by_trigger[rule.trigger_ref].add(ref)
            key = equality_key(rule)
            if key is None:
                self.unkeyed[rule.trigger_ref].add(ref)
            else:
                self.keyed[rule.trigger_ref][key[0]][key[1]].add(ref)
        if created:  # before its creation there was no such rule
            self.history[ref] = [(0, None)]
        versions = self.history.setdefault(ref, [])
        versions.append((seq, state.definition if state else None))
        del versions[:-KEPT_VERSIONS]

    def apply(self, envelope: Envelope) -> None:
        event = envelope.event
        if isinstance(event, PackRegistered):
            self.pack_config[event.pack.ref] = event.pack.config
            self.pack_path[event.pack.ref] = event.pack.path
        elif event.aggregate == "rule":
            ref = envelope.ref
            created = isinstance(event, RULE.defined) and event.created
            self._set(ref, catalog.evolve(RULE, self.states.get(ref), event), envelope.seq,
                      created=created)
        elif event.aggregate == "action":
            _fold(ACTION, self.actions, envelope.ref, event)
        elif event.aggregate == "policy":
            _fold(POLICY, self.policies, envelope.ref, event)
        self.position = max(self.position, envelope.seq)

    # -- loading and following -----------------------------------------------------------

    async def load(self) -> None:
        async with self.pool.acquire() as conn, conn.transaction(isolation="repeatable_read"):
            position = await conn.fetchval(
                "SELECT min(position) FROM projection_positions WHERE name = ANY($1)",
                list(POSITIONS))
            rows = await conn.fetch("SELECT definition, source, version FROM rules")
            actions = await conn.fetch("SELECT definition, source FROM actions")
            packs = await conn.fetch("SELECT ref, path, definition FROM packs")
            policies = await conn.fetch("SELECT definition, source FROM policies")
        self.states.clear()
        self.history.clear()
        self.by_trigger.clear()
        self.keyed.clear()
        self.unkeyed.clear()
        for row in rows:
            rule = RuleDef.model_validate(row["definition"])
            self._set(rule.ref, catalog.Component(definition=rule, source=row["source"]),
                      row["version"])
        self.actions = {}
        for row in actions:
            action = ActionDef.model_validate(row["definition"])
            self.actions[action.ref] = catalog.Component(definition=action, source=row["source"])
        self.policies = {}
        for row in policies:
            policy = PolicyDef.model_validate(row["definition"])
            self.policies[policy.ref] = catalog.Component(definition=policy,
                                                          source=row["source"])
        self.pack_config = {r["ref"]: r["definition"].get("config") or {} for r in packs}
        self.pack_path = {r["ref"]: r["path"] for r in packs}
        self.position = self._verified = int(position or 0)
        self._generation += 1
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
        async with contextlib.aclosing(
                follow.batches(self.nc, SUBJECTS, self.position + 1, stop)) as found:
            async for msgs in found:
                for msg in msgs:
                    seq = msg.metadata.sequence.stream
                    if seq > self.position:
                        self.apply(decode_message(seq, msg.subject, msg.data, msg.headers))
                async with self._advanced:
                    self._advanced.notify_all()

    def _reached(self, seq: int) -> bool:
        return self.position >= seq

    async def ready_for(self, seq: int, timeout: float = 10.0) -> None:
        """Return once every rule, action, pack or policy change recorded before `seq` is
        applied."""
        if not self.loaded.is_set():
            await asyncio.wait_for(self.loaded.wait(), timeout)
        if seq - 1 <= max(self.position, self._verified):
            return
        self._wanted = max(self._wanted, seq)
        try:
            async with asyncio.timeout(timeout):
                while seq - 1 > max(self.position, self._verified):
                    check = self._check
                    if check is None or check.done():
                        check = self._check = asyncio.create_task(self._verify())
                    # shielded: one waiter timing out must not cancel the others' check
                    await asyncio.shield(check)
        except TimeoutError:
            raise TimeoutError(f"rules not caught up to event {seq} in time") from None

    async def _verify(self) -> None:
        """Look up the first change after the applied position: if none comes before
        the highest event waiting, every event up to it (and up to that change) is
        verified; else wait (briefly; the callers ask again) until the follower has
        applied it."""
        # the events of one fetched batch all register before the target is read, so
        # one lookup serves the whole batch
        await asyncio.sleep(0)
        target, generation = self._wanted, self._generation
        # nothing changed in [position + 1, verified]: look from past what is verified
        pending = await _next_change(self.nc.jetstream(),
                                     max(self.position, self._verified) + 1)
        if generation != self._generation:
            return  # reloaded meanwhile: the callers ask again against the new state
        if pending is None or pending >= target:
            # no change in [position + 1, pending - 1]: events up to `pending` may go
            self._verified = max(self._verified,
                                 target - 1 if pending is None else pending - 1)
            return
        async with self._advanced:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(
                    self._advanced.wait_for(partial(self._reached, pending)), 1.0)


def equality_key(rule: RuleDef) -> tuple[str, Any] | None:
    """(field, value) of an `equals` condition every match of `rule` needs, if any: with
    it, a payload whose field holds another value cannot match (dict lookup equality is
    `==` equality for these value types)."""
    conditions = rule.conditions
    if not isinstance(conditions, list) or (rule.condition == "any" and len(conditions) > 1):
        return None
    for condition in conditions:
        if condition.operator == "equals" and type(condition.value) in (str, int, bool):
            return condition.field, condition.value
    return None


def _fold(kind: catalog.Kind[D], table: dict[str, catalog.Component[D]], ref: str,
          event: Event) -> None:
    state = catalog.evolve(kind, table.get(ref), event)
    if state is None:
        table.pop(ref, None)
    else:
        table[ref] = state


async def _next_change(js: Any, start: int) -> int | None:
    """Sequence of the first rule, action, pack or policy change at or after `start`, if any."""
    async def first(subject: str) -> int | None:
        try:
            raw = await js.get_msg(EVENTS_STREAM, seq=start, subject=subject, direct=True,
                                   next=True)
        except NotFoundError:
            return None
        return None if raw.seq is None else int(raw.seq)

    found = [s for s in await asyncio.gather(*(first(s) for s in SUBJECTS)) if s is not None]
    return min(found) if found else None
