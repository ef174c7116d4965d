"""End to end: the examples pack's Python PollingSensor (a managed process run by the
sensor service) -> events -> a rule created afterwards (delivered to the sensor through
the notifier) -> executions."""

from __future__ import annotations

from typing import Any

from attune.app import packs
from attune.app.context import Context
from attune.eventstore.envelope import Meta
from attune.paths import packs_dir
from tests.api_http import Api, admin_api
from tests.conftest import RunningPlatform, eventually, projected

SENSOR = "examples.counter_sensor"
RULE = {"ref": "examples.count_echo", "trigger_ref": "examples.counter",
        "action_ref": "core.echo", "trigger_params": {"interval": 1},
        "action_params": {"message": "count {{ event.payload.count }}"}}


async def _log_text(api: Api) -> str:
    answer = await api.get(f"/api/v1/sensors/{SENSOR}/logs", params={"limit": 1000})
    assert answer.status == 200, answer.body
    return "\n".join(f"{line['stream']}: {line['text']}" for line in answer.data["lines"])


async def test_polling_sensor_pack_to_events_to_rule_to_execution(
        platform: RunningPlatform, ctx: Context) -> None:
    _, seq = await packs.register(ctx, packs_dir() / "examples", meta=Meta.new())
    await projected(ctx, seq)
    async with admin_api(platform) as api:
        listed = await api.get("/api/v1/sensors", params={"pack_ref": "examples"})
        assert [(s["ref"], s["mode"], s["enabled"]) for s in listed.body["items"]] == [
            (SENSOR, "managed", True), ("examples.heartbeat_poll", "poll", False)]
        for path, refs in (("/api/v1/sensors/enabled", [SENSOR]),
                           ("/api/v1/packs/examples/sensors",
                            [SENSOR, "examples.heartbeat_poll"]),
                           ("/api/v1/triggers/examples.heartbeat/sensors",
                            ["examples.heartbeat_poll"])):
            answer = await api.get(path)
            assert [s["ref"] for s in answer.body["items"]] == refs, path
        assert (await api.get("/api/v1/packs/nopack/sensors")).status == 404

        async def started() -> bool:
            return "started (pid" in await _log_text(api)
        await eventually(started)
        shown = await api.get(f"/api/v1/sensors/{SENSOR}")
        assert shown.data["running_on"], shown.body
        assert shown.data["trigger_types"] == ["examples.counter"]

        # a rule created while the sensor runs reaches it through the notifier
        assert (await api.post("/api/v1/rules", json=RULE)).status == 201

        async def executions() -> list[dict[str, Any]]:
            answer = await api.get("/api/v1/executions",
                                   params={"rule_ref": RULE["ref"], "page_size": 100})
            done = [e for e in answer.body["items"] if e["status"] == "completed"]
            return done if len(done) >= 2 else []
        done = await eventually(executions, timeout=40)
        assert {e["action_ref"] for e in done} == {"core.echo"}

        events = await api.get("/api/v1/events", params={"trigger_ref": "examples.counter"})
        first = events.body["items"][-1]
        assert first["source"] == "sensor"
        assert first["rule_ref"] == RULE["ref"]
        assert first["payload"] == {"count": 1, "rule_ref": RULE["ref"]}
        # the sensor's own JSON log lines (stderr) are captured
        assert '"message": "emitted"' in await _log_text(api)

        # disabled: the service stops the process
        off = await api.post(f"/api/v1/sensors/{SENSOR}/disable")
        assert off.status == 200 and off.data["enabled"] is False

        async def stopped() -> bool:
            return "stopped (exit code" in await _log_text(api)
        await eventually(stopped)
        assert (await api.get(f"/api/v1/sensors/{SENSOR}")).data["running_on"] is None
