"""`attune sensor list|show|logs|enable|disable` as a real process against a running
platform with the examples pack registered."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from attune.app import packs
from attune.app.context import Context
from attune.eventstore.envelope import Meta
from attune.paths import packs_dir
from tests.conftest import RunningPlatform, eventually, projected
from tests.test_cli_commands import Cli

SENSOR = "examples.counter_sensor"


async def test_sensor_commands(platform: RunningPlatform, ctx: Context, tmp_path: Path
                               ) -> None:
    _, seq = await packs.register(ctx, packs_dir() / "examples", meta=Meta.new())
    await projected(ctx, seq)
    cli = Cli(platform.api_url, tmp_path)
    await cli.login()

    async def ok(*args: str, **env: str) -> str:
        ran = await cli(*args, **env)
        assert ran.code == 0, (args, ran)
        return ran.out

    async def data(*args: str) -> Any:
        return json.loads(await ok(*args, "-o", "json"))

    table = await ok("sensor", "list", "--pack", "examples", COLUMNS="200")
    assert SENSOR in table and "managed" in table and "examples.heartbeat_poll" in table
    by_trigger = await data("sensor", "list", "--trigger", "examples.counter")
    assert [s["ref"] for s in by_trigger["items"]] == [SENSOR]
    disabled = await data("sensor", "list", "--disabled")
    assert [s["ref"] for s in disabled["items"]] == ["examples.heartbeat_poll"]

    async def running() -> bool:
        return "Running on" in await ok("sensor", "show", SENSOR, COLUMNS="200") and \
            "started (pid" in await ok("sensor", "logs", SENSOR, "--stream", "service")
    await eventually(running)
    shown = await ok("sensor", "show", "examples.heartbeat_poll", COLUMNS="200")
    assert "60 s" in shown and "heartbeat_poll.py" in shown

    assert f"Sensor {SENSOR} disabled." in await ok("sensor", "disable", SENSOR)

    async def stopped() -> bool:
        lines = (await data("sensor", "logs", SENSOR, "-n", "50"))["lines"]
        return any(line["text"].startswith("stopped") for line in lines)
    await eventually(stopped)
    assert (await data("sensor", "enable", SENSOR))["enabled"] is True

    missing = await cli("sensor", "show", "examples.nope")
    assert missing.code == 1 and "not found" in missing.err
    bad = await cli("sensor", "logs", SENSOR, "--since", "0")
    assert bad.code == 2 and "--since" in bad.err
