"""Stream events become the original's notifications: events, enforcements and the
executions rules start, rule lifecycle changes with their trigger parameters; a mapper
that starts mid-stream loads what it did not see (old statuses, rule ids)."""

from __future__ import annotations

from typing import Any

from attune.app import events, executions, rules
from attune.app.context import Context
from attune.domain.execution import Schedule
from attune.eventstore.envelope import Meta
from attune.notifier.mapping import Mapper
from tests.conftest import eventually, start_platform, stop_platform
from tests.notifier_client import admin_token, connect, notifier_up

RULE = "core.notify-on-hook"


def _kinds(frames: list[dict[str, Any]]) -> list[str]:
    return [f["notification_type"] for f in frames]


async def test_rules_events_enforcements_and_their_executions(ctx: Context) -> None:
    running = await start_platform(ctx, ("projector", "executor", "notifier"))
    try:
        await notifier_up(ctx.settings)
        meta = Meta.new(actor="admin")
        await eventually(lambda: ctx.pool.fetchval(
            "SELECT count(*) FROM triggers WHERE ref = 'core.webhook'"))
        async with connect(ctx.settings, await admin_token(ctx)) as client:
            await client.next_of("welcome")
            await client.subscribe("trigger_ref:core.webhook")
            created_at = await rules.create(ctx, {
                "ref": RULE, "trigger_ref": "core.webhook", "action_ref": "core.noop",
                }, meta=meta)
            frame = await client.next_of("notification")
            assert frame["notification_type"] == "rule_lifecycle_changed"
            assert (frame["entity_type"], frame["entity_id"]) == ("rule", created_at)
            payload = frame["payload"]
            assert {k: payload[k] for k in ("event_type", "rule_id", "rule_ref", "trigger_ref",
                                            "trigger_params", "active")} == {
                "event_type": "rule.created", "rule_id": created_at, "rule_ref": RULE,
                "trigger_ref": "core.webhook", "trigger_params": {},
                "active": True}
            assert payload["timestamp"]
            await eventually(lambda: ctx.pool.fetchval(
                "SELECT count(*) FROM rules WHERE ref = $1", RULE))

            event_id = await events.create(ctx, "core.webhook", {"n": 1}, source="api",
                                           meta=meta)
            frames = await client.notifications_until(
                lambda f: f["notification_type"] == "enforcement_status_changed")
            # the executor may schedule the execution before the enforcement's resolution
            frames = [f for f in frames
                      if f["notification_type"] != "execution_status_changed"]
            assert _kinds(frames) == ["event_created", "enforcement_created",
                                      "execution_created", "enforcement_status_changed"]
            event, created, execution, processed = frames
            assert (event["entity_id"], event["payload"]["has_payload"]) == (event_id, True)
            assert "n" not in event["payload"]  # no payload body, as the original
            assert created["payload"]["rule_ref"] == RULE
            assert created["payload"]["event_id"] == event_id
            assert execution["payload"]["rule_ref"] == RULE
            assert execution["payload"]["action_ref"] == "core.noop"
            assert (processed["payload"]["old_status"], processed["payload"]["status"]) == (
                "created", "processed")
            assert processed["payload"]["execution_id"] == execution["entity_id"]

            await rules.set_enabled(ctx, RULE, False, meta=meta)
            await rules.update(ctx, RULE, {"description": "changed"}, meta=meta)
            await rules.delete(ctx, RULE, meta=meta)
            frames = await client.notifications_until(
                lambda f: f["payload"].get("event_type") == "rule.deleted")
            lifecycle = [(f["payload"]["event_type"], f["payload"]["active"],
                          f["payload"]["rule_id"]) for f in frames
                         if f["notification_type"] == "rule_lifecycle_changed"]
            assert lifecycle == [("rule.disabled", False, created_at),
                                 ("rule.updated", False, created_at),
                                 ("rule.deleted", False, created_at)]
    finally:
        await stop_platform(running)


async def test_a_mapper_starting_mid_stream_loads_what_it_did_not_see(ctx: Context) -> None:
    running = await start_platform(ctx, ("projector",))
    try:
        meta = Meta.new(actor="admin")
        await eventually(lambda: ctx.pool.fetchval(
            "SELECT count(*) FROM actions WHERE ref = 'core.noop'"))
        rule_seq = await rules.create(ctx, {
            "ref": RULE, "trigger_ref": "core.webhook", "action_ref": "core.noop"},
            meta=meta)
        execution_id = await executions.request(ctx, "core.noop", {}, meta=meta)
        await executions.handle(ctx, execution_id, Schedule(queue="attune.work.shell"),
                                meta=meta, msg_id=f"test:{execution_id}:scheduled")
        disabled = await rules.set_enabled(ctx, RULE, False, meta=meta)
        scheduled = await ctx.store.read(disabled - 1)
        assert scheduled is not None and scheduled.event.type == "execution.scheduled"

        mapper = Mapper(ctx.store)  # knows nothing of what came before
        [status] = await mapper.map(scheduled)
        assert (status.payload["old_status"], status.payload["status"]) == (
            "requested", "scheduled")
        assert status.entity_id == execution_id
        disabling = await ctx.store.read(disabled)
        assert disabling is not None
        [rule] = await mapper.map(disabling)
        assert (rule.entity_id, rule.payload["event_type"]) == (rule_seq, "rule.disabled")
        assert mapper.loads == 2
        # what it has seen it knows: enabling again needs no load
        enabled = await rules.set_enabled(ctx, RULE, True, meta=meta)
        enabling = await ctx.store.read(enabled)
        assert enabling is not None
        [again] = await mapper.map(enabling)
        assert (again.payload["event_type"], again.payload["active"]) == ("rule.enabled", True)
        assert mapper.loads == 2
    finally:
        await stop_platform(running)
