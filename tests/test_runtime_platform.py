"""Runtimes through the whole platform (real NATS, PostgreSQL, worker processes): a pack's
own runtime registered from runtimes/*.yaml, environments built at registration, the
execution-scoped API token, core.http_request."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from attune.app import executions, packs
from attune.app.context import Context
from attune.eventstore.envelope import Meta
from attune.worker.environments import MARKER
from tests.conftest import RunningPlatform, eventually, start_platform, stop_platform

RUNTIME = """\
ref: rtpack.mypy
name: mypy
aliases: [mypython]
family: python
execution_config:
  interpreter: {binary: python3}
  env_vars:
    MY_RUNTIME: "{pack_dir}|mypy"
"""
ACTION_YAML = """\
runner_type: mypython
entry_point: show.py
output_format: json
parameters:
  password: {type: string, secret: true}
"""
ACTION = """\
import json, os, sys
p = json.load(sys.stdin)
print(json.dumps({"runtime": os.environ["MY_RUNTIME"], "token": os.environ["ATTUNE_API_TOKEN"],
                  "password_length": len(p["password"])}))
"""


@pytest.fixture
async def running(ctx: Context) -> AsyncIterator[RunningPlatform]:
    platform = await start_platform(ctx, ("executor", "worker", "projector"))
    yield platform
    await stop_platform(platform)


async def _finished(ctx: Context, execution_id: int) -> Any:
    async def probe() -> Any:
        row = await ctx.pool.fetchrow("SELECT status, result FROM executions WHERE id = $1",
                                      execution_id)
        return row if row and row["status"] in ("completed", "failed", "abandoned") else None
    return await eventually(probe, timeout=60)


async def _registered(ctx: Context, root: Path, action_ref: str) -> None:
    await packs.register(ctx, root, meta=Meta.new())

    async def probe() -> Any:
        return await ctx.pool.fetchval("SELECT 1 FROM actions WHERE ref = $1", action_ref)
    await eventually(probe)


async def test_a_packs_own_runtime_runs_its_action_with_an_execution_token(
        ctx: Context, running: RunningPlatform, tmp_path: Path) -> None:
    root = tmp_path / "rtpack"
    (root / "runtimes").mkdir(parents=True)
    (root / "actions").mkdir()
    (root / "pack.yaml").write_text("ref: rtpack\nversion: 1.0.0\n")
    (root / "runtimes" / "mypy.yaml").write_text(RUNTIME)
    (root / "actions" / "show.yaml").write_text(ACTION_YAML)
    (root / "actions" / "show.py").write_text(ACTION)
    await _registered(ctx, root, "rtpack.show")
    rows = await ctx.pool.fetch("SELECT ref, family FROM runtimes ORDER BY ref")
    assert {(r["ref"], r["family"]) for r in rows} >= {
        ("rtpack.mypy", "python"), ("core.python", "python"), ("core.http", "http")}

    eid = await executions.request(ctx, "rtpack.show", {"password": "hunter22"},
                                   meta=Meta.new())
    row = await _finished(ctx, eid)
    assert row["status"] == "completed", row["result"]
    data = row["result"]["data"]
    assert data["runtime"] == f"{root}|mypy" and data["password_length"] == 8
    claims = ctx.tokens.verify(data["token"], expect="execution")
    assert claims.scope == f"execution:{eid}" and claims.metadata["execution_id"] == eid
    assert claims.metadata["action_ref"] == "rtpack.show"
    assert claims.exp - claims.iat <= ctx.settings.default_timeout_seconds + 60
    assert "hunter22" not in str(row["result"])


async def test_registration_builds_the_pack_environment(
        ctx: Context, running: RunningPlatform, tmp_path: Path) -> None:
    root = tmp_path / "envpack"
    (root / "actions").mkdir(parents=True)
    (root / "pack.yaml").write_text("ref: envpack\nversion: 1.0.0\n")
    (root / "package.json").write_text('{"name": "envpack", "version": "1.0.0", '
                                       '"dependencies": {"is-number": "^7.0.0"}}')
    (root / "actions" / "a.yaml").write_text("runner_type: node\nentry_point: a.js\n")
    (root / "actions" / "a.js").write_text("console.log(require('is-number')(3))\n")
    await _registered(ctx, root, "envpack.a")
    marker = ctx.settings.envs_dir / "envpack" / "nodejs" / MARKER

    async def built() -> bool:
        return marker.is_file()
    await eventually(built, timeout=120)  # before any execution asked for it
    eid = await executions.request(ctx, "envpack.a", {}, meta=Meta.new())
    row = await _finished(ctx, eid)
    assert row["status"] == "completed" and row["result"]["stdout"] == "true\n"


async def test_http_request_end_to_end(ctx: Context, running: RunningPlatform) -> None:
    async def hello(request: web.Request) -> web.Response:
        return web.json_response({"hello": request.query.get("who")})
    app = web.Application()
    app.router.add_get("/hello", hello)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        eid = await executions.request(
            ctx, "core.http_request",
            {"url": f"http://127.0.0.1:{port}/hello", "query_params": {"who": "attune"},
             "auth_type": "bearer", "auth_token": "sekrit-token"}, meta=Meta.new())
        row = await _finished(ctx, eid)
    finally:
        await runner.cleanup()
    assert row["status"] == "completed", row["result"]
    assert row["result"]["data"]["json"] == {"hello": "attune"}
    assert row["result"]["data"]["status_code"] == 200
    assert "sekrit-token" not in str(row["result"])
