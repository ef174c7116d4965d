"""The enforcer sees actions as of the event's stream position, as it sees rules: its
rule book follows the actions, so no PostgreSQL read happens per matched rule."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from attune.app import catalog, packs
from attune.domain import catalog as lifecycle
from attune.domain.action import ACTION
from attune.eventstore.envelope import Meta
from attune.eventstore.store import EVENTS_STREAM
from tests.conftest import eventually, start_platform, stop_platform
from tests.test_enforcer import RULES, emit, rows, write_pack


async def test_the_enforcer_follows_action_changes(ctx, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    running = await start_platform(ctx, ("executor", "projector"))
    try:
        await packs.register(ctx, write_pack(tmp_path / "flows", {"always": RULES["always"]}),
                             meta=Meta.new())

        async def resolved(event_id: int) -> list[Any]:
            return await rows(ctx, "SELECT status, reason, execution_id FROM enforcements "
                              "WHERE event_id=$1 AND status <> 'created'", event_id)
        await catalog.execute(ctx, ACTION, "core.noop", lifecycle.Disable(), meta=Meta.new())
        refused = await emit(ctx, {}, key="refused")
        [first] = await eventually(lambda: resolved(refused))
        assert first["status"] == "disabled"
        assert "'core.noop' is disabled" in first["reason"]
        assert first["execution_id"] is None

        await catalog.execute(ctx, ACTION, "core.noop", lifecycle.Enable(), meta=Meta.new())
        accepted = await emit(ctx, {}, key="accepted")
        [second] = await eventually(lambda: resolved(accepted))
        assert second["status"] == "processed" and second["execution_id"]
    finally:
        await stop_platform(running)


async def test_many_concurrent_events_each_enforce_once(ctx, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Events handled concurrently share the rule book's position checks: the first
    ones wait for the rule registered just before them, and each enforces once."""
    running = await start_platform(ctx, ("executor", "projector"))
    try:
        await packs.register(ctx, write_pack(tmp_path / "flows", {"always": RULES["always"]}),
                             meta=Meta.new())
        events = [await emit(ctx, {}, key=f"e{i}") for i in range(60)]

        async def handled_all() -> bool:
            info = await ctx.nc.jetstream().consumer_info(EVENTS_STREAM, "enforcer")
            return bool(info.ack_floor.stream_seq >= events[-1])
        await eventually(handled_all)

        async def all_resolved() -> list[Any]:
            found = await rows(ctx, "SELECT event_id, execution_id FROM enforcements WHERE "
                               "status = 'processed' AND event_id = ANY($1)", events)
            return found if len(found) >= len(events) else []
        found = await eventually(all_resolved)
        assert sorted(r["event_id"] for r in found) == events
        assert len({r["execution_id"] for r in found}) == len(events)
    finally:
        await stop_platform(running)
