"""Policies: concurrency (enqueue, cancel, grouped) and rate limits, FIFO, with two
executors at once (real NATS + PostgreSQL + processes)."""

from __future__ import annotations

import itertools
from datetime import timedelta
from pathlib import Path
from typing import Any

from attune.app import executions, packs
from attune.eventstore.envelope import Meta
from tests.conftest import eventually, projected, start_platform, stop_platform

TERMINAL = ("completed", "failed", "cancelled", "timeout", "abandoned")


def policy_pack(root: Path, policies: dict[str, str]) -> Path:
    (root / "policies").mkdir(parents=True)
    (root / "pack.yaml").write_text("ref: limits\nversion: 1.0.0\n")
    for name, body in policies.items():
        (root / "policies" / f"{name}.yaml").write_text(f"name: {name}\n{body}")
    return root


async def run_all(ctx, requests: list[dict[str, Any]], timeout: float = 60) -> list[Any]:  # type: ignore[no-untyped-def]
    ids = [await executions.request(ctx, "core.sleep", p, meta=Meta.new()) for p in requests]

    async def ended() -> list[Any]:
        rows = await ctx.pool.fetch("SELECT * FROM executions WHERE id = ANY($1::bigint[]) "
                                    "ORDER BY id", ids)
        return list(rows) if len(rows) == len(ids) and all(
            r["status"] in TERMINAL for r in rows) else []
    return await eventually(ended, timeout=timeout)


async def test_concurrency_enqueue_is_fifo_with_two_executors(ctx, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    running = await start_platform(ctx, ("executor", "executor", "worker", "projector"))
    try:
        _, seq = await packs.register(ctx, policy_pack(tmp_path / "limits", {
            "one-at-a-time": "action_ref: core.sleep\nconcurrency: {limit: 1}\n"}),
            meta=Meta.new())
        await projected(ctx, seq)
        rows = await run_all(ctx, [{"seconds": 1, "message": str(i)} for i in range(4)])
        assert [r["status"] for r in rows] == ["completed"] * 4
        started = [r["started_at"] for r in rows]
        assert started == sorted(started)  # first requested, first run
        for before, after in itertools.pairwise(rows):
            assert after["started_at"] >= before["finished_at"]  # never two at once
    finally:
        await stop_platform(running)


async def test_concurrency_cancel_grouped_by_parameter(ctx, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    running = await start_platform(ctx, ("executor", "worker", "projector"))
    try:
        _, seq = await packs.register(ctx, policy_pack(tmp_path / "limits", {
            "per-message": "action_ref: core.sleep\n"
                           "concurrency: {limit: 1, method: cancel, parameters: [message]}\n"}),
            meta=Meta.new())
        await projected(ctx, seq)
        rows = await run_all(ctx, [{"seconds": 2, "message": "a"},
                                   {"seconds": 2, "message": "a"},
                                   {"seconds": 2, "message": "b"}])
        assert [r["status"] for r in rows] == ["completed", "cancelled", "completed"]
        assert "concurrency limit 1 of policy limits.per-message" in rows[1]["result"]["error"]
    finally:
        await stop_platform(running)


async def test_rate_limit_waits_for_the_window(ctx, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    running = await start_platform(ctx, ("executor", "worker", "projector"))
    try:
        _, seq = await packs.register(ctx, policy_pack(tmp_path / "limits", {
            "two-per-3s": "pack_ref: core\nrate_limit: {max_executions: 2, window_seconds: 3}\n"}),
            meta=Meta.new())
        await projected(ctx, seq)
        ids = [await executions.request(ctx, "core.sleep", {"seconds": 0}, meta=Meta.new())
               for _ in range(3)]

        async def third_waits() -> Any:
            return await ctx.pool.fetchrow(
                "SELECT status, waiting_reason FROM executions WHERE id=$1 "
                "AND status='scheduling'", ids[2])
        waiting = await eventually(third_waits)
        assert "rate limit 2 per 3 s of policy limits.two-per-3s" in waiting["waiting_reason"]

        async def ended() -> list[Any]:
            found = await ctx.pool.fetch("SELECT * FROM executions WHERE id = ANY($1::bigint[])"
                                         " ORDER BY id", ids)
            return list(found) if all(r["status"] == "completed" for r in found) else []
        done = await eventually(ended, timeout=30)
        first_admitted = done[0]["started_at"]
        assert done[2]["started_at"] - first_admitted >= timedelta(seconds=2.5)
    finally:
        await stop_platform(running)
