"""One rule's timer: hold its lease, wait for the next tick, fire it exactly once.

    acquire the lease (or retry every `acquire_every` s while another replica holds it)
    read the ledger: the last tick fired by this incarnation of the rule
    loop: tick = schedule.due(...)          (a missed tick is due at once)
          sleep until the tick, renewing the lease every `renew_every` s
          renew once more (the fence), append the event, record the tick in the ledger

Exactly once: only the lease holder fires; the event's msg id is derived from (rule,
incarnation, scheduled time), so a tick appended twice anyway (a holder that stalled
past the TTL between append and ledger write) is stored once by JetStream; the ledger
makes the next holder continue after the last tick instead of repeating it.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import attune.log as log
from attune.domain.trigger_event import EventCreated
from attune.errors import ConcurrencyError
from attune.eventstore.envelope import Meta
from attune.eventstore.lease import Lease
from attune.eventstore.store import EventStore
from attune.sensor import schedule
from attune.sensor.keys import timer_key
from attune.sensor.ledger import Ledger, TimerRecord

_log = log.get("sensor.timer")
#: The original's name of the sensor behind the core timers (payload `sensor_ref`).
SENSOR_REF = "core.timer_sensor"


@dataclass(frozen=True)
class TimerPlan:
    """What a rule's timer does; a change of any field restarts it."""

    rule_ref: str
    trigger_ref: str
    spec: schedule.TimerSpec
    #: The rule incarnation's creation (ledger entries and event ids are per incarnation).
    created: datetime
    #: Where the schedule starts: the rule's last change.
    start: datetime

    @property
    def key(self) -> str:
        return timer_key(self.rule_ref)

    def instance_id(self, scheduled: datetime) -> str:
        """The event's deterministic id for the tick scheduled at `scheduled`."""
        return (f"timer:{self.rule_ref}:{schedule.iso(self.created)}:"
                f"{schedule.iso(scheduled)}")


@dataclass(frozen=True)
class Timing:
    acquire_every: float = 2.0
    renew_every: float = 10.0
    retry_after: float = 1.0


Fired = Callable[[TimerPlan, datetime], None]


class RuleTimer:
    def __init__(self, plan: TimerPlan, *, store: EventStore, owner: str, ledger: Ledger,
                 clock: Callable[[], datetime], timing: Timing, on_fired: Fired) -> None:
        self.plan = plan
        self.store = store
        self.lease = Lease(store.js, plan.key, owner=owner)
        self.ledger = ledger
        self.clock = clock
        self.timing = timing
        self.on_fired = on_fired
        self.renewed = 0.0
        self.last: datetime | None = None
        self.count = 0
        self.ledger_revision: int | None = None  # None: read it before deciding

    async def run(self) -> None:
        """Until cancelled, or until the timer has nothing left to fire."""
        with log.bound(rule_ref=self.plan.rule_ref, trigger_ref=self.plan.trigger_ref):
            try:
                while True:
                    try:
                        if not await self._step():
                            return
                    except asyncio.CancelledError:
                        raise
                    except Exception as exc:
                        # NATS restarting, a lost race on the ledger: re-read, go on
                        _log.warning("sensor.timer.retry", error=repr(exc))
                        self.ledger_revision = None
                        await asyncio.sleep(self.timing.retry_after)
            finally:
                # at once, so another replica need not wait for the TTL
                await self.lease.release()

    async def _step(self) -> bool:
        """One decision; False when the timer is finished."""
        if not self.lease.held:
            if not await self.lease.hold():
                await asyncio.sleep(self.timing.acquire_every * random.uniform(0.5, 1.0))
                return True
            self.renewed = _monotonic()
            self.ledger_revision = None  # another replica may have fired meanwhile
        if self.ledger_revision is None:
            await self._read_ledger()
        now = self.clock()
        tick = schedule.due(self.plan.spec, start=self.plan.start, last=self.last, now=now)
        if tick is None:
            _log.info("sensor.timer.finished", last=self.last)
            return False
        renew_in = self.timing.renew_every - (_monotonic() - self.renewed)
        wait = (tick - now).total_seconds()
        if wait > 0 and renew_in > 0:
            await asyncio.sleep(min(wait, renew_in))
            return True
        # the lease is renewed when it is due, and always right before a tick (the fence)
        if not await self.lease.hold():
            return True  # lost (logged by the lease): wait to acquire it again
        self.renewed = _monotonic()
        if wait <= 0:
            await self._fire(tick)
        return True

    async def _read_ledger(self) -> None:
        record, revision = await self.ledger.read(self.plan.key)
        if record is not None and record.rule_created == self.plan.created:
            self.last, self.count = record.last, record.count
        else:
            self.last, self.count = None, 0
        self.ledger_revision = revision

    async def _fire(self, tick: datetime) -> None:
        plan, executed = self.plan, self.clock()
        count = self.count + 1
        instance = plan.instance_id(tick)
        event = EventCreated(
            at=executed, trigger_ref=plan.trigger_ref, source="timer",
            source_ref=plan.rule_ref, rule_ref=plan.rule_ref, trigger_instance_id=instance,
            payload=schedule.payload(plan.spec, scheduled=tick, executed=executed,
                                     count=count, sensor_ref=SENSOR_REF))
        seq = await self.store.create(event, msg_id=instance, meta=Meta.new())
        assert self.ledger_revision is not None
        try:
            self.ledger_revision = await self.ledger.write(
                plan.key, TimerRecord(rule_created=plan.created, last=tick, count=count),
                revision=self.ledger_revision)
        except ConcurrencyError:
            # someone wrote the ledger although we held the lease: trust neither, re-read
            self.ledger_revision = None
            raise
        self.last, self.count = tick, count
        _log.info("sensor.timer.fired", scheduled_at=schedule.iso(tick), event_id=seq,
                  count=count)
        self.on_fired(plan, tick)


def _monotonic() -> float:
    return asyncio.get_running_loop().time()
