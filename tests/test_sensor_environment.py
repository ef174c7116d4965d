"""What a managed sensor process gets: the SDK contract's environment (its ref and id,
the API and notifier URLs, its sensor token, its active rules with the ids the notifier
uses and their stream position, its trigger types and config) and none of the
service's own secrets — for each runner type (Python, Node.js, shell, native)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from attune.app import rules
from attune.app.context import Context
from attune.eventstore.envelope import Meta
from attune.sensor.managed import SensorManager
from attune.sensor.timing import SensorTiming
from tests.conftest import eventually, projected, start_platform, stop_platform
from tests.sensor_packs import TRIGGER, register, write_pack

NODE = """
const fs = require('fs');
fs.writeFileSync(process.env.ATTUNE_SENSOR_CONFIG_OUT, JSON.stringify(process.env));
setInterval(() => {}, 1000);
"""
PYTHON = """
import json, os, time
with open(os.environ["ATTUNE_SENSOR_CONFIG_OUT"], "w") as f:
    json.dump(dict(os.environ), f)
time.sleep(600)
"""
SHELL = """
python3 -c 'import json, os; print(json.dumps(dict(os.environ)))' > "$ATTUNE_SENSOR_CONFIG_OUT"
sleep 600
"""
NATIVE = "#!/bin/sh\n" + SHELL


@pytest.mark.parametrize(("runner", "filename", "code"), [
    ("nodejs", "env.js", NODE), ("python", "env.py", PYTHON), ("shell", "env.sh", SHELL),
    ("native", "env", NATIVE)])
async def test_managed_sensor_environment(ctx: Context, tmp_path: Path, runner: str,
                                          filename: str, code: str) -> None:
    running = await start_platform(ctx, ("projector",))
    out = tmp_path / "env.json"
    config = {"out": str(out), "poll-seconds": 5, "Mode": "fast"}
    pack = write_pack(tmp_path, {"envy": ({"runner_type": runner, "config": config},
                                          filename, code)})
    await register(ctx, pack)
    # a rule of its trigger before it starts, and one of another trigger
    rule_seq = await rules.create(ctx, {"ref": "probe.on_tick", "trigger_ref": TRIGGER,
                                           "action_ref": "core.noop",
                                           "trigger_params": {"interval": 2}},
                                   meta=Meta.new())
    await rules.create(ctx, {"ref": "probe.on_timer", "trigger_ref": "core.intervaltimer",
                             "action_ref": "core.noop", "trigger_params": {"interval": 60}},
                       meta=Meta.new())
    await projected(ctx, await ctx.store.last_sequence())
    service = SensorManager(ctx, timing=SensorTiming(refresh_every=0.2))
    stop = asyncio.Event()
    task = asyncio.create_task(service.run(stop))
    try:
        async def written() -> dict[str, Any] | None:
            try:
                return json.loads(out.read_text())  # type: ignore[no-any-return]
            except (OSError, ValueError):
                return None
        env = await eventually(written)
    finally:
        stop.set()
        await asyncio.wait_for(task, 30)
        await stop_platform(running)
    sensor_id = int(await ctx.pool.fetchval(
        "SELECT version FROM sensors WHERE ref = 'probe.envy'"))
    assert env["ATTUNE_SENSOR_REF"] == "probe.envy" and env["ATTUNE_PACK_REF"] == "probe"
    assert int(env["ATTUNE_SENSOR_ID"]) == sensor_id  # never changed: its creation
    assert env["ATTUNE_API_URL"] == ctx.settings.public_api_url
    assert env["ATTUNE_NOTIFIER_WS_URL"] == ctx.settings.public_notifier_url
    claims = ctx.tokens.verify(env["ATTUNE_API_TOKEN"], expect="sensor")
    assert claims.metadata["trigger_types"] == [TRIGGER]
    assert json.loads(Path(env["ATTUNE_SENSOR_TOKEN_STATE_PATH"]).read_text())["token"]
    assert json.loads(env["ATTUNE_SENSOR_TRIGGERS"]) == [
        {"id": rule_seq, "ref": "probe.on_tick", "trigger_ref": TRIGGER,
         "config": {"interval": 2}, "active": True}]
    assert int(env["ATTUNE_SENSOR_TRIGGERS_SEQUENCE"]) >= rule_seq
    assert json.loads(env["ATTUNE_SENSOR_TRIGGER_TYPES"]) == [TRIGGER]
    assert (env["ATTUNE_SENSOR_CONFIG_OUT"], env["ATTUNE_SENSOR_CONFIG_POLL_SECONDS"],
            env["ATTUNE_SENSOR_CONFIG_MODE"]) == (str(out), "5", "fast")
    assert str(Path(env["PYTHONPATH"].split(":")[0]) / "attune").startswith(
        str(ctx.settings.data_dir / "sdk"))
    leaked = [k for k in env if k.startswith("ATTUNE_") and any(
        s in k for s in ("SECRET", "ENCRYPTION", "DATABASE", "NATS", "ADMIN"))]
    assert leaked == []
