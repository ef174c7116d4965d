"""Stream events -> notifications. `MAPPERS` is the table: an event type names the
function that turns one envelope into notifications; later work adds its event types
(workflow executions, inquiries, artifacts) to it.

A `Mapper` reads the stream in order, so it keeps what it needs to say more than the
event itself does — an execution's previous status (`old_status`), what an enforcement or
a rule is about — in small bounded caches it updates as events pass. When an entity began
before the mapper started (a notifier restart, a replay from `since`), the entity is
loaded from the stream once, as of just before the event (`EventStore.load`): old
statuses are always right, and live traffic costs no lookups.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from attune.domain import catalog
from attune.domain.catalog import Component
from attune.domain.enforcement import (
    EnforcementCreated,
    EnforcementDisabled,
    EnforcementProcessed,
)
from attune.domain.execution import (
    ExecutionAbandoned,
    ExecutionCancelled,
    ExecutionCancelRequested,
    ExecutionCompleted,
    ExecutionEvent,
    ExecutionFailed,
    ExecutionQueued,
    ExecutionRequested,
    ExecutionStarted,
    ExecutionState,
    ExecutionTimedOut,
    evolve,
)
from attune.domain.rule import RULE, RuleDef
from attune.domain.trigger_event import EventCreated
from attune.eventstore.envelope import TYPE, Envelope, decode_message
from attune.eventstore.store import EventStore
from attune.notifier.channels import CHANNELS
from attune.notifier.notification import Notification

K = TypeVar("K")
V = TypeVar("V")

#: Entries kept per cache; an evicted entity is simply loaded again if it changes.
CACHE_SIZE = 50_000


class Lru(Generic[K, V]):
    def __init__(self, size: int = CACHE_SIZE) -> None:
        self.size = size
        self._items: OrderedDict[K, V] = OrderedDict()

    def get(self, key: K) -> V | None:
        value = self._items.get(key)
        if value is not None:
            self._items.move_to_end(key)
        return value

    def put(self, key: K, value: V) -> None:
        self._items[key] = value
        self._items.move_to_end(key)
        if len(self._items) > self.size:
            self._items.popitem(last=False)

    def pop(self, key: K) -> None:
        self._items.pop(key, None)

    def __len__(self) -> int:
        return len(self._items)


@dataclass(frozen=True, slots=True)
class ExecutionInfo:
    state: ExecutionState
    requested: ExecutionRequested


@dataclass(frozen=True, slots=True)
class EnforcementInfo:
    created: EnforcementCreated
    status: str


@dataclass(frozen=True, slots=True)
class RuleInfo:
    #: The rule's numeric id: the sequence of the event that created this incarnation.
    id: int
    component: Component[RuleDef] | None


MapFn = Callable[["Mapper", Envelope], Awaitable[list[Notification]]]


class Mapper:
    def __init__(self, store: EventStore, *, cache_size: int = CACHE_SIZE) -> None:
        self.store = store
        self.executions: Lru[int, ExecutionInfo] = Lru(cache_size)
        self.enforcements: Lru[int, EnforcementInfo] = Lru(cache_size)
        self.rules: Lru[str, RuleInfo] = Lru(cache_size)
        #: Entities loaded from the stream because the cache did not know them.
        self.loads = 0

    async def map(self, envelope: Envelope) -> list[Notification]:
        fn = MAPPERS.get(envelope.event.type)
        return [] if fn is None else await fn(self, envelope)

    async def map_message(self, seq: int, subject: str, data: bytes,
                          headers: dict[str, str] | None) -> list[Notification]:
        """`map` for a stream message, decoded only when its type is in `MAPPERS`."""
        if (headers or {}).get(TYPE) not in MAPPERS:
            return []
        return await self.map(decode_message(seq, subject, data, headers))

    # -- entity state before an event ------------------------------------------------

    async def execution_before(self, envelope: Envelope) -> ExecutionInfo:
        info = self.executions.get(envelope.aggregate_id)
        if info is not None:
            return info
        self.loads += 1
        id = envelope.aggregate_id
        events, _ = await self.store.load("execution", id, created_at=id)
        first = events[0].event
        assert isinstance(first, ExecutionRequested)
        state: ExecutionState | None = None
        for env in events:
            if env.seq >= envelope.seq:
                break
            state = evolve(state, env.event, id=id)  # type: ignore[arg-type]
        assert state is not None
        return ExecutionInfo(state, first)

    async def enforcement_before(self, envelope: Envelope) -> EnforcementInfo:
        info = self.enforcements.get(envelope.aggregate_id)
        if info is not None:
            return info
        self.loads += 1
        events, _ = await self.store.load("enforcement", envelope.aggregate_id,
                                          created_at=envelope.aggregate_id)
        first = events[0].event
        assert isinstance(first, EnforcementCreated)
        status = "created"
        for env in events[1:]:
            if env.seq >= envelope.seq:
                break
            status = env.event.name
        return EnforcementInfo(first, status)

    async def rule_before(self, envelope: Envelope) -> RuleInfo:
        info = self.rules.get(envelope.ref)
        if info is not None:
            return info
        self.loads += 1
        events, _ = await self.store.load("rule", envelope.ref)
        info = RuleInfo(0, None)
        for env in events:
            if env.seq >= envelope.seq:
                break
            info = _rule_after(info, env)
        return info


def _rule_after(info: RuleInfo, envelope: Envelope) -> RuleInfo:
    event = envelope.event
    rule_id = envelope.seq if isinstance(event, RULE.defined) and event.created else info.id
    return RuleInfo(rule_id, catalog.evolve(RULE, info.component, event))


def _notification(notification_type: str, entity_id: int, envelope: Envelope,
                  payload: dict[str, Any], *, user_id: int | None = None,
                  trigger_ref: str | None = None,
                  target_row: dict[str, Any] | None = None) -> Notification:
    channel = CHANNELS[notification_type]
    return Notification(notification_type=notification_type, entity_type=channel.entity_type,
                        entity_id=entity_id, payload=payload, timestamp=envelope.event.at,
                        sequence=envelope.seq, resource=channel.resource, user_id=user_id,
                        trigger_ref=trigger_ref, target_row=target_row)


# -- executions ------------------------------------------------------------------------

async def execution_created(mapper: Mapper, envelope: Envelope) -> list[Notification]:
    event = envelope.event
    assert isinstance(event, ExecutionRequested)
    id = envelope.aggregate_id
    state = evolve(None, event, id=id)
    mapper.executions.put(id, ExecutionInfo(state, event))
    payload = {**_execution_fields(id, state, event), "created": event.at.isoformat(),
               "timeout_seconds": event.timeout_seconds, "rerun_of": event.rerun_of}
    return [_notification("execution_created", id, envelope, payload,
                          user_id=event.requested_by, trigger_ref=event.trigger_ref)]


async def execution_status_changed(mapper: Mapper, envelope: Envelope
                                   ) -> list[Notification]:
    before = await mapper.execution_before(envelope)
    id = envelope.aggregate_id
    event: ExecutionEvent = envelope.event  # type: ignore[assignment]
    state = evolve(before.state, event, id=id)
    if state.status.terminal:
        mapper.executions.pop(id)  # nothing follows an end
    else:
        mapper.executions.put(id, ExecutionInfo(state, before.requested))
    if state.status == before.state.status:
        return []
    payload = {**_execution_fields(id, state, before.requested),
               "old_status": before.state.status.value, "updated": event.at.isoformat(),
               **_status_details(event)}
    return [_notification("execution_status_changed", id, envelope, payload,
                          user_id=before.requested.requested_by,
                          trigger_ref=before.requested.trigger_ref)]


def _execution_fields(id: int, state: ExecutionState, requested: ExecutionRequested
                      ) -> dict[str, Any]:
    return {"id": id, "action_ref": state.action_ref, "status": state.status.value,
            "worker": state.worker, "parent": requested.parent,
            "enforcement": requested.enforcement, "rule_ref": requested.rule_ref,
            "trigger_ref": requested.trigger_ref, "event_id": requested.event_id,
            "requested_by": requested.requested_by}


def _status_details(event: ExecutionEvent) -> dict[str, Any]:
    """What the event says about the change, never the action's output (fetch the
    execution for that: it may be large or not yours to see in full)."""
    match event:
        case ExecutionQueued():
            return {"reason": event.reason}
        case ExecutionStarted():
            return {"worker": event.worker}
        case ExecutionCompleted() | ExecutionFailed():
            return {"exit_code": event.outcome.exit_code, "error": event.outcome.error,
                    "duration_ms": event.outcome.duration_ms}
        case ExecutionCancelRequested():
            return {"by": event.by}
        case ExecutionCancelled():
            return {"by": event.by}
        case ExecutionTimedOut() | ExecutionAbandoned():
            return {"reason": event.reason}
    return {}


# -- events and enforcements -----------------------------------------------------------

async def event_created(mapper: Mapper, envelope: Envelope) -> list[Notification]:
    event = envelope.event
    assert isinstance(event, EventCreated)
    id = envelope.aggregate_id
    # as the original: no payload body (it may be large or sensitive), only whether any
    payload = {"id": id, "trigger_ref": event.trigger_ref, "source": event.source,
               "source_ref": event.source_ref, "rule_ref": event.rule_ref,
               "trigger_instance_id": event.trigger_instance_id,
               "has_payload": bool(event.payload), "created": event.at.isoformat()}
    return [_notification("event_created", id, envelope, payload,
                          trigger_ref=event.trigger_ref)]


async def enforcement_created(mapper: Mapper, envelope: Envelope) -> list[Notification]:
    event = envelope.event
    assert isinstance(event, EnforcementCreated)
    id = envelope.aggregate_id
    mapper.enforcements.put(id, EnforcementInfo(event, "created"))
    payload = {**_enforcement_fields(id, event, "created"), "created": event.at.isoformat()}
    return [_notification("enforcement_created", id, envelope, payload,
                          trigger_ref=event.trigger_ref)]


async def enforcement_status_changed(mapper: Mapper, envelope: Envelope
                                     ) -> list[Notification]:
    before = await mapper.enforcement_before(envelope)
    id = envelope.aggregate_id
    event = envelope.event
    status = event.name
    mapper.enforcements.pop(id)  # processed and disabled are final
    payload = {**_enforcement_fields(id, before.created, status),
               "old_status": before.status, "updated": event.at.isoformat()}
    if isinstance(event, EnforcementProcessed):
        payload["execution_id"] = event.execution_id
    elif isinstance(event, EnforcementDisabled):
        payload["reason"] = event.reason
    return [_notification("enforcement_status_changed", id, envelope, payload,
                          trigger_ref=before.created.trigger_ref)]


def _enforcement_fields(id: int, created: EnforcementCreated, status: str) -> dict[str, Any]:
    return {"id": id, "rule_ref": created.rule_ref, "trigger_ref": created.trigger_ref,
            "event_id": created.event_id, "action_ref": created.action_ref,
            "status": status, "condition": created.condition,
            "has_payload": bool(created.payload)}


# -- rules -----------------------------------------------------------------------------

async def rule_lifecycle_changed(mapper: Mapper, envelope: Envelope) -> list[Notification]:
    """As the original sends sensors: `{event_type: rule.created|rule.updated|
    rule.enabled|rule.disabled|rule.deleted, rule_id, rule_ref, trigger_ref,
    trigger_params, active, timestamp}` (plus the action and pack)."""
    before = await mapper.rule_before(envelope)
    after = _rule_after(before, envelope)
    if after.component is None:
        mapper.rules.pop(envelope.ref)
    else:
        mapper.rules.put(envelope.ref, after)
    event = envelope.event
    seen = after.component or before.component
    if seen is None:
        return []  # an event about a rule that does not exist: nothing to tell
    rule = seen.definition
    if isinstance(event, RULE.defined):
        event_type = "rule.created" if event.created else "rule.updated"
    else:
        event_type = f"rule.{event.name}"
    active = after.component is not None and after.component.definition.enabled
    payload = {"event_type": event_type, "rule_id": after.id, "rule_ref": rule.ref,
               "trigger_ref": rule.trigger_ref, "trigger_params": rule.trigger_params,
               "action_ref": rule.action_ref, "pack_ref": rule.pack_ref,
               "enabled": rule.enabled and after.component is not None, "active": active,
               "timestamp": event.at.isoformat()}
    return [_notification("rule_lifecycle_changed", after.id, envelope, payload,
                          trigger_ref=rule.trigger_ref,
                          target_row={"ref": rule.ref, "pack_ref": rule.pack_ref})]


MAPPERS: dict[str, MapFn] = {
    "execution.requested": execution_created,
    **{f"execution.{name}": execution_status_changed
       for name in ("queued", "scheduled", "started", "completed", "failed", "abandoned",
                    "cancel_requested", "cancelled", "timed_out")},
    "event.created": event_created,
    "enforcement.created": enforcement_created,
    "enforcement.processed": enforcement_status_changed,
    "enforcement.disabled": enforcement_status_changed,
    **{f"rule.{name}": rule_lifecycle_changed
       for name in ("defined", "enabled", "disabled", "deleted")},
}
# workflows and inquiries (their own module; imported here, after `MapFn` exists)
from attune.notifier.workflow_mapping import WORKFLOW_MAPPERS  # noqa: E402

MAPPERS.update(WORKFLOW_MAPPERS)
