"""A workflow survives its executor: stopped while a task's delay timer is pending and
while a child runs, a new executor (cold, nothing in memory) replays the workflow,
fires the overdue timer from the read model and takes the child's ending from the
durable consumer — the workflow completes as if nothing happened."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from attune.app import executions, packs
from attune.eventstore.envelope import Meta
from tests.conftest import eventually, start_platform, stop_platform

FLOW = """
tasks:
  - {name: first, action: core.echo, input: {message: one}, next: [{do: second}]}
  - {name: second, action: core.sleep, input: {seconds: 2}, delay: 1, next: [{do: third}]}
  - {name: third, action: core.echo, input: {message: three}}
output:
  - said: "{{ trim(task.third.stdout) }}"
"""


async def flow_events(ctx: Any, execution_id: int) -> list[str]:
    envelopes, _ = await ctx.store.load("workflow", execution_id)
    return [e.event.type for e in envelopes]


async def tasks_started(ctx: Any, execution_id: int) -> list[str]:
    envelopes, _ = await ctx.store.load("workflow", execution_id)
    return [e.event.task for e in envelopes if e.event.type == "workflow.task_started"]


async def test_workflow_survives_executor_restarts(ctx: Any, tmp_path: Path) -> None:
    root = tmp_path / "wfr"
    (root / "workflows").mkdir(parents=True)
    (root / "pack.yaml").write_text("ref: wfr\nversion: 1.0.0\n")
    (root / "workflows" / "flow.yaml").write_text(FLOW)
    others = await start_platform(ctx, ("worker", "projector"))
    executor = await start_platform(ctx, ("executor",))
    try:
        await packs.register(ctx, root, meta=Meta.new())

        async def loaded() -> Any:
            return await ctx.pool.fetchval("SELECT 1 FROM actions WHERE ref = 'wfr.flow'")
        await eventually(loaded)
        execution_id = await executions.request(ctx, "wfr.flow", {}, meta=Meta.new())

        # stopped while `second` waits on its delay timer
        async def delayed() -> bool:
            return "workflow.task_delayed" in await flow_events(ctx, execution_id)
        await eventually(delayed)
        await stop_platform(executor)
        await asyncio.sleep(1.5)  # the timer falls due while no executor runs
        assert await tasks_started(ctx, execution_id) == ["first"]  # nobody fired it
        executor = await start_platform(ctx, ("executor",))

        # stopped again while `second`'s child sleeps: its ending waits in the stream
        async def second_running() -> Any:
            return await ctx.pool.fetchval(
                "SELECT e.status FROM executions e JOIN workflow_children c ON "
                "c.execution_id = e.id WHERE c.parent = $1 AND c.task = 'second' "
                "AND e.status = 'running'", execution_id)
        await eventually(second_running)
        await stop_platform(executor)
        await asyncio.sleep(2.5)  # the child ends meanwhile
        executor = await start_platform(ctx, ("executor",))

        async def done() -> Any:
            row = await ctx.pool.fetchrow("SELECT status, result FROM executions "
                                          "WHERE id = $1", execution_id)
            return row if row and row["status"] in ("completed", "failed") else None
        row = await eventually(done, timeout=30)
        assert row["status"] == "completed", row["result"]
        assert row["result"]["data"] == {"said": "three"}
        assert await tasks_started(ctx, execution_id) == ["first", "second", "third"]
    finally:
        await stop_platform(executor)
        await stop_platform(others)
