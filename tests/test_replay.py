"""`attune replay rebuild|verify` against real NATS and PostgreSQL."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from attune.app import executions
from attune.app.context import Context
from attune.cli.replay import embedded_urls
from attune.embedded.datadir import DataDir
from attune.eventstore.envelope import Meta
from attune.readmodel.projections import ALL, by_name
from attune.readmodel.rebuild import rebuild
from attune.readmodel.stream_range import last_sequence
from attune.readmodel.verify import verify
from tests.conftest import eventually, start_platform, stop_platform


async def _core_loaded(ctx: Context) -> None:
    async def probe() -> Any:
        return await ctx.pool.fetchval("SELECT count(*) FROM actions WHERE pack_ref = 'core'")
    await eventually(probe)


async def _all_finished(ctx: Context, ids: list[int]) -> None:
    async def probe() -> Any:
        return await ctx.pool.fetchval(
            "SELECT count(*) = $2 FROM executions WHERE id = ANY($1::bigint[]) "
            "AND status IN ('completed', 'failed')", ids, len(ids))
    await eventually(probe, timeout=60)


async def _table(ctx: Context, table: str, key: str) -> list[dict[str, Any]]:
    return [dict(r) for r in await ctx.pool.fetch(f"SELECT * FROM {table} ORDER BY {key}")]


def _attune(*argv: str, env: dict[str, str] | None = None
            ) -> subprocess.CompletedProcess[str]:
    """The real command line in a child process, like a user runs it."""
    return subprocess.run([sys.executable, "-c", "from attune.cli.main import main; main()",
                           *argv], capture_output=True, text=True, timeout=120,
                          env={**os.environ, **(env or {})}, check=False)


async def _replay_cli(ctx: Context, *args: str) -> subprocess.CompletedProcess[str]:
    argv = ["replay", *args, "--nats-url", ctx.settings.nats_url or "",
            "--database-url", ctx.settings.database_url or ""]
    return await asyncio.to_thread(_attune, *argv)


async def test_verify_reports_damage_and_rebuild_repairs_it(ctx: Context) -> None:
    running = await start_platform(ctx, ("executor", "worker", "projector"))
    try:
        await _core_loaded(ctx)
        ids = [await executions.request(ctx, "core.noop", {}, meta=Meta.new())
               for _ in range(6)]
        await _all_finished(ctx, ids)
        before = await _table(ctx, "executions", "id")
        assert (await verify(ctx.nc, ctx.pool, ALL)).equal

        # Damage the live table three ways: a changed row, a lost row, a stray row.
        await ctx.pool.execute("UPDATE executions SET status = 'failed' WHERE id = $1", ids[0])
        await ctx.pool.execute("DELETE FROM executions WHERE id = $1", ids[1])
        await ctx.pool.execute(
            "INSERT INTO executions (id, action_ref, status, parameters, env_vars, "
            "timeout_seconds, version, created, updated) "
            "VALUES (999999, 'core.noop', 'requested', '{}', '{}', 5, 1, now(), now())")
        report = await verify(ctx.nc, ctx.pool, ALL)
        assert not report.equal
        [diff] = report.diffs
        assert diff.table == "executions" and diff.key == ["id"]
        assert [r["id"] for r in diff.missing] == [ids[1]]
        assert [r["id"] for r in diff.extra] == [999999]
        assert [(a["id"], a["status"], b["status"]) for a, b in diff.changed] == [
            (ids[0], "failed", "completed")]
        assert (diff.live_only, diff.rebuilt_only) == (2, 2)

        result = await _replay_cli(ctx, "verify")
        assert result.returncode == 1, result.stderr
        assert "missing in live: id=" + str(ids[1]) in result.stdout
        assert "not in rebuild:  id=999999" in result.stdout
        assert "status: live 'failed' != rebuilt 'completed'" in result.stdout

        result = await _replay_cli(ctx, "rebuild", "executions", "--json")
        assert result.returncode == 0, result.stderr
        summary = json.loads(result.stdout)
        assert summary["projections"] == ["executions"]
        assert summary["rows"] == {"executions": len(ids)}
        assert summary["position"] == await last_sequence(ctx.nc)
        assert summary["events"] >= 4 * len(ids)

        assert await _table(ctx, "executions", "id") == before
        result = await _replay_cli(ctx, "verify", "--json")
        assert result.returncode == 0, result.stderr
        assert json.loads(result.stdout)["equal"] is True
    finally:
        await stop_platform(running)


async def test_rebuild_of_all_projections_sets_every_position(ctx: Context) -> None:
    running = await start_platform(ctx, ("projector",))
    try:
        await _core_loaded(ctx)
        packs_before = await _table(ctx, "actions", "ref")
        identities_before = await _table(ctx, "identities", "id")
        report = await rebuild(ctx.nc, ctx.pool, ALL)
        last = await last_sequence(ctx.nc)
        assert report.position == last and report.events == last
        positions = dict(await ctx.pool.fetch("SELECT name, position FROM projection_positions"))
        assert positions == {p.name: last for p in ALL}
        assert await _table(ctx, "actions", "ref") == packs_before
        assert await _table(ctx, "identities", "id") == identities_before
        assert report.rows["identities"] == 1 and report.rows["actions"] >= 3
    finally:
        await stop_platform(running)


async def test_cli_rejects_unknown_projection_and_missing_servers(ctx: Context) -> None:
    result = await _replay_cli(ctx, "rebuild", "nope")
    assert result.returncode == 2
    assert "unknown projection 'nope'" in result.stderr
    assert "executions" in result.stderr  # the message lists the known ones

    bare = await asyncio.to_thread(_attune, "replay", "verify",
                                   env={"ATTUNE_NATS_URL": "", "ATTUNE_DATABASE_URL": ""})
    assert bare.returncode == 2
    assert "ATTUNE_NATS_URL" in bare.stderr
    assert by_name("executions").tables == ("executions",)


def test_a_running_attune_up_is_found_from_its_data_dir(tmp_path: Path) -> None:
    data = DataDir(tmp_path / "data")
    data.create()
    data.nats_dir.mkdir(parents=True)
    data.postgres_dir.mkdir(parents=True)
    (data.nats_dir / "nats-server.conf").write_text(
        "# written by attune\nlisten: 127.0.0.1:14222\nhttp: 127.0.0.1:18222\n")
    (data.postgres_dir / "postmaster.pid").write_text(
        "4242\n/data/postgres\n1700000000\n15432\n\n127.0.0.1\n")
    assert embedded_urls(data) is None  # nobody holds the lock: not running
    with data.locked():
        assert embedded_urls(data) == (
            "nats://127.0.0.1:14222", "postgresql://postgres@127.0.0.1:15432/attune")
    assert embedded_urls(data) is None
    assert embedded_urls(DataDir(tmp_path / "elsewhere")) is None
