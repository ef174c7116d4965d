"""`POST /api/v1/rules/{ref}/test` and `attune rule test`: what a rule would do with a
payload or with the recorded events of its trigger — matches, rendered parameters
(secrets redacted), template errors — with nothing appended to the event store.
Also: a timer rule with a schedule that does not parse is refused through the API."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from attune.security.crypto import REDACTED
from tests.api_http import Api, admin_api, assert_error
from tests.conftest import RunningPlatform
from tests.test_cli_commands import Cli

TRIGGER = {"ref": "core.alerted", "out_schema": {
    "severity": {"type": "string", "required": True}, "host": {"type": "string"},
    "count": {"type": "integer"}}}
RULE = {"ref": "core.on_alert", "trigger_ref": "core.alerted", "action_ref": "demo.hello",
        "enabled": False,  # only a what-if: no real enforcement may muddle the stream
        "conditions": [{"field": "severity", "operator": "equals", "value": "critical"}],
        "action_params": {"name": "{{ event.payload.host }}", "token": "{{ event.id }}"}}
COUNTING = {**RULE, "ref": "core.counting", "conditions": None,
            "action_params": {"name": "{{ event.payload.host + event.payload.count }}"}}
ACTION_YAML = """\
name: hello
runner_type: shell
entry_point: hello.sh
parameters:
  name: {type: string, required: true}
  token: {type: string, secret: true}
"""


def make_pack(root: Path) -> Path:
    (root / "actions").mkdir(parents=True)
    (root / "pack.yaml").write_text("ref: demo\nlabel: Demo\nversion: 1.0.0\n")
    (root / "actions" / "hello.yaml").write_text(ACTION_YAML)
    (root / "actions" / "hello.sh").write_text("#!/bin/sh\ncat\n")
    return root


async def _setup(api: Api, tmp_path: Path) -> list[int]:
    """The pack, trigger and rules; five recorded events of the trigger (three
    critical) and one of another trigger. Returns the event ids, oldest first."""
    registered = await api.post("/api/v1/packs/register",
                                json={"path": str(make_pack(tmp_path / "demo"))})
    assert registered.status == 200, registered.body
    assert (await api.post("/api/v1/triggers", json=TRIGGER)).status == 201
    for rule in (RULE, {k: v for k, v in COUNTING.items() if v is not None}):
        created = await api.post("/api/v1/rules", json=rule)
        assert created.status == 201, created.body
    ids = []
    for severity, host in (("critical", "db1"), ("low", "db2"), ("critical", "web1"),
                           ("low", "web2"), ("critical", "web3")):
        posted = await api.post("/api/v1/events", json={
            "trigger_ref": "core.alerted", "payload": {"severity": severity, "host": host}})
        assert posted.status in (201, 202), posted.body
        ids.append(posted.data["id"])
    other = await api.post("/api/v1/events", json={"trigger_ref": "core.webhook",
                                                   "payload": {"severity": "critical"}})
    assert other.status in (201, 202), other.body
    return ids


async def _test(api: Api, ref: str, body: dict[str, Any]) -> dict[str, Any]:
    answer = await api.post(f"/api/v1/rules/{ref}/test", json=body)
    assert answer.status == 200, answer.body
    data: dict[str, Any] = answer.data
    return data


async def test_rule_test_over_payloads_and_history(platform: RunningPlatform,
                                                   tmp_path: Path) -> None:
    store = platform.ctx.store
    async with admin_api(platform) as api:
        ids = await _setup(api, tmp_path)
        await asyncio.sleep(0.5)  # let anything the setup set off settle
        before = await store.last_sequence()

        # one payload: a match renders the parameters (the secret one redacted)
        hit = await _test(api, "core.on_alert", {"payload": {"severity": "critical",
                                                             "host": "db9"}})
        assert (hit["rule_ref"], hit["enabled"], hit["evaluated"], hit["matched"]) == (
            "core.on_alert", False, 1, 1)
        [result] = hit["results"]
        assert (result["event_id"], result["matched"], result["error"]) == (None, True, None)
        assert result["params"] == {"name": "db9", "token": REDACTED}
        miss = await _test(api, "core.on_alert", {"payload": {"severity": "low"}})
        assert (miss["matched"], miss["results"][0]["matched"],
                miss["results"][0]["params"]) == (0, False, None)
        # a match whose parameters cannot be rendered says why
        broken = await _test(api, "core.counting", {"payload": {"severity": "low",
                                                                "host": "h", "count": 2}})
        assert broken["results"][0]["matched"] is True
        assert broken["results"][0]["params"] is None
        assert "action_params.name" in broken["results"][0]["error"]

        # history: the trigger's events, newest first; the other trigger's are not offered
        history = await _test(api, "core.on_alert", {"since_seconds": 3600})
        assert [r["event_id"] for r in history["results"]] == ids[::-1]
        assert [r["matched"] for r in history["results"]] == [True, False, True, False, True]
        assert [r["params"] and r["params"]["name"] for r in history["results"]] == [
            "web3", None, "web1", None, "db1"]
        assert (history["evaluated"], history["matched"]) == (5, 3)
        limited = await _test(api, "core.on_alert", {"since_seconds": 3600, "limit": 2})
        assert [r["event_id"] for r in limited["results"]] == ids[::-1][:2]

        # refusals
        for body, fragment in (({}, "either"),
                               ({"payload": {}, "since_seconds": 60}, "not both"),
                               ({"payload": {"host": "x"}}, "severity"),
                               ({"since_seconds": 60, "limit": 1001}, "limit"),
                               ({"since_seconds": 0}, "since_seconds")):
            assert_error(await api.post("/api/v1/rules/core.on_alert/test", json=body), 422,
                         "VALIDATION_ERROR", fragment)
        assert_error(await api.post("/api/v1/rules/core.nope/test", json={"payload": {}}),
                     404, "NOT_FOUND", "core.nope")

        # nothing was recorded: no event, enforcement or execution
        assert await store.last_sequence() == before
        assert await platform.ctx.pool.fetchval("SELECT count(*) FROM enforcements") == 0

        # the events are older than a second now: a one-second window holds none
        await asyncio.sleep(1.1)
        assert (await _test(api, "core.on_alert", {"since_seconds": 1}))["evaluated"] == 0

        # and the command line: a table and the summary
        cli = Cli(platform.api_url, tmp_path / "cli")
        await cli.login()
        ran = await cli("rule", "test", "core.on_alert", "--payload",
                        '{"severity": "critical", "host": "db7"}')
        assert ran.code == 0, ran
        assert "(payload)" in ran.out and "db7" in ran.out and "MATCHED" in ran.out
        assert '"token": "***"' in ran.out  # the secret parameter
        assert "1 of 1 events would match (the rule is disabled)" in ran.out
        ran = await cli("rule", "test", "core.on_alert", "--since", "1h")
        assert ran.code == 0, ran
        assert "3 of 5 events would match" in ran.out and str(ids[0]) in ran.out
        ran = await cli("rule", "test", "core.counting", "--payload",
                        '{"severity": "x", "host": "h", "count": 1}', "-o", "json")
        assert ran.code == 0, ran
        assert "action_params.name" in json.loads(ran.out)["results"][0]["error"]
        ran = await cli("rule", "test", "core.counting", "--payload",
                        '{"severity": "x", "host": "h", "count": 1}')
        assert "error: " in ran.out and "0 of 1" not in ran.out
        ran = await cli("rule", "test", "core.on_alert", "--since", "1x")
        assert ran.code == 2 and "not a duration" in ran.err, ran
        ran = await cli("rule", "test", "core.on_alert")
        assert ran.code == 2 and "--payload JSON or --since DURATION" in ran.err, ran
        ran = await cli("rule", "test", "core.nope", "--since", "1h")
        assert ran.code == 1 and "rule 'core.nope' not found" in ran.err, ran
        assert await store.last_sequence() == before


async def test_api_refuses_timer_rules_whose_schedule_does_not_parse(
        platform: RunningPlatform) -> None:
    async with admin_api(platform) as api:
        rule = {"ref": "core.nightly", "trigger_ref": "core.crontimer",
                "action_ref": "core.noop", "trigger_params": {"expression": "every monday"}}
        assert_error(await api.post("/api/v1/rules", json=rule), 422, "VALIDATION_ERROR",
                     "trigger_params", "expression")
        assert_error(await api.post("/api/v1/rules", json={
            **rule, "trigger_ref": "core.intervaltimer",
            "trigger_params": {"unit": "days", "interval": 100_000}}), 422,
            "VALIDATION_ERROR", "trigger_params", "interval")
        good = await api.post("/api/v1/rules", json={
            **rule, "trigger_params": {"expression": "0 3 * * *"}})
        assert good.status == 201, good.body
        assert_error(await api.request("PUT", "/api/v1/rules/core.nightly", json={
            "trigger_params": {"expression": "61 * * * *"}}), 422, "VALIDATION_ERROR",
            "trigger_params")
        assert (await api.get("/api/v1/rules/core.nightly")).data["trigger_params"] == {
            "expression": "0 3 * * *"}
