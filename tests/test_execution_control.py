"""Cancel, timeouts, lost workers and re-runs (real NATS, PostgreSQL and processes)."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path
from typing import Any

from attune.app import executions
from attune.config import Settings
from attune.eventstore.envelope import Meta
from attune.platform import close_context, open_context
from tests.api_http import admin_api, assert_error
from tests.conftest import RunningPlatform, eventually, projected, start_platform, stop_platform
from tests.processes import AttuneProcess, clean_env
from tests.test_cli_commands import Cli


async def status_of(ctx, execution_id: int) -> str | None:  # type: ignore[no-untyped-def]
    return await ctx.pool.fetchval(  # type: ignore[no-any-return]
        "SELECT status FROM executions WHERE id = $1", execution_id)


async def reaches(ctx, execution_id: int, status: str, timeout: float = 20) -> None:  # type: ignore[no-untyped-def]
    async def probe() -> bool:
        return await status_of(ctx, execution_id) == status
    await eventually(probe, timeout=timeout)


async def test_cancel_running_and_finished_and_rerun(platform: RunningPlatform) -> None:
    ctx = platform.ctx
    async with admin_api(platform) as api:
        started = await api.post("/api/v1/executions/execute",
                                 json={"action_ref": "core.sleep",
                                       "parameters": {"seconds": 60, "message": "late"}})
        eid = started.data["id"]
        await reaches(ctx, eid, "running")
        answer = await api.post(f"/api/v1/executions/{eid}/cancel")
        assert answer.status == 200 and answer.data["status"] in ("canceling", "cancelled")
        await reaches(ctx, eid, "cancelled", timeout=15)
        result = await ctx.pool.fetchval("SELECT result FROM executions WHERE id=$1", eid)
        assert result["cancelled"] and result["stdout"] == ""  # stopped before "late"

        again = await api.post(f"/api/v1/executions/{eid}/cancel")
        assert_error(again, 409, "CONFLICT", "cancelled", "cannot cancel")
        assert_error(await api.post("/api/v1/executions/999999/cancel"), 404, "NOT_FOUND")

        rerun = await api.post(f"/api/v1/executions/{eid}/rerun",
                               json={"parameters": {"seconds": 0}})
        assert rerun.status == 201, rerun.body
        new_id = rerun.data["id"]
        await reaches(ctx, new_id, "completed")
        row = await ctx.pool.fetchrow("SELECT rerun_of, parameters, result FROM executions "
                                      "WHERE id=$1", new_id)
        assert row["rerun_of"] == eid
        assert row["parameters"] == {"seconds": 0, "message": "late"}
        assert row["result"]["stdout"] == "late\n"
        bad = await api.post(f"/api/v1/executions/{eid}/rerun",
                             json={"parameters": {"seconds": "x"}})
        assert_error(bad, 422, "VALIDATION_ERROR", "seconds")


async def test_cancel_before_a_worker_takes_it(ctx) -> None:  # type: ignore[no-untyped-def]
    running = await start_platform(ctx, ("executor", "projector"))
    try:
        eid = await executions.request(ctx, "core.echo", {"message": "never"},
                                       meta=Meta.new())
        await reaches(ctx, eid, "scheduled")
        await executions.cancel(ctx, eid, by="admin", meta=Meta.new())
        await reaches(ctx, eid, "cancelled")
    finally:
        await stop_platform(running)
    worker = await start_platform(ctx, ("executor", "worker", "projector"))
    try:
        # the cancelled execution's work item comes first: the worker skips it
        probe = await executions.request(ctx, "core.echo", {"message": "x"}, meta=Meta.new())
        await reaches(ctx, probe, "completed")
        _, _, envelopes = await executions.load(ctx, eid)
        assert [e.event.type for e in envelopes][-1] == "execution.cancelled"
        assert "execution.started" not in [e.event.type for e in envelopes]
    finally:
        await stop_platform(worker)


async def test_timeouts(ctx) -> None:  # type: ignore[no-untyped-def]
    running = await start_platform(ctx, ("executor", "worker", "projector"))
    try:
        eid = await executions.request(ctx, "core.sleep", {"seconds": 30}, meta=Meta.new(),
                                       timeout_seconds=1)
        await reaches(ctx, eid, "timeout", timeout=15)
        result = await ctx.pool.fetchval("SELECT result FROM executions WHERE id=$1", eid)
        assert result["timed_out"] and result["error"] == "timed out after 1 s"
    finally:
        await stop_platform(running)
    waiting = await start_platform(ctx, ("executor", "projector"))  # no worker at all
    try:
        eid = await executions.request(ctx, "core.echo", {}, meta=Meta.new(),
                                       timeout_seconds=1)
        await reaches(ctx, eid, "timeout", timeout=15)
        result = await ctx.pool.fetchval("SELECT result FROM executions WHERE id=$1", eid)
        assert result == {"error": "not started within its timeout"}
    finally:
        await stop_platform(waiting)


async def test_killed_worker_ends_abandoned(settings: Settings, tmp_path: Path) -> None:
    quick = settings.with_(heartbeat_seconds=1.0, worker_stale_seconds=3.0,
                           abandoned_retries=1)
    ctx = await open_context(quick)
    running = await start_platform(ctx, ("executor", "projector"))
    env = clean_env(ATTUNE_NATS_URL=quick.nats_url or "",
                    ATTUNE_DATABASE_URL=quick.database_url or "",
                    ATTUNE_JWT_SECRET=quick.jwt_secret,
                    ATTUNE_ENCRYPTION_KEY=quick.encryption_key,
                    ATTUNE_HEARTBEAT_SECONDS="1", ATTUNE_WORKER_NAME="doomed")
    worker = AttuneProcess.start(["serve", "worker"], env, tmp_path / "logs")
    try:
        eid = await executions.request(ctx, "core.sleep", {"seconds": 5, "message": "again"},
                                       meta=Meta.new())
        await reaches(ctx, eid, "running", timeout=30)
        worker.stop(signal.SIGKILL)
        await reaches(ctx, eid, "abandoned", timeout=30)
        result: Any = await ctx.pool.fetchval("SELECT result FROM executions WHERE id=$1", eid)
        assert "worker doomed stopped sending heartbeats" in result["error"]

        # ATTUNE_ABANDONED_RETRIES=1: run once more, by whichever worker is there
        async def retry() -> Any:
            return await ctx.pool.fetchval("SELECT id FROM executions WHERE rerun_of=$1", eid)
        retry_id = await eventually(retry, timeout=15)
        helper = await start_platform(ctx, ("worker",))
        try:
            await reaches(ctx, retry_id, "completed", timeout=30)
        finally:
            await stop_platform(helper)
        await projected(ctx, await ctx.store.last_sequence())
        assert await ctx.pool.fetchval("SELECT count(*) FROM executions WHERE rerun_of=$1",
                                       eid) == 1
    finally:
        if worker.proc.poll() is None:
            worker.stop(signal.SIGKILL)
        await stop_platform(running)
        await close_context(ctx)
        await asyncio.sleep(0)


async def test_cli_cancel_and_rerun(platform: RunningPlatform, tmp_path: Path) -> None:
    cli = Cli(platform.api_url, tmp_path)
    await cli.login()
    eid = await executions.request(platform.ctx, "core.sleep", {"seconds": 60},
                                   meta=Meta.new())
    await reaches(platform.ctx, eid, "running")
    ran = await cli("execution", "cancel", str(eid))
    assert ran.code == 0, ran
    await reaches(platform.ctx, eid, "cancelled")
    ran = await cli("execution", "rerun", str(eid), "seconds=0", "-o", "json")
    assert ran.code == 0, ran
    new_id = ran.json()["id"]
    await reaches(platform.ctx, new_id, "completed")
    ran = await cli("execution", "cancel", str(eid))
    assert ran.code != 0 and "cannot cancel" in ran.err
    ran = await cli("execution", "rerun", str(eid), "seconds=soon")
    assert ran.code != 0 and "seconds" in ran.err
