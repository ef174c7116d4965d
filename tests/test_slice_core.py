"""The first vertical slice below the API: request -> executor -> worker -> projection."""

from __future__ import annotations

from attune.app import executions
from attune.eventstore.envelope import Meta
from tests.conftest import RunningPlatform, eventually, start_platform, stop_platform


async def _finished(platform: RunningPlatform, execution_id: int):  # type: ignore[no-untyped-def]
    async def probe():  # type: ignore[no-untyped-def]
        row = await platform.ctx.pool.fetchrow("SELECT * FROM executions WHERE id = $1",
                                               execution_id)
        return row if row and row["status"] in ("completed", "failed", "abandoned") else None
    return await eventually(probe)


async def test_echo_runs_end_to_end(ctx) -> None:  # type: ignore[no-untyped-def]
    running = await start_platform(ctx, ("executor", "worker", "projector"))
    try:
        async def core_loaded():  # type: ignore[no-untyped-def]
            return await ctx.pool.fetchval("SELECT count(*) FROM actions WHERE pack_ref='core'")
        await eventually(core_loaded)
        eid = await executions.request(ctx, "core.echo", {"message": "hi there"},
                                       meta=Meta.new())
        row = await _finished(running, eid)
        assert row["status"] == "completed"
        assert row["result"]["stdout"] == "hi there\n"
        assert row["result"]["exit_code"] == 0
        assert row["worker"]
        _, version, envelopes = await executions.load(ctx, eid)
        assert [e.event.type for e in envelopes] == [
            "execution.requested", "execution.scheduled", "execution.started",
            "execution.completed"]
        assert row["version"] == version
    finally:
        await stop_platform(running)
