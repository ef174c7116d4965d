"""The timer sensor against real NATS and PostgreSQL: rules in, timer events out."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import pairwise
from typing import Any

from attune.app import catalog
from attune.app.context import Context
from attune.domain import catalog as lifecycle
from attune.domain.rule import RULE, RuleDef
from attune.eventstore.envelope import Meta
from attune.sensor.keys import timer_key
from attune.sensor.ledger import TIMERS_BUCKET, Ledger
from attune.sensor.service import TimerSensor
from attune.sensor.timer import Timing
from tests.conftest import RunningPlatform, eventually, start_platform, stop_platform

#: Quick takeover so the replica tests stay short (the defaults are 2 s and 10 s).
FAST = Timing(acquire_every=0.4, renew_every=5.0, retry_after=0.2)
SECOND = timedelta(seconds=1)


@dataclass
class RunningSensor:
    sensor: TimerSensor
    stop: asyncio.Event
    task: asyncio.Task[None]


async def start_sensor(ctx: Context, replica: str | None = None) -> RunningSensor:
    sensor = TimerSensor(ctx, replica=replica, timing=FAST)
    stop = asyncio.Event()
    running = RunningSensor(sensor, stop, asyncio.create_task(sensor.run(stop)))
    await asyncio.wait_for(sensor.ready.wait(), 20)
    return running


async def stop_sensor(running: RunningSensor) -> None:
    running.stop.set()
    await asyncio.wait_for(running.task, 20)


async def projector(ctx: Context) -> RunningPlatform:
    """The read models (events are counted in the `events` table); seeds the core pack."""
    return await start_platform(ctx, ("projector",))


async def define(ctx: Context, name: str, trigger: str, params: dict[str, Any], *,
                 enabled: bool = True) -> str:
    rule = RuleDef(ref=f"timers.{name}", pack_ref="timers", label=name, trigger_ref=trigger,
                   action_ref="core.noop", trigger_params=params, enabled=enabled)
    await catalog.execute(ctx, RULE, rule.ref,
                          lifecycle.Define(definition=rule, source="api"), meta=Meta.new())
    return rule.ref


async def command(ctx: Context, ref: str, what: lifecycle.Enable | lifecycle.Disable
                  | lifecycle.Delete) -> None:
    await catalog.execute(ctx, RULE, ref, what, meta=Meta.new())


async def events(ctx: Context, ref: str) -> list[dict[str, Any]]:
    rows = await ctx.pool.fetch(
        "SELECT trigger_ref, payload, source, source_ref, rule_ref, trigger_instance_id "
        "FROM events WHERE rule_ref = $1 ORDER BY payload->>'scheduled_at'", ref)
    return [dict(r) for r in rows]


async def at_least(ctx: Context, ref: str, count: int) -> list[dict[str, Any]]:
    async def probe() -> list[dict[str, Any]]:
        found = await events(ctx, ref)
        return found if len(found) >= count else []
    return await eventually(probe)  # type: ignore[no-any-return]


def _time(text: str) -> datetime:
    return datetime.fromisoformat(text)


def scheduled(rows: list[dict[str, Any]]) -> list[datetime]:
    return [_time(r["payload"]["scheduled_at"]) for r in rows]


async def rule_updated(ctx: Context, ref: str) -> datetime:
    async def probe() -> datetime | None:
        return await ctx.pool.fetchval("SELECT updated FROM rules WHERE ref = $1", ref)
    return await eventually(probe)  # type: ignore[no-any-return]


async def quiet(ctx: Context, running: RunningSensor, ref: str) -> None:
    """The rule's timer is gone and fires nothing more; every tick it fired is recorded."""
    await eventually(lambda: _no_timer(running, ref))
    fired = running.sensor.fired[ref]
    await asyncio.sleep(2.5)
    assert running.sensor.fired[ref] == fired
    await eventually(lambda: _count_is(ctx, ref, fired))


async def _no_timer(running: RunningSensor, ref: str) -> bool:
    return ref not in running.sensor.timers


async def _count_is(ctx: Context, ref: str, count: int) -> bool:
    return len(await events(ctx, ref)) == count


# --- tests -----------------------------------------------------------------------------

async def test_interval_timer_fires_every_second(ctx: Context) -> None:
    platform = await projector(ctx)
    running = await start_sensor(ctx)
    try:
        ref = await define(ctx, "every_second", "core.intervaltimer",
                           {"unit": "seconds", "interval": 1})
        rows = await at_least(ctx, ref, 3)
        times = scheduled(rows)[:3]
        # the schedule starts at the rule's creation, one interval later, then every second
        assert times[0] == await rule_updated(ctx, ref) + SECOND
        assert [b - a for a, b in pairwise(times)] == [SECOND, SECOND]
        for row in rows[:3]:
            assert row["trigger_ref"] == "core.intervaltimer"
            assert (row["source"], row["source_ref"], row["rule_ref"]) == ("timer", ref, ref)
            payload = row["payload"]
            assert _time(payload["executed_at"]) >= _time(payload["scheduled_at"])
            assert payload["scheduled_at"].endswith("Z")
            assert (payload["type"], payload["interval_seconds"]) == ("interval", 1)
        assert [r["payload"]["execution_count"] for r in rows[:3]] == [1, 2, 3]
        assert len({r["trigger_instance_id"] for r in rows}) == len(rows)
    finally:
        await stop_sensor(running)
        await stop_platform(platform)


async def test_cron_with_seconds_fires_on_those_seconds(ctx: Context) -> None:
    platform = await projector(ctx)
    running = await start_sensor(ctx)
    try:
        ref = await define(ctx, "even_seconds", "core.crontimer",
                           {"expression": "*/2 * * * * *", "timezone": "Europe/Paris"})
        rows = await at_least(ctx, ref, 3)
        times = scheduled(rows)[:3]
        assert all(t.second % 2 == 0 and t.microsecond == 0 for t in times), times
        assert [b - a for a, b in pairwise(times)] == [2 * SECOND] * 2
        assert times[0] > await rule_updated(ctx, ref)
        for row in rows[:3]:
            payload = row["payload"]
            assert _time(payload["executed_at"]) >= _time(payload["scheduled_at"])
            assert payload["expression"] == "*/2 * * * * *"
            nxt = datetime.fromisoformat(payload["next_fire_at"])
            assert nxt - datetime.fromisoformat(payload["scheduled_at"]) == 2 * SECOND
    finally:
        await stop_sensor(running)
        await stop_platform(platform)


async def test_disable_stops_the_timer_enable_resumes_delete_stops(ctx: Context) -> None:
    platform = await projector(ctx)
    running = await start_sensor(ctx)
    try:
        ref = await define(ctx, "toggled", "core.intervaltimer", {"interval": 1})
        await at_least(ctx, ref, 2)

        await command(ctx, ref, lifecycle.Disable())
        await quiet(ctx, running, ref)
        before = len(await events(ctx, ref))

        await command(ctx, ref, lifecycle.Enable())
        enabled_at = await _enabled_at(ctx, ref)
        rows = await at_least(ctx, ref, before + 2)
        resumed = scheduled(rows)[before:]
        # nothing is owed for the disabled time: the schedule restarts at the enabling
        assert resumed[0] == enabled_at + SECOND

        # an update restarts the timer with the new parameters
        await define(ctx, "toggled", "core.intervaltimer", {"interval": 2})
        changed_at = await _changed_after(ctx, ref, enabled_at)
        count = len(await events(ctx, ref))
        rows = await at_least(ctx, ref, count + 2)
        later = [t for t in scheduled(rows) if t > changed_at]
        assert later[:2] == [changed_at + 2 * SECOND, changed_at + 4 * SECOND]

        await command(ctx, ref, lifecycle.Delete())
        await quiet(ctx, running, ref)
        # its ledger entry went with it
        ledger = Ledger(await ctx.store.js.key_value(TIMERS_BUCKET))
        assert await ledger.read(timer_key(ref)) == (None, 0)
        assert not running.task.done()
    finally:
        await stop_sensor(running)
        await stop_platform(platform)


async def _enabled_at(ctx: Context, ref: str) -> datetime:
    async def probe() -> datetime | None:
        return await ctx.pool.fetchval(
            "SELECT updated FROM rules WHERE ref = $1 AND enabled", ref)
    return await eventually(probe)  # type: ignore[no-any-return]


async def _changed_after(ctx: Context, ref: str, after: datetime) -> datetime:
    async def probe() -> datetime | None:
        return await ctx.pool.fetchval(
            "SELECT updated FROM rules WHERE ref = $1 AND updated > $2 "
            "AND definition->'trigger_params'->>'interval' = '2'", ref, after)
    return await eventually(probe)  # type: ignore[no-any-return]


async def test_a_rule_with_bad_params_is_skipped_and_the_others_run(ctx: Context) -> None:
    platform = await projector(ctx)
    running = await start_sensor(ctx)
    try:
        bad = await define(ctx, "bad", "core.crontimer", {"expression": "every monday"})
        worse = await define(ctx, "worse", "core.intervaltimer", {"interval": 0})
        good = await define(ctx, "good", "core.intervaltimer", {"interval": 1})
        await at_least(ctx, good, 2)
        assert bad not in running.sensor.timers and worse not in running.sensor.timers
        assert await events(ctx, bad) == [] and await events(ctx, worse) == []
        assert not running.task.done()
        # fixing the rule starts its timer
        await define(ctx, "bad", "core.crontimer", {"expression": "* * * * * *"})
        await at_least(ctx, bad, 1)
    finally:
        await stop_sensor(running)
        await stop_platform(platform)


async def test_rules_existing_at_start_get_their_timers(ctx: Context) -> None:
    """The read model is the start; rules created before the sensor runs fire too."""
    platform = await projector(ctx)
    ref = await define(ctx, "early", "core.intervaltimer", {"interval": 1})
    off = await define(ctx, "off", "core.intervaltimer", {"interval": 1}, enabled=False)
    await rule_updated(ctx, off)
    running = await start_sensor(ctx)
    try:
        assert ref in running.sensor.timers and off not in running.sensor.timers
        await at_least(ctx, ref, 2)
    finally:
        await stop_sensor(running)
        await stop_platform(platform)
