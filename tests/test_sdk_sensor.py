"""Sensors and their rules: bootstrap from ATTUNE_SENSOR_TRIGGERS, lifecycle messages
turned into hooks, pollers started/stopped/restarted per rule (threads and asyncio
tasks), token state and rotation, config, and `run_sensor` as a real process (JSON
logs, SIGTERM, exit status)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from attune.sdk.bundle import export_sdk
from attune.sdk.context import (
    FileSensorTokenProvider,
    SensorContext,
    SensorTokenState,
    _build_sensor_context,
    parse_expiry,
)
from attune.sdk.polling import AsyncPollingSensor, PollingSensor, rule_interval
from attune.sdk.rules import RuleState, parse_bootstrap, parse_trigger_types
from attune.sdk.sensor import Sensor

# A notifier nobody listens on: the lifecycle thread fails to connect and retries quietly.
NO_NOTIFIER = "ws://127.0.0.1:9/ws"


def ctx(**changes: Any) -> SensorContext:
    values: dict[str, Any] = {"sensor_ref": "mypack.watcher", "notifier_ws_url": NO_NOTIFIER}
    values.update(changes)
    return SensorContext(**values)


def wait_for(probe: Callable[[], Any], timeout: float = 10.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = probe()
        if value:
            return value
        time.sleep(0.01)
    raise AssertionError(f"condition not reached in {timeout} s")


def msg(event_type: str, rule_id: int, **fields: Any) -> dict[str, Any]:
    return {"event_type": event_type, "rule_id": rule_id, "rule_ref": f"mypack.r{rule_id}",
            "trigger_ref": "mypack.tick", **fields}


class Recorder(Sensor):
    """Records every hook, then does what the base class does (the default chaining)."""

    def __init__(self) -> None:
        super().__init__(ctx())
        self.calls: list[tuple[Any, ...]] = []

    def on_rule_created(self, rule: RuleState) -> None:
        self.calls.append(("created", rule.rule_ref, dict(rule.trigger_params)))

    def on_rule_enabled(self, rule: RuleState) -> None:
        self.calls.append(("enabled", rule.rule_ref))
        super().on_rule_enabled(rule)

    def on_rule_disabled(self, rule: RuleState) -> None:
        self.calls.append(("disabled", rule.rule_ref))

    def on_rule_deleted(self, rule: RuleState) -> None:
        self.calls.append(("deleted", rule.rule_ref))
        super().on_rule_deleted(rule)

    def on_rule_updated(self, rule: RuleState, old_params: dict[str, Any]) -> None:
        self.calls.append(("updated", rule.rule_ref, old_params))
        super().on_rule_updated(rule, old_params)

    def take(self) -> list[tuple[Any, ...]]:
        calls, self.calls = self.calls, []
        return calls


BOOTSTRAP = json.dumps([
    {"id": 1, "ref": "mypack.r1", "trigger_ref": "mypack.tick", "config": {"interval": 5}},
    {"id": 2, "ref": "mypack.r2", "trigger_ref": "mypack.tick", "config": {}, "active": False},
    {"id": "3", "rule_ref": "mypack.r3", "trigger_ref": "mypack.other",
     "trigger_params": {"x": 1}, "enabled": True},
    "not an object", {"ref": "mypack.no_id"}])


def test_bootstrap_formats() -> None:
    rules = parse_bootstrap(BOOTSTRAP)
    assert [(r.rule_id, r.rule_ref, r.trigger_ref, r.trigger_params, r.enabled)
            for r in rules] == [(1, "mypack.r1", "mypack.tick", {"interval": 5}, True),
                                (2, "mypack.r2", "mypack.tick", {}, False),
                                (3, "mypack.r3", "mypack.other", {"x": 1}, True)]
    assert parse_bootstrap("{}") == parse_bootstrap("nonsense") == parse_bootstrap(None) == []
    assert parse_bootstrap('[{"id": 9}]')[0].rule_ref == "rule_9"
    assert parse_trigger_types('["b.t", "a.t", "b.t"]') == ["a.t", "b.t"]
    assert parse_trigger_types(" b.t, a.t ,") == ["a.t", "b.t"]
    assert parse_trigger_types("") == []


def test_rule_lifecycle_hooks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ATTUNE_SENSOR_TRIGGERS", BOOTSTRAP)
    sensor = Recorder()
    sensor._bootstrap_rules()
    assert sensor.take() == [("created", "mypack.r1", {"interval": 5}),
                             ("created", "mypack.r3", {"x": 1})]
    assert sorted(sensor.rules) == [1, 2, 3] and sensor.rules[2].enabled is False
    assert sensor.managed_trigger_refs() == ["mypack.other", "mypack.tick"]

    sensor.handle_rule_message(msg("rule.enabled", 2, trigger_params={"interval": 1},
                                   active=True))
    assert sensor.take() == [("enabled", "mypack.r2"), ("created", "mypack.r2",
                                                        {"interval": 1})]
    # new parameters: updated (by default disable + enable)
    sensor.handle_rule_message(msg("rule.updated", 1, trigger_params={"interval": 9},
                                   active=True))
    assert sensor.take() == [("updated", "mypack.r1", {"interval": 5}),
                             ("disabled", "mypack.r1"), ("enabled", "mypack.r1"),
                             ("created", "mypack.r1", {"interval": 9})]
    # an update that changes nothing the sensor uses: no hook
    sensor.handle_rule_message(msg("rule.updated", 1, trigger_params={"interval": 9},
                                   active=True))
    assert sensor.take() == []
    sensor.handle_rule_message(msg("rule.disabled", 1, active=False))
    assert sensor.take() == [("disabled", "mypack.r1")]
    assert sensor.rules[1].enabled is False and sensor.rules[1].trigger_params == {
        "interval": 9}
    # an update of a disabled rule that enables it
    sensor.handle_rule_message(msg("rule.updated", 1, trigger_params={"interval": 2},
                                   enabled=True))
    assert sensor.take() == [("enabled", "mypack.r1"), ("created", "mypack.r1",
                                                        {"interval": 2})]
    sensor.handle_rule_message(msg("rule.deleted", 2))
    assert sensor.take() == [("deleted", "mypack.r2"), ("disabled", "mypack.r2")]
    assert 2 not in sensor.rules
    # a rule created disabled is stored but not served; the old release's names work
    sensor.handle_rule_message(msg("RuleCreated", 4, active=False))
    assert sensor.take() == [] and sensor.rules[4].enabled is False
    sensor.handle_rule_message(msg("RuleEnabled", 4))
    assert sensor.take() == [("enabled", "mypack.r4"), ("created", "mypack.r4", {})]
    # the same rule announced again: nothing to do
    sensor.handle_rule_message(msg("rule.created", 4, active=True))
    assert sensor.take() == []
    # announced with another trigger: an update
    sensor.handle_rule_message(msg("rule.created", 4, trigger_ref="mypack.other", active=True))
    assert sensor.take() == [("updated", "mypack.r4", {}), ("disabled", "mypack.r4"),
                             ("enabled", "mypack.r4"), ("created", "mypack.r4", {})]
    assert sensor.rules[4].trigger_ref == "mypack.other"
    # unknown rules deleted or disabled, unknown kinds, no id: ignored
    sensor.handle_rule_message(msg("rule.deleted", 99))
    sensor.handle_rule_message(msg("rule.renamed", 4))
    sensor.handle_rule_message({"event_type": "rule.created", "rule_id": "x"})
    assert sensor.take() == []
    # an updated rule never seen before is simply created
    sensor.handle_rule_message(msg("rule.updated", 5, trigger_params={"a": 1}))
    assert sensor.take() == [("created", "mypack.r5", {"a": 1})]


def test_rule_interval() -> None:
    assert rule_interval(RuleState(1, "r", trigger_params={"interval": "2.5"}), 5) == 2.5
    assert rule_interval(RuleState(1, "r", trigger_params={"interval_seconds": 3}), 5) == 3
    assert rule_interval(RuleState(1, "r", trigger_params={"poll_interval": 4}), 5) == 4
    assert rule_interval(RuleState(1, "r", trigger_params={"interval": "soon"}), 5) == 5
    assert rule_interval(RuleState(1, "r", trigger_params={"interval": True}), 5) == 5


class Poller(PollingSensor):
    def __init__(self) -> None:
        super().__init__(ctx())
        self.polls: list[tuple[str, Any]] = []
        self.lock = threading.Lock()
        self.prepared = False
        self.cleaned = False

    def setup(self) -> None:
        self.prepared = True
        self.interval = 30.0  # rules below carry their own (short) intervals

    def poll(self, rule: RuleState) -> None:
        assert self.prepared, "pollers start after setup()"
        with self.lock:
            self.polls.append((rule.rule_ref, rule.trigger_params.get("tag")))
        if rule.trigger_params.get("tag") == "flaky" and len(self.of("mypack.r1")) == 1:
            raise RuntimeError("first poll fails; the next ones still run")

    def cleanup(self) -> None:
        self.cleaned = True

    def of(self, ref: str) -> list[Any]:
        with self.lock:
            return [tag for r, tag in self.polls if r == ref]


def run_in_thread(sensor: Sensor) -> tuple[threading.Thread, list[int]]:
    status: list[int] = []
    thread = threading.Thread(target=lambda: status.append(sensor._run_lifecycle()))
    thread.start()
    return thread, status


def test_polling_sensor_threads_follow_rules(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ATTUNE_SENSOR_TRIGGERS", json.dumps([
        {"id": 1, "ref": "mypack.r1", "trigger_ref": "mypack.tick",
         "config": {"interval": 0.02, "tag": "flaky"}}]))
    sensor = Poller()
    thread, status = run_in_thread(sensor)
    wait_for(lambda: len(sensor.of("mypack.r1")) >= 3)  # went on after the failure

    sensor.handle_rule_message(msg("rule.created", 2, trigger_params={"interval": 0.02,
                                                                      "tag": "a"}))
    wait_for(lambda: sensor.of("mypack.r2"))
    # disabling joins the poller: once the hook returned, that rule is never polled again
    sensor.handle_rule_message(msg("rule.disabled", 1, active=False))
    stopped_at = len(sensor.of("mypack.r1"))
    # parameters changed: the poller restarts and polls with the new ones
    sensor.handle_rule_message(msg("rule.updated", 2, trigger_params={"interval": 0.02,
                                                                      "tag": "b"}))
    wait_for(lambda: "b" in sensor.of("mypack.r2"))
    after_update = sensor.of("mypack.r2")
    assert after_update[after_update.index("b"):] == ["b"] * (len(after_update)
                                                              - after_update.index("b"))
    assert len(sensor.of("mypack.r1")) == stopped_at
    live = {t.name for t in threading.enumerate()}
    assert "poll-mypack.r2" in live and "poll-mypack.r1" not in live

    sensor.shutdown()
    thread.join(20)
    assert status == [0] and sensor.cleaned
    assert not any(t.name.startswith("poll-") for t in threading.enumerate())


class AsyncPoller(AsyncPollingSensor):
    def __init__(self) -> None:
        super().__init__(ctx())
        self.polls: list[str] = []
        self.events: list[str] = []

    async def setup(self) -> None:
        self.events.append("setup")

    async def poll(self, rule: RuleState) -> None:
        self.polls.append(rule.rule_ref)

    async def cleanup(self) -> None:
        self.events.append("cleanup")


def test_async_polling_sensor_tasks_follow_rules(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ATTUNE_SENSOR_TRIGGERS", json.dumps([
        {"id": 1, "ref": "mypack.r1", "trigger_ref": "mypack.tick",
         "config": {"interval": 0.02}}]))
    sensor = AsyncPoller()
    thread, status = run_in_thread(sensor)
    wait_for(lambda: sensor.polls.count("mypack.r1") >= 2)
    # changes arrive from another thread (the notifier's): handed to the loop
    sensor.handle_rule_message(msg("rule.created", 2, trigger_params={"interval": 0.02}))
    wait_for(lambda: sensor.polls.count("mypack.r2") >= 2)
    sensor.handle_rule_message(msg("rule.deleted", 1))

    def r1_stopped() -> bool:
        before = sensor.polls.count("mypack.r1")
        time.sleep(0.2)  # ten intervals: a live task would have polled again
        return sensor.polls.count("mypack.r1") == before

    wait_for(r1_stopped)
    sensor.shutdown()
    thread.join(20)
    assert status == [0]
    assert sensor.events == ["setup", "cleanup"]


# -- tokens and config ------------------------------------------------------------------------

def test_token_state_file_is_read_on_every_access(tmp_path: Path) -> None:
    state = tmp_path / "token.json"
    state.write_text(json.dumps({"token": "first", "expires_at": "2030-01-01T00:00:00Z"}))
    sensor_ctx = _build_sensor_context({"ATTUNE_SENSOR_REF": "mypack.watcher",
                                        "ATTUNE_SENSOR_TOKEN_STATE_PATH": str(state),
                                        "ATTUNE_API_URL": "http://api:1/"})
    assert sensor_ctx.current_api_token == "first"
    assert not sensor_ctx.is_api_token_expiring_within()
    client = sensor_ctx.client
    assert client.token == "first" and client.base_url == "http://api:1"
    # rotation: the service replaces the file; the next use sees the new token
    state.write_text(json.dumps({"api_token": "second", "token_expires_at": time.time() + 10}))
    assert sensor_ctx.current_api_token == "second"
    assert sensor_ctx.client is client and client.token == "second"
    assert sensor_ctx.is_api_token_expiring_within()  # 10 s left, window 30 s
    assert not sensor_ctx.is_api_token_expiring_within(5)
    # unreadable and no startup token: a clear error naming the file
    state.write_text("{broken")
    with pytest.raises(RuntimeError, match="Unable to read sensor token state from"):
        _ = sensor_ctx.current_api_token
    with pytest.raises(RuntimeError, match="Unable to read sensor token state"):
        _ = sensor_ctx.client
    # with a startup token, that one is the fallback
    fallback = FileSensorTokenProvider(state, SensorTokenState("startup"))
    assert fallback.current().token == "startup"
    state.write_text(json.dumps({"token": "  "}))
    assert fallback.current().token == "startup"


def test_env_token_is_reread_and_missing_token_is_explained(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ATTUNE_SENSOR_TOKEN_STATE_PATH", raising=False)
    monkeypatch.setenv("ATTUNE_API_TOKEN", "env-1")
    monkeypatch.setenv("ATTUNE_API_TOKEN_EXPIRES_AT", "1")  # epoch 1: long expired
    sensor_ctx = _build_sensor_context()
    assert sensor_ctx.api_token == "env-1" and sensor_ctx.is_api_token_expiring_within(0)
    monkeypatch.setenv("ATTUNE_API_TOKEN", "env-2")
    assert sensor_ctx.current_api_token == "env-2"
    monkeypatch.delenv("ATTUNE_API_TOKEN")
    with pytest.raises(RuntimeError, match="Managed sensor API token is unavailable"):
        _ = sensor_ctx.client
    with pytest.raises(RuntimeError, match="Managed sensor API token is unavailable"):
        Sensor(sensor_ctx).emit({"a": 1}, trigger_ref="mypack.tick")


def test_expiry_formats_and_window() -> None:
    assert parse_expiry("2026-01-01T00:00:00Z") == parse_expiry("2026-01-01T00:00:00") \
        == parse_expiry(1767225600) == parse_expiry("1767225600")
    assert parse_expiry("soon") is None and parse_expiry(0) is None and parse_expiry("") is None
    assert _build_sensor_context(
        {"ATTUNE_SENSOR_TOKEN_RECONNECT_WINDOW_SECONDS": "-4"}).token_reconnect_window_seconds \
        == 0
    assert _build_sensor_context(
        {"ATTUNE_SENSOR_TOKEN_RECONNECT_WINDOW_SECONDS": "x"}).token_reconnect_window_seconds \
        == 30


def test_sensor_context_fields_and_config(monkeypatch: pytest.MonkeyPatch) -> None:
    sensor_ctx = _build_sensor_context({
        "ATTUNE_SENSOR_REF": "mypack.watcher", "ATTUNE_SENSOR_ID": "17",
        "ATTUNE_NOTIFIER_WS_URL": "wss://n.example/ws", "ATTUNE_LOG_LEVEL": "debug",
        "ATTUNE_ALLOW_INSECURE_NOTIFIER_WS": "yes", "ATTUNE_API_TOKEN": "t"})
    assert (sensor_ctx.sensor_ref, sensor_ctx.sensor_id, sensor_ctx.pack_ref,
            sensor_ctx.notifier_ws_url, sensor_ctx.log_level,
            sensor_ctx.allow_insecure_notifier_ws) == (
        "mypack.watcher", "17", "mypack", "wss://n.example/ws", "DEBUG", True)
    assert "'t'" not in repr(sensor_ctx)  # the token is never printed
    bare = _build_sensor_context({})
    assert (bare.sensor_id, bare.pack_ref, bare.notifier_ws_url, bare.api_url) == (
        "0", "", "ws://localhost:8081/ws", "http://localhost:8080")
    monkeypatch.setenv("ATTUNE_SENSOR_CONFIG_WATCH_PATH", "/var/log/app.log")
    monkeypatch.setenv("ATTUNE_SENSOR_CONFIG_Limit", "3")
    assert {k: v for k, v in Sensor(sensor_ctx).config.items()
            if k in ("watch_path", "limit")} == {"watch_path": "/var/log/app.log", "limit": "3"}


# -- run_sensor as a process ------------------------------------------------------------------

SENSOR_SCRIPT = """
import sys
import attune

class Watcher(attune.PollingSensor):
    def setup(self):
        if attune.sensor_context.config.get("fail") == "setup":
            raise RuntimeError("cannot start")
        print("setup", flush=True)

    def poll(self, rule):
        print("poll", rule.rule_ref, rule.trigger_params["n"], flush=True)

    def cleanup(self):
        print("cleanup", flush=True)

attune.run_sensor(Watcher)
"""


def start_sensor(tmp_path: Path, **env: str) -> subprocess.Popen[str]:
    sdk = export_sdk(tmp_path / "sdk")
    script = tmp_path / "sensor.py"
    script.write_text(textwrap.dedent(SENSOR_SCRIPT))
    clean = {"PYTHONPATH": str(sdk), "PATH": "/usr/bin:/bin",
             "ATTUNE_SENSOR_REF": "mypack.watcher", "ATTUNE_API_TOKEN": "t",
             "ATTUNE_NOTIFIER_WS_URL": NO_NOTIFIER, "ATTUNE_LOG_LEVEL": "info",
             "ATTUNE_SENSOR_TRIGGERS": json.dumps([
                 {"id": 5, "ref": "mypack.r5", "trigger_ref": "mypack.tick",
                  "config": {"interval": 0.05, "n": 1}}]), **env}
    return subprocess.Popen([sys.executable, "-S", "-s", str(script)], env=clean, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def test_run_sensor_process_stops_cleanly_on_sigterm(tmp_path: Path) -> None:
    proc = start_sensor(tmp_path)
    assert proc.stdout is not None
    lines = [proc.stdout.readline().strip() for _ in range(3)]
    assert lines == ["setup", "poll mypack.r5 1", "poll mypack.r5 1"]
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert out.strip().splitlines()[-1] == "cleanup"
    logs = [json.loads(line) for line in err.splitlines()]
    started = next(entry for entry in logs if entry["message"] == "Sensor started")
    assert started["active_rules"] == ["mypack.r5"]
    assert started["sensor"] == "mypack.watcher" and started["level"] == "INFO"
    assert started["logger"] == "attune.sensor.mypack.watcher" and "timestamp" in started
    assert logs[-1]["message"] == "Sensor stopped" and logs[-1]["status"] == 0


def test_run_sensor_exits_1_when_setup_fails(tmp_path: Path) -> None:
    proc = start_sensor(tmp_path, ATTUNE_SENSOR_CONFIG_FAIL="setup")
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 1
    assert out.split() == ["cleanup"]
    failure = next(json.loads(line) for line in err.splitlines()
                   if json.loads(line)["message"] == "sensor failed")
    assert "RuntimeError: cannot start" in failure["exc_info"]
    assert os.environ.get("ATTUNE_SENSOR_CONFIG_FAIL") is None  # nothing leaked back here
