"""The "sensor" service: a timer per enabled rule of a core timer trigger.

    rules read model + rule events (RuleFeed)  ->  plans  ->  one RuleTimer task per plan

A rule's timer starts, stops or restarts as soon as its event is read from the stream
(create, update, enable, disable, delete). Rules whose `trigger_params` are invalid are
logged and skipped. Several replicas may run: each rule's timer is leased, so every
tick fires once (see `attune.sensor.timer` and README.md).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter
from datetime import datetime
from uuid import uuid4

import attune.log as log
from attune.app.context import Context
from attune.errors import ValidationError
from attune.sensor import schedule
from attune.sensor.keys import timer_key
from attune.sensor.ledger import TIMERS_BUCKET, Ledger
from attune.sensor.rulefeed import RuleFeed, RuleView
from attune.sensor.timer import RuleTimer, TimerPlan, Timing

_log = log.get("sensor")


def plan_for(view: RuleView | None) -> TimerPlan | None:
    """The timer an (enabled, valid) timer rule needs; None for any other rule. Raises
    ValidationError for a timer rule with bad `trigger_params`."""
    if view is None or not view.definition.enabled:
        return None
    rule = view.definition
    if rule.trigger_ref not in schedule.TIMER_TRIGGERS:
        return None
    spec = schedule.parse(rule.trigger_ref, rule.trigger_params)
    return TimerPlan(rule_ref=rule.ref, trigger_ref=rule.trigger_ref, spec=spec,
                     created=view.created, start=view.updated)


class TimerSensor:
    def __init__(self, ctx: Context, *, replica: str | None = None,
                 timing: Timing | None = None) -> None:
        self.ctx = ctx
        self.replica = replica or f"sensor-{uuid4().hex[:12]}"
        self.timing = timing or Timing()
        self.timers: dict[str, tuple[TimerPlan, asyncio.Task[None]]] = {}
        #: Ticks this replica fired, per rule ref (for operators' logs and tests).
        self.fired: Counter[str] = Counter()
        #: Set once the rules of the read model have their timers (then the stream follows).
        self.ready = asyncio.Event()
        self._ledger: Ledger | None = None

    async def run(self, stop: asyncio.Event) -> None:
        feed = RuleFeed(self.ctx.nc, self.ctx.pool)
        with log.bound(replica=self.replica):
            try:
                if not await self._start(feed, stop):
                    return
                _log.info("sensor.started", timers=len(self.timers), position=feed.position)
                self.ready.set()
                await feed.follow(stop, self.on_change)
            finally:
                await self._stop_all()
                _log.info("sensor.stopped")

    async def _start(self, feed: RuleFeed, stop: asyncio.Event) -> bool:
        """Open the ledger and give the read model's rules their timers; retried while
        NATS or PostgreSQL are unavailable (False: stopped meanwhile)."""
        backoff = 0.2
        while not stop.is_set():
            try:
                self._ledger = Ledger(await self.ctx.store.js.key_value(TIMERS_BUCKET))
                rules = await feed.snapshot()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                _log.warning("sensor.start_failed", error=repr(exc))
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(stop.wait(), backoff)
                backoff = min(backoff * 2, 5.0)
                continue
            for view in rules.values():
                await self.on_change(view.ref, None, view)
            return True
        return False

    async def on_change(self, ref: str, before: RuleView | None, after: RuleView | None
                        ) -> None:
        try:
            plan = plan_for(after)
        except ValidationError as exc:
            _log.error("sensor.rule_skipped", rule_ref=ref, error=exc.message,
                       hint="fix the rule's trigger_params")
            plan = None
        except Exception as exc:  # a bug must cost one rule its timer, not the service
            _log.error("sensor.rule_skipped", rule_ref=ref, error=repr(exc), exc_info=exc)
            plan = None
        current = self.timers.get(ref)
        if current is not None and current[0] == plan:
            return
        if current is not None:
            await self._stop(ref)
        if plan is not None:
            self._start_timer(plan)
        if after is None and before is not None and \
                before.definition.trigger_ref in schedule.TIMER_TRIGGERS:
            assert self._ledger is not None
            with contextlib.suppress(Exception):  # a leftover entry is harmless (per incarnation)
                await self._ledger.forget(timer_key(ref), rule_created=before.created)

    def _start_timer(self, plan: TimerPlan) -> None:
        assert self._ledger is not None
        timer = RuleTimer(plan, store=self.ctx.store, owner=self.replica,
                          ledger=self._ledger, clock=self.ctx.clock, timing=self.timing,
                          on_fired=self._count)
        self.timers[plan.rule_ref] = (plan, asyncio.create_task(timer.run()))
        _log.info("sensor.timer_started", rule_ref=plan.rule_ref, trigger_ref=plan.trigger_ref)

    async def _stop(self, ref: str) -> None:
        """Cancel the timer and wait for it to release its lease."""
        _, task = self.timers.pop(ref)
        task.cancel()
        await asyncio.wait([task])  # the task's own outcome is not ours to raise
        _log.info("sensor.timer_stopped", rule_ref=ref)

    async def _stop_all(self) -> None:
        tasks = [task for _, task in self.timers.values()]
        self.timers.clear()
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks)

    def _count(self, plan: TimerPlan, scheduled: datetime) -> None:
        self.fired[plan.rule_ref] += 1
