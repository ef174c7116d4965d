"""Workflows run for real: a sequential chain with publish, through the executor,
workers and read models (real NATS and PostgreSQL)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from attune.app import executions, packs
from attune.eventstore.envelope import Meta
from tests.conftest import eventually, start_platform, stop_platform

PACK = "pack.yaml", "ref: wft\nversion: 1.0.0\n"
CHAIN = """
version: "1.0"
parameters:
  who: {type: string, required: true}
tasks:
  - name: greet
    action: core.echo
    input: {message: "hello {{ parameters.who }}"}
    next:
      - when: "{{ succeeded() }}"
        publish: [{greeting: "{{ trim(result().stdout) }}"}]
        do: [shout]
  - name: shout
    action: core.echo
    input: {message: "{{ upper(workflow.greeting) }}"}
    next:
      - publish: [{shouted: "{{ trim(result().stdout) }}"}]
output:
  - greeting: "{{ workflow.greeting }}"
  - shouted: "{{ workflow.shouted }}"
"""


def write_pack(root: Path, workflows: dict[str, str]) -> Path:
    (root / "workflows").mkdir(parents=True)
    (root / PACK[0]).write_text(PACK[1])
    for name, text in workflows.items():
        (root / "workflows" / f"{name}.yaml").write_text(text)
    return root


async def finished(ctx: Any, execution_id: int) -> Any:
    async def probe() -> Any:
        row = await ctx.pool.fetchrow("SELECT * FROM executions WHERE id = $1", execution_id)
        return row if row and row["status"] in ("completed", "failed", "cancelled",
                                                "timeout") else None
    return await eventually(probe, timeout=30)


async def tasks_started(ctx: Any, execution_id: int) -> list[str]:
    envelopes, _ = await ctx.store.load("workflow", execution_id)
    return [e.event.task for e in envelopes if e.event.type == "workflow.task_started"]


async def test_sequential_chain_with_publish(ctx: Any, tmp_path: Path) -> None:
    running = await start_platform(ctx, ("executor", "worker", "projector"))
    try:
        await packs.register(ctx, write_pack(tmp_path / "wft", {"chain": CHAIN}),
                             meta=Meta.new())

        async def loaded() -> Any:
            return await ctx.pool.fetchval("SELECT 1 FROM actions WHERE ref = 'wft.chain'")
        await eventually(loaded)
        eid = await executions.request(ctx, "wft.chain", {"who": "ada"}, meta=Meta.new())
        row = await finished(ctx, eid)
        assert row["status"] == "completed", row["result"]
        assert row["result"]["data"] == {"greeting": "hello ada", "shouted": "HELLO ADA"}
        assert await tasks_started(ctx, eid) == ["greet", "shout"]
        children = await ctx.pool.fetch(
            "SELECT id, status FROM executions WHERE parent = $1 ORDER BY id", eid)
        assert [c["status"] for c in children] == ["completed", "completed"]
    finally:
        await stop_platform(running)
