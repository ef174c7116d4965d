"""Timer sensor replicas and restarts: leases, the ledger, missed ticks, and the whole
path timer -> event -> enforcement -> execution (real NATS + PostgreSQL)."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import datetime, timedelta
from itertools import pairwise
from pathlib import Path

from attune.app import packs
from attune.app.context import Context
from attune.eventstore.envelope import Meta
from attune.eventstore.lease import Lease
from attune.sensor.keys import timer_key
from tests.conftest import eventually, start_platform, stop_platform
from tests.test_timer_sensor import (
    SECOND,
    RunningSensor,
    at_least,
    define,
    events,
    projector,
    scheduled,
    start_sensor,
    stop_sensor,
)

#: The TTL of the attune_leases bucket (streams/streams.yaml).
LEASE_TTL = 30.0


def total_fired(ref: str, *sensors: RunningSensor) -> int:
    return sum(s.sensor.fired[ref] for s in sensors)


async def test_two_replicas_fire_each_tick_once_and_take_over(ctx: Context) -> None:
    platform = await projector(ctx)
    first = await start_sensor(ctx, "replica-a")
    second = await start_sensor(ctx, "replica-b")
    third: RunningSensor | None = None
    try:
        ref = await define(ctx, "shared", "core.intervaltimer", {"interval": 1})
        await at_least(ctx, ref, 4)
        # one replica holds the lease, the other waits
        holder = first if first.sensor.fired[ref] else second
        standby = second if holder is first else first
        assert standby.sensor.fired[ref] == 0

        # the holder stops (releasing its lease): the other one continues the schedule
        await stop_sensor(holder)
        async def taken_over() -> bool:
            return standby.sensor.fired[ref] >= 2
        await eventually(taken_over)
        # a new replica joins and the one holding stops: still no tick twice
        third = await start_sensor(ctx, "replica-c")
        await stop_sensor(standby)
        async def third_fires() -> bool:
            assert third is not None
            return third.sensor.fired[ref] >= 2
        await eventually(third_fires)
        await stop_sensor(third)

        fired = total_fired(ref, first, second, third)
        async def all_recorded() -> bool:
            return len(await events(ctx, ref)) == fired
        await eventually(all_recorded)
        times = scheduled(await events(ctx, ref))
        # every attempt was a new tick (none deduplicated by the msg id), each tick once
        assert len(set(times)) == len(times) == fired
        # takeovers are quick here (released leases): at most a few seconds skipped
        assert all(SECOND <= b - a <= 10 * SECOND for a, b in pairwise(times))
    finally:
        for running in (first, second, third):
            if running is not None and not running.task.done():
                await stop_sensor(running)
        await stop_platform(platform)


async def test_a_lease_held_elsewhere_blocks_the_timer_until_released(ctx: Context) -> None:
    platform = await projector(ctx)
    ref = await define(ctx, "contested", "core.intervaltimer", {"interval": 1})
    ghost = Lease(ctx.store.js, timer_key(ref), owner="ghost-replica")
    assert await ghost.hold()
    running = await start_sensor(ctx)
    try:
        for _ in range(4):  # the ghost keeps renewing: the sensor must stay silent
            await asyncio.sleep(0.5)
            assert await ghost.hold()
        assert running.sensor.fired[ref] == 0
        assert await events(ctx, ref) == []
        await ghost.release()
        await at_least(ctx, ref, 2)
    finally:
        await stop_sensor(running)
        await stop_platform(platform)


async def test_a_dead_holders_lease_expires_and_the_timer_moves_on(ctx: Context) -> None:
    """A replica that dies without releasing: its lease lapses after the bucket's TTL
    (30 s) and a live replica takes the timer over."""
    platform = await projector(ctx)
    ref = await define(ctx, "orphaned", "core.intervaltimer", {"interval": 1})
    dead = Lease(ctx.store.js, timer_key(ref), owner="dead-replica")
    assert await dead.hold()  # ...and never renewed nor released
    died = asyncio.get_running_loop().time()
    running = await start_sensor(ctx)
    try:
        async def fired() -> int:
            return running.sensor.fired[ref]
        await eventually(fired, timeout=LEASE_TTL + 15)
        assert asyncio.get_running_loop().time() - died >= LEASE_TTL - 1
        await at_least(ctx, ref, 2)
    finally:
        await stop_sensor(running)
        await stop_platform(platform)


async def test_past_datetime_fires_once_also_after_restarts_days_later(ctx: Context) -> None:
    platform = await projector(ctx)
    running = await start_sensor(ctx)
    try:
        ref = await define(ctx, "long_ago", "core.datetimetimer",
                           {"fire_at": "2020-06-01T08:00:00", "timezone": "Europe/Paris"})
        rows = await at_least(ctx, ref, 1)
        payload = rows[0]["payload"]
        assert payload["scheduled_at"] == payload["fire_at"] == "2020-06-01T06:00:00.000000Z"
        assert payload["type"] == "datetime" and payload["delay_ms"] > 0
        await eventually(lambda: _finished(running, ref))
    finally:
        await stop_sensor(running)

    # restarted three days later (past JetStream's 2 h duplicate window): the ledger
    # knows it fired, so the new sensor does not even try
    later = replace(ctx, clock=lambda: ctx.clock() + timedelta(days=3))
    for replica in ("after-restart", "another-replica"):
        again = await start_sensor(later, replica)
        try:
            await eventually(lambda: _finished(again, ref))  # noqa: B023
            assert again.sensor.fired[ref] == 0
        finally:
            await stop_sensor(again)
    assert len(await events(ctx, ref)) == 1
    await stop_platform(platform)


async def test_future_datetime_fires_at_its_time_once(ctx: Context) -> None:
    platform = await projector(ctx)
    running = await start_sensor(ctx)
    try:
        fire_at = (ctx.clock() + 2 * SECOND).replace(microsecond=0)
        ref = await define(ctx, "soon", "core.datetimetimer", {"fire_at": fire_at.isoformat()})
        rows = await at_least(ctx, ref, 1)
        assert scheduled(rows) == [fire_at]
        assert datetime.fromisoformat(rows[0]["payload"]["executed_at"]) >= fire_at
        await eventually(lambda: _finished(running, ref))
        assert running.sensor.fired[ref] == 1
    finally:
        await stop_sensor(running)
        await stop_platform(platform)


async def _finished(running: RunningSensor, ref: str) -> bool:
    entry = running.sensor.timers.get(ref)
    return entry is not None and entry[1].done()


async def test_after_downtime_only_the_latest_missed_tick_fires(ctx: Context) -> None:
    platform = await projector(ctx)
    running = await start_sensor(ctx)
    ref = await define(ctx, "patient", "core.intervaltimer", {"interval": 1})
    try:
        await at_least(ctx, ref, 2)
    finally:
        await stop_sensor(running)
    async def settled() -> list[datetime]:
        rows = await events(ctx, ref)
        return scheduled(rows) if len(rows) == running.sensor.fired[ref] else []
    before = await eventually(settled)
    await asyncio.sleep(3.5)  # down: at least 3 ticks are missed

    restarted = await start_sensor(ctx)
    try:
        rows = await at_least(ctx, ref, len(before) + 3)
        after = scheduled(rows)[len(before):]
        # one catch-up tick for the whole gap (not one per missed tick)...
        assert after[0] - before[-1] >= 3 * SECOND
        assert (after[0] - before[-1]) % SECOND == timedelta(0)
        # ...then on schedule again
        assert after[1] - after[0] == SECOND and after[2] - after[1] == SECOND
        counts = [r["payload"]["execution_count"] for r in rows]
        assert counts == list(range(1, len(rows) + 1))
    finally:
        await stop_sensor(restarted)
        await stop_platform(platform)


TICK_RULE = """
name: tick
trigger_ref: core.intervaltimer
trigger_params: {unit: seconds, interval: 1}
action_ref: core.echo
action_params:
  message: "tick {{ event.payload.execution_count }}"
"""


async def test_interval_timer_to_completed_executions(ctx: Context, tmp_path: Path) -> None:
    """interval 1 s -> 3 events -> 3 enforcements -> 3 completed core.echo executions."""
    pack = tmp_path / "ticks"
    (pack / "rules").mkdir(parents=True)
    (pack / "pack.yaml").write_text("ref: ticks\nversion: 1.0.0\n")
    (pack / "rules" / "tick.yaml").write_text(TICK_RULE)
    running = await start_platform(ctx, ("executor", "worker", "projector", "sensor"))
    try:
        await packs.register(ctx, pack, meta=Meta.new())

        async def completed() -> list[dict[str, object]]:
            rows = await ctx.pool.fetch(
                "SELECT x.id, x.event_id, x.enforcement, x.result FROM executions x "
                "WHERE x.rule_ref = 'ticks.tick' AND x.status = 'completed' "
                "ORDER BY x.event_id LIMIT 3")
            return [dict(r) for r in rows] if len(rows) == 3 else []
        done = await eventually(completed, timeout=30)
        assert [r["result"]["stdout"] for r in done] == [  # type: ignore[index]
            "tick 1\n", "tick 2\n", "tick 3\n"]
        event_ids = [r["event_id"] for r in done]
        events_rows = await ctx.pool.fetch(
            "SELECT id, trigger_ref, source FROM events WHERE id = ANY($1::bigint[])",
            event_ids)
        assert {(r["trigger_ref"], r["source"]) for r in events_rows} == {
            ("core.intervaltimer", "timer")}
        async def enforced() -> list[dict[str, object]]:
            rows = await ctx.pool.fetch(
                "SELECT id, event_id, status, execution_id FROM enforcements "
                "WHERE rule_ref = 'ticks.tick' AND event_id = ANY($1::bigint[]) "
                "AND status = 'processed' ORDER BY event_id", event_ids)
            return [dict(r) for r in rows] if len(rows) == 3 else []
        enforcements = await eventually(enforced)
        # exactly one enforcement per event, linked both ways to its execution
        assert [r["event_id"] for r in enforcements] == event_ids
        assert [r["id"] for r in enforcements] == [r["enforcement"] for r in done]
        assert [r["execution_id"] for r in enforcements] == [r["id"] for r in done]
    finally:
        await stop_platform(running)
