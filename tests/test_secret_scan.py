"""A secret used by a workflow — a key read through `keystore` and handed on as a secret
parameter, and a secret parameter of the workflow itself — appears in plaintext in no
stream message, no read-model row and no log line (invariant 7)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy

from attune.app.context import Context
from tests.api_http import admin_api
from tests.conftest import RunningPlatform, eventually, projected

KEY_SECRET = "key-plaintext-7f3a9c-never-anywhere"
PARAM_SECRET = "param-plaintext-51be0d-never-anywhere"
STREAMS = ("ATTUNE_EVENTS", "ATTUNE_WORK", "ATTUNE_LOGS", "ATTUNE_AUDIT")

ACTION = """name: use
runner_type: shell
entry_point: use.sh
parameter_format: json
parameters:
  token: {type: string, secret: true, required: true}
  other: {type: string, secret: true, required: true}
"""
# reads its secrets (from stdin) and prints only their lengths
SCRIPT = '#!/bin/sh\nread -r params\necho "lengths ${#params}"\n'
WORKFLOW = """
parameters:
  password: {type: string, secret: true, required: true}
tasks:
  - name: use
    action: scan.use
    input:
      token: "{{ keystore['system.scan_token'] }}"
      other: "{{ parameters.password }}"
output:
  - done: "{{ succeeded() }}"
"""


def write_pack(root: Path) -> Path:
    (root / "actions").mkdir(parents=True)
    (root / "workflows").mkdir()
    (root / "pack.yaml").write_text("ref: scan\nversion: 1.0.0\n")
    (root / "actions" / "use.yaml").write_text(ACTION)
    (root / "actions" / "use.sh").write_text(SCRIPT)
    (root / "workflows" / "flow.yaml").write_text(WORKFLOW)
    return root


async def stream_bytes(ctx: Context, stream: str) -> bytes:
    """Every message (bodies and headers) a stream holds."""
    js = ctx.nc.jetstream()
    info = await js.stream_info(stream)
    if not info.state.messages:
        return b""
    sub = await js.pull_subscribe("", stream=stream, config=ConsumerConfig(
        deliver_policy=DeliverPolicy.ALL, ack_policy=AckPolicy.NONE))
    out = bytearray()
    seen = 0
    while seen < info.state.messages:
        for msg in await sub.fetch(500, timeout=5):
            out += msg.data + orjson.dumps(msg.headers or {})
            seen += 1
    await sub.unsubscribe()
    return bytes(out)


async def tables_text(ctx: Context) -> str:
    tables = [r["table_name"] for r in await ctx.pool.fetch(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'")]
    texts = [repr([dict(r) for r in await ctx.pool.fetch(f'SELECT * FROM "{t}"')])
             for t in tables]
    return "".join(texts)


async def test_secrets_used_by_a_workflow_leak_nowhere(
        platform: RunningPlatform, tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    ctx = platform.ctx
    async with admin_api(platform) as api:
        key = await api.post("/api/v1/keys", json={
            "owner_type": "system", "name": "scan_token", "value": KEY_SECRET})
        assert key.status == 201, key.body
        registered = await api.post("/api/v1/packs/register",
                                    json={"path": str(write_pack(tmp_path / "scan"))})
        assert registered.status == 200, registered.body
        started = await api.post("/api/v1/executions/execute", json={
            "action_ref": "scan.flow", "parameters": {"password": PARAM_SECRET}})
        assert started.status in (200, 201, 202), started.body

        async def finished() -> dict[str, Any] | None:
            got = (await api.get(f"/api/v1/executions/{started.data['id']}")).data
            return got if got["status"] in ("completed", "failed") else None
        execution = await eventually(finished, timeout=60)
        assert execution["status"] == "completed", execution
        # the child really received both secrets (their JSON is longer than the names)
        child = await ctx.pool.fetchrow(
            "SELECT result FROM executions WHERE parent = $1", execution["id"])
        assert child is not None and child["result"]["stdout"].startswith("lengths ")
        assert int(child["result"]["stdout"].split()[1]) > len(KEY_SECRET + PARAM_SECRET)
    await projected(ctx, await ctx.store.last_sequence())

    everything = b"".join([await stream_bytes(ctx, s) for s in STREAMS])
    assert b"scan.flow" in everything  # the scan reads what it should
    text = await tables_text(ctx)
    logged = capfd.readouterr()
    for secret in (KEY_SECRET, PARAM_SECRET):
        assert secret.encode() not in everything
        assert secret not in text
        assert secret not in logged.out and secret not in logged.err
