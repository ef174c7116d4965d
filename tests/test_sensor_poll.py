"""Poll-style sensors (the seed's SensorRuntime): `poll_sensor(config)` in Python and
Node.js, shell printing `{"events": [...]}` — each payload an event of the sensor's
trigger; a timeout, output over the cap, bad output or a failing poll is logged and
gives no event."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from attune.app.context import Context
from attune.domain.sensor import SensorDef
from attune.sdk.bundle import export_sdk
from attune.sensor.logs import SensorLog
from attune.sensor.managed import SensorManager
from attune.sensor.poller import Poller
from attune.sensor.process import SensorSpec
from attune.sensor.timing import SensorTiming
from tests.conftest import RunningPlatform, eventually, start_platform, stop_platform
from tests.sensor_packs import TRIGGER, log_lines, register, write_pack

PYTHON = """
def poll_sensor(config):
    print("noise on stdout goes to the log")
    for n in range(config["start"], config["start"] + 2):
        yield {"n": n}
"""
NODE = """
async function poll_sensor(config) {
  console.log('node noise');
  return [{n: config.start}];
}
"""
SHELL = """
#!/bin/bash
echo "$SENSOR_REF $TRIGGER_REF $SENSOR_CONFIG" >&2
echo '{"events": [{"n": 7}], "count": 1}'
"""
SENSORS: dict[str, tuple[dict[str, Any], str, str]] = {
    "py": ({"runner_type": "python", "poll_interval": 1, "config": {"start": 1}},
           "py.py", PYTHON),
    "node": ({"runner_type": "nodejs", "poll_interval": 60, "enabled": False,
              "config": {"start": 5}}, "node.js", NODE),
    "sh": ({"runner_type": "shell", "poll_interval": 60, "enabled": False}, "sh.sh", SHELL),
    "garbage": ({"runner_type": "shell", "poll_interval": 60, "enabled": False},
                "garbage.sh", "echo 'not json'\n"),
    "scalars": ({"runner_type": "shell", "poll_interval": 60, "enabled": False},
                "scalars.sh", "echo '{\"events\": [1, {\"n\": \"x\"}, {\"n\": 2}]}'\n"),
    "slow": ({"runner_type": "python", "poll_interval": 60, "timeout": 1, "enabled": False},
             "slow.py", "import time\ndef poll_sensor(config):\n    time.sleep(30)\n"),
    "loud": ({"runner_type": "python", "poll_interval": 60, "enabled": False}, "loud.py",
             "import sys\ndef poll_sensor(config):\n"
             "    sys.__stdout__.write('x' * 100000)\n    return []\n"),
    "broken": ({"runner_type": "python", "poll_interval": 60, "enabled": False},
               "broken.py", "def poll_sensor(config):\n    raise ValueError('no disk')\n"),
}


@pytest.fixture
async def probe_pack(ctx: Context, tmp_path: Path) -> AsyncIterator[RunningPlatform]:
    running = await start_platform(ctx, ("projector",))
    await register(ctx, write_pack(tmp_path, SENSORS))
    yield running
    await stop_platform(running)


async def _poller(ctx: Context, name: str, **kw: Any) -> Poller:
    row = await ctx.pool.fetchrow("SELECT s.definition, p.path FROM sensors s JOIN packs p "
                                  "ON p.ref = s.pack_ref WHERE s.ref = $1", f"probe.{name}")
    spec = SensorSpec(SensorDef.model_validate(row["definition"]), Path(row["path"]), 1)
    return Poller(ctx, spec, SensorLog(ctx.store.js, spec.ref), SensorTiming(),
                  sdk_dir=export_sdk(ctx.settings.data_dir / "sdk"), **kw)


async def _payloads(ctx: Context, ids: list[int]) -> list[dict[str, Any]]:
    rows = await ctx.pool.fetch("SELECT payload, source, source_ref, trigger_ref FROM events "
                                "WHERE id = ANY($1::bigint[]) ORDER BY id", ids)
    return [dict(r) for r in rows]


async def _service_log(ctx: Context, poller: Poller, name: str) -> str:
    await poller.log.close()
    return "\n".join(await log_lines(ctx, f"probe.{name}", "service"))


async def _events(ctx: Context, ids: list[int]) -> list[dict[str, Any]]:
    async def all_projected() -> list[dict[str, Any]]:
        found = await _payloads(ctx, ids)
        return found if len(found) == len(ids) else []
    return await eventually(all_projected)


async def test_python_node_and_shell_polls_emit_events(ctx: Context,
                                                       probe_pack: RunningPlatform) -> None:
    python = await _poller(ctx, "py")
    found = await _events(ctx, await python.poll_once())
    assert [(e["payload"], e["source"], e["source_ref"], e["trigger_ref"]) for e in found] \
        == [({"n": 1}, "sensor", "probe.py", TRIGGER), ({"n": 2}, "sensor", "probe.py",
                                                        TRIGGER)]
    await python.log.close()
    assert "noise on stdout goes to the log" in await log_lines(ctx, "probe.py", "stderr")

    node = await _poller(ctx, "node")
    assert [e["payload"] for e in await _events(ctx, await node.poll_once())] == [{"n": 5}]
    shell = await _poller(ctx, "sh")
    assert [e["payload"] for e in await _events(ctx, await shell.poll_once())] == [{"n": 7}]
    await shell.log.close()
    assert f"probe.sh {TRIGGER} {{}}" in await log_lines(ctx, "probe.sh", "stderr")


@pytest.mark.parametrize(("name", "expected", "options"), [
    ("garbage", "bad output (exit code 0): output is not JSON", {}),
    ("slow", "timed out after 1 s: stopped, no events", {}),
    ("loud", "output over the 1000 byte cap: stopped, no events", {"output_cap": 1000}),
    ("broken", "sensor failed: ValueError: no disk", {}),
])
async def test_failed_polls_are_logged_and_emit_nothing(
        ctx: Context, probe_pack: RunningPlatform, name: str, expected: str,
        options: dict[str, Any]) -> None:
    poller = await _poller(ctx, name, **options)
    assert await poller.poll_once() == []
    assert expected in await _service_log(ctx, poller, name)


async def test_bad_payloads_are_skipped_the_good_ones_emitted(
        ctx: Context, probe_pack: RunningPlatform) -> None:
    poller = await _poller(ctx, "scalars")
    found = await _events(ctx, await poller.poll_once())
    assert [e["payload"] for e in found] == [{"n": 2}]
    text = await _service_log(ctx, poller, "scalars")
    assert "event 0 is not a JSON object: skipped" in text
    assert "event 1 refused: payload does not fit the out_schema" in text


async def test_the_service_polls_enabled_poll_sensors_on_their_interval(
        ctx: Context, probe_pack: RunningPlatform) -> None:
    service = SensorManager(ctx, timing=SensorTiming(refresh_every=0.2, acquire_every=0.3))
    stop = asyncio.Event()
    task = asyncio.create_task(service.run(stop))
    try:
        async def polled_twice() -> bool:
            count = await ctx.pool.fetchval(
                "SELECT count(*) FROM events WHERE source_ref = 'probe.py'")
            return int(count) >= 4
        await eventually(polled_twice)
        # only the enabled one runs
        assert set(service.instances) == {"probe.py"}
    finally:
        stop.set()
        await asyncio.wait_for(task, 30)
