"""A sensor following its rules live through the real notifier (the `platform` fixture
runs every service, the notifier included): it subscribes to its trigger type, and
creating, changing, disabling, enabling and deleting a rule through the API reaches its
hooks with the rule's trigger_params.

The sensor connects with an administrator's access token: the notifier refuses
`trigger_ref:` subscriptions of *sensor* tokens for now (its access check asks whether
the token may read rules/events, which sensor tokens may not) — reported to the lead."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from attune.config import Settings
from attune.sdk.context import _build_sensor_context
from attune.sdk.lifecycle import LifecycleListener
from attune.sdk.rules import RuleState
from attune.sdk.sensor import Sensor
from tests.api_http import admin_api
from tests.conftest import RunningPlatform, eventually, free_port

PING = {"ref": "core.sdk_ping", "description": "Something the SDK test sensor watches.",
        "param_schema": {"tag": {"type": "string"}}}


@pytest.fixture
def settings(settings: Settings) -> Settings:
    # the notifier on a port of its own (tests may run side by side)
    return dataclasses.replace(settings, notifier_port=free_port())


class Recorder(Sensor):
    def __init__(self, env: dict[str, str]) -> None:
        super().__init__(_build_sensor_context(env))
        self.calls: list[tuple[str, str, dict[str, Any]]] = []

    def on_rule_created(self, rule: RuleState) -> None:
        self.calls.append(("created", rule.rule_ref, dict(rule.trigger_params)))

    def on_rule_disabled(self, rule: RuleState) -> None:
        self.calls.append(("disabled", rule.rule_ref, dict(rule.trigger_params)))


async def test_rule_changes_reach_the_sensor_hooks(platform: RunningPlatform,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    async with admin_api(platform) as api:
        assert (await api.post("/api/v1/triggers", json=PING)).status == 201
        token = api.token
        assert token is not None
        monkeypatch.setenv("ATTUNE_SENSOR_TRIGGER_TYPES", "core.sdk_ping")
        sensor = Recorder({"ATTUNE_SENSOR_REF": "core.sdk_sensor",
                           "ATTUNE_API_URL": platform.api_url, "ATTUNE_API_TOKEN": token,
                           "ATTUNE_NOTIFIER_WS_URL": platform.settings.public_notifier_url})
        listener = LifecycleListener(sensor, reconnect_delay=0.1)
        listener.start()
        try:
            async def subscribed() -> bool:
                return listener.subscribed.is_set()

            await eventually(subscribed)

            async def calls(n: int) -> list[tuple[str, str, dict[str, Any]]]:
                return sensor.calls if len(sensor.calls) >= n else []

            rule = {"ref": "core.sdk_rule", "trigger_ref": "core.sdk_ping",
                    "action_ref": "core.noop", "trigger_params": {"tag": "a"}}
            assert (await api.post("/api/v1/rules", json=rule)).status == 201
            await eventually(lambda: calls(1))
            changed = await api.request("PUT", "/api/v1/rules/core.sdk_rule",
                                        json={"trigger_params": {"tag": "b"}})
            assert changed.status == 200, changed.body
            await eventually(lambda: calls(3))
            assert (await api.post("/api/v1/rules/core.sdk_rule/disable")).status == 200
            await eventually(lambda: calls(4))
            assert (await api.post("/api/v1/rules/core.sdk_rule/enable")).status == 200
            await eventually(lambda: calls(5))
            assert (await api.request("DELETE", "/api/v1/rules/core.sdk_rule")).status == 200
            await eventually(lambda: calls(6))
            assert sensor.calls == [
                ("created", "core.sdk_rule", {"tag": "a"}),
                ("disabled", "core.sdk_rule", {"tag": "b"}),  # updated: restart
                ("created", "core.sdk_rule", {"tag": "b"}),
                ("disabled", "core.sdk_rule", {"tag": "b"}),
                ("created", "core.sdk_rule", {"tag": "b"}),
                ("disabled", "core.sdk_rule", {"tag": "b"})]
            assert sensor.rules == {}
            assert listener.last_sequence is not None
        finally:
            listener.stop()
