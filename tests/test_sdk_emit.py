"""`Sensor.emit` against the real API (the `platform` fixture: NATS, PostgreSQL and every
service in this process): events posted with an administrator's token and with a
sensor token limited to its trigger types, refusals logged and answered with None, and
a `PollingSensor` running as its own process (only the exported SDK on its path)
whose events fire a rule that runs an action."""

from __future__ import annotations

import asyncio
import json
import logging
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from attune.sdk.bundle import export_sdk
from attune.sdk.context import _build_sensor_context
from attune.sdk.rules import RuleState
from attune.sdk.sensor import Sensor
from tests.api_http import Api, admin_api
from tests.conftest import RunningPlatform, eventually

PING = {"ref": "core.sdk_ping", "description": "Something the SDK test sensor saw.",
        "out_schema": {"n": {"type": "integer", "required": True}}}


def sensor_for(platform: RunningPlatform, token: str) -> Sensor:
    return Sensor(_build_sensor_context({
        "ATTUNE_SENSOR_REF": "core.sdk_sensor", "ATTUNE_API_URL": platform.api_url,
        "ATTUNE_API_TOKEN": token, "ATTUNE_NOTIFIER_WS_URL": "ws://127.0.0.1:9/ws"}))


async def sensor_token(platform: RunningPlatform, trigger_types: list[str]) -> str:
    ctx = platform.ctx
    admin_id = int(await ctx.pool.fetchval("SELECT id FROM identities WHERE login = 'admin'"))
    return ctx.tokens.issue(admin_id, "admin", "sensor", scope="sensor", metadata={
        "trigger_types": trigger_types, "sensor_ref": "core.sdk_sensor"})


async def event(api: Api, event_id: int) -> dict[str, Any]:
    answer = await api.get(f"/api/v1/events/{event_id}")
    assert answer.status == 200, answer.body
    return dict(answer.data)


async def test_emit_posts_events_and_reports_refusals(platform: RunningPlatform,
                                                      caplog: pytest.LogCaptureFixture) -> None:
    async with admin_api(platform) as api:
        assert (await api.post("/api/v1/triggers", json=PING)).status == 201
        assert api.token is not None
        # the SDK client is synchronous: run it off the loop that serves the API
        admin = sensor_for(platform, api.token)
        first = await asyncio.to_thread(admin.emit, {"n": 1}, trigger_ref="core.sdk_ping")
        assert isinstance(first, int)
        seen = await event(api, first)
        assert (seen["trigger_ref"], seen["payload"], seen["source"]) == (
            "core.sdk_ping", {"n": 1}, "api")

        # a sensor token: the event is the sensor's
        token = await sensor_token(platform, ["core.sdk_ping"])
        sensor = sensor_for(platform, token)
        rule = RuleState(1, "core.sdk_rule", "core.sdk_ping", {})
        by_sensor = await asyncio.to_thread(sensor.emit, {"n": 2}, rule=rule,
                                            target_rule=False)
        assert isinstance(by_sensor, int) and by_sensor > first
        seen = await event(api, by_sensor)
        assert (seen["source"], seen["source_ref"], seen["payload"]) == (
            "sensor", "core.sdk_sensor", {"n": 2})

        # instance_id makes the post idempotent
        once = [await asyncio.to_thread(sensor.emit, {"n": 3}, trigger_ref="core.sdk_ping",
                                        instance_id="tick-7") for _ in range(2)]
        assert once[0] == once[1] and isinstance(once[0], int)
        assert (await event(api, once[0]))["trigger_instance_id"] == "tick-7"

        # refusals: logged with the API's reason, emit answers None
        caplog.set_level(logging.ERROR, logger="attune.sensor.core.sdk_sensor")
        assert await asyncio.to_thread(sensor.emit, {}, trigger_ref="core.webhook") is None
        assert await asyncio.to_thread(sensor.emit, {"n": "many"},
                                       trigger_ref="core.sdk_ping") is None
        refusals = [(r.status, r.error) for r in caplog.records  # type: ignore[attr-defined]
                    if r.getMessage() == "event refused by the API"]
        assert [status for status, _ in refusals] == [403, 422]
        assert "only emit events of its trigger types (core.sdk_ping)" in refusals[0][1]
        assert "out_schema" in refusals[1][1]


SENSOR = """
import attune

class Pinger(attune.PollingSensor):
    def setup(self):
        self.count = 0

    def poll(self, rule):
        self.count += 1
        if self.count <= 2:
            event_id = self.emit({"n": self.count, "tag": rule.trigger_params["tag"]},
                                 rule=rule, target_rule=False)
            print("emitted", event_id, flush=True)

attune.run_sensor(Pinger)
"""


async def test_polling_sensor_process_events_fire_a_rule(platform: RunningPlatform,
                                                         tmp_path: Path) -> None:
    async with admin_api(platform) as api:
        assert (await api.post("/api/v1/triggers", json=PING)).status == 201
        created = await api.post("/api/v1/rules", json={
            "ref": "core.sdk_rule", "trigger_ref": "core.sdk_ping", "action_ref": "core.echo",
            "action_params": {"message": "ping {{ event.payload.n }}"}})
        assert created.status == 201, created.body
        token = await sensor_token(platform, ["core.sdk_ping"])
        script = tmp_path / "sensor.py"
        script.write_text(textwrap.dedent(SENSOR))
        env = {"PYTHONPATH": str(export_sdk(tmp_path / "sdk")), "PATH": "/usr/bin:/bin",
               "ATTUNE_SENSOR_REF": "core.sdk_sensor", "ATTUNE_API_URL": platform.api_url,
               "ATTUNE_API_TOKEN": token, "ATTUNE_NOTIFIER_WS_URL": "ws://127.0.0.1:9/ws",
               "ATTUNE_SENSOR_TRIGGERS": json.dumps([
                   {"id": 1, "ref": "core.sdk_rule", "trigger_ref": "core.sdk_ping",
                    "config": {"interval": 0.1, "tag": "from-rule-config"}}])}
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-S", "-s", str(script), env=env,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        try:
            assert proc.stdout is not None
            lines = [(await asyncio.wait_for(proc.stdout.readline(), 60)).decode().split()
                     for _ in range(2)]
            assert [line[0] for line in lines] == ["emitted", "emitted"]
            ids = [int(line[1]) for line in lines]

            async def executions() -> list[dict[str, Any]]:
                answer = await api.get("/api/v1/executions",
                                       params={"rule_ref": "core.sdk_rule"})
                done = [e for e in answer.body["items"] if e["status"] == "completed"]
                return done if len(done) == 2 else []

            runs = await eventually(executions, timeout=60)
            assert sorted(run["result"]["stdout"].strip() for run in runs) == [
                "ping 1", "ping 2"]
            for event_id in ids:
                seen = await event(api, event_id)
                assert seen["payload"]["tag"] == "from-rule-config"
        finally:
            proc.terminate()
            _, err = await asyncio.wait_for(proc.communicate(), 30)
        assert proc.returncode == 0, err.decode()
        stopped = json.loads(err.decode().splitlines()[-1])
        assert stopped["message"] == "Sensor stopped"
