"""Sensor tokens (`POST /auth/internal/sensor-token`): type sensor, limited to their
trigger types — events of another trigger are refused (403), as are the rules and the
rule lifecycle notifications of other triggers; TTL 1-72 h. And execution tokens (an
action's ATTUNE_API_TOKEN) on the routes their grants allow."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from attune.app import permissions
from attune.app.context import Context
from tests.api_http import Api, admin_api, assert_error
from tests.conftest import RunningPlatform, eventually
from tests.notifier_client import connect, notifier_up

MINE, OTHER = "core.sensed", "core.elsewhere"


async def _trigger(api: Api, ref: str) -> None:
    answer = await api.post("/api/v1/triggers", json={"ref": ref, "description": ref})
    assert answer.status == 201, answer.body


def _rule(ref: str, trigger: str) -> dict[str, object]:
    return {"ref": ref, "trigger_ref": trigger, "action_ref": "core.noop"}


async def _mint(api: Api, **body: object) -> tuple[int, dict[str, object]]:
    answer = await api.post("/auth/internal/sensor-token", json=body)
    return answer.status, answer.body


async def test_sensor_token_is_limited_to_its_trigger_types(
        platform: RunningPlatform, ctx: Context) -> None:
    async with admin_api(platform) as api:
        await _trigger(api, MINE)
        await _trigger(api, OTHER)
        status, body = await _mint(api, sensor_ref="core.watcher", trigger_types=[MINE],
                                   ttl_seconds=3600)
        assert status == 201, body
        data = body["data"]
        assert data["sensor_ref"] == "core.watcher" and data["trigger_types"] == [MINE]
        expires = datetime.fromisoformat(data["expires_at"])
        assert timedelta(minutes=59) < expires - datetime.now(UTC) <= timedelta(hours=1)
        claims = ctx.tokens.verify(data["token"], expect="sensor")
        assert claims.sub == data["identity_id"]
        assert claims.metadata["trigger_types"] == [MINE]
        token = data["token"]

        emitted = await api.post("/api/v1/events", json={"trigger_ref": MINE,
                                                         "payload": {"n": 1}}, token=token)
        assert emitted.status in (201, 202), emitted.body
        assert_error(await api.post("/api/v1/events", json={"trigger_ref": OTHER,
                                                            "payload": {}}, token=token),
                     403, "FORBIDDEN", OTHER)

        # the rules of its trigger types (the SDK completes deferred payloads so)
        assert (await api.post("/api/v1/rules", json=_rule("core.on_sensed", MINE))
                ).status == 201
        assert (await api.post("/api/v1/rules", json=_rule("core.on_other", OTHER))
                ).status == 201
        mine = await api.get("/api/v1/rules/core.on_sensed", token=token)
        assert mine.status == 200 and mine.data["trigger_ref"] == MINE
        assert_error(await api.get("/api/v1/rules/core.on_other", token=token), 403,
                     "FORBIDDEN", OTHER)
        # nothing else
        assert_error(await api.get("/api/v1/rules", token=token), 401, "UNAUTHORIZED")
        assert_error(await api.get("/api/v1/events", token=token), 401, "UNAUTHORIZED")
        assert_error(await api.post("/auth/internal/sensor-token", token=token, json={
            "sensor_ref": "core.x", "trigger_types": [OTHER]}), 401, "UNAUTHORIZED")


async def test_sensor_token_gets_the_rule_lifecycle_of_its_triggers_only(
        platform: RunningPlatform) -> None:
    await notifier_up(platform.settings)
    async with admin_api(platform) as api:
        await _trigger(api, MINE)
        await _trigger(api, OTHER)
        _, body = await _mint(api, sensor_ref="core.watcher", trigger_types=[MINE])
        async with connect(platform.settings, body["data"]["token"]) as ws:
            await ws.next_of("welcome")
            await ws.subscribe(f"trigger_ref:{MINE}")
            await ws.send(type="subscribe", filter=f"trigger_ref:{OTHER}")
            refused = await ws.next_of("error")
            assert OTHER in refused["message"]
            await ws.send(type="subscribe", filter="entity_type:rule")
            assert "trigger_ref" in (await ws.next_of("error"))["message"]

            assert (await api.post("/api/v1/rules", json=_rule("core.on_other", OTHER))
                    ).status == 201
            assert (await api.post("/api/v1/rules", json=_rule("core.on_sensed", MINE))
                    ).status == 201
            assert (await api.post("/api/v1/rules/core.on_sensed/disable")).status == 200
            got = await ws.notifications_until(
                lambda f: f["payload"].get("event_type") == "rule.disabled")
            assert [(f["notification_type"], f["payload"]["rule_ref"],
                     f["payload"]["event_type"]) for f in got] == [
                ("rule_lifecycle_changed", "core.on_sensed", "rule.created"),
                ("rule_lifecycle_changed", "core.on_sensed", "rule.disabled")]


async def test_sensor_token_requests_are_checked(platform: RunningPlatform) -> None:
    async with admin_api(platform) as api:
        await _trigger(api, MINE)
        for body, field in (
                ({"sensor_ref": "core.w", "trigger_types": [MINE], "ttl_seconds": 3599},
                 "ttl_seconds"),
                ({"sensor_ref": "core.w", "trigger_types": [MINE], "ttl_seconds": 259201},
                 "ttl_seconds"),
                ({"sensor_ref": "core.w", "trigger_types": []}, "trigger_types"),
                ({"sensor_ref": "core.w", "trigger_types": ["core.nope"]}, "core.nope"),
                ({"trigger_types": [MINE]}, "sensor_ref")):
            status, answer = await _mint(api, **body)
            assert status == 422 and field in str(answer), (body, answer)
        status, answer = await _mint(api, sensor_ref="core.w", trigger_types=[MINE],
                                     ttl_seconds=259200)
        assert status == 201, answer
        # the default lifetime is a day
        status, answer = await _mint(api, sensor_ref="core.w", trigger_types=[MINE])
        left = datetime.fromisoformat(answer["data"]["expires_at"]) - datetime.now(UTC)
        assert timedelta(hours=23) < left <= timedelta(hours=24)
        # the same sensor keeps its identity
        _, again = await _mint(api, sensor_ref="core.w", trigger_types=[MINE])
        assert again["data"]["identity_id"] == answer["data"]["identity_id"]


async def test_execution_tokens_work_where_their_grants_allow(
        platform: RunningPlatform, ctx: Context) -> None:
    async with admin_api(platform) as api:
        await _trigger(api, MINE)
        me = (await api.get("/auth/me")).data

        def token(sets: list[str]) -> str:
            return permissions.issue_execution_token(
                ctx, identity_id=me["id"], login="admin", execution_id=1,
                permission_set_refs=sets, ttl=60)

        default = token(["core.execution"])  # what an action gets by default
        assert (await api.get("/api/v1/actions/core.echo", token=default)).status == 200
        assert (await api.get("/api/v1/executions", token=default)).status == 200
        emitted = await api.post("/api/v1/events", json={"trigger_ref": MINE, "payload": {}},
                                 token=default)
        assert emitted.status in (201, 202), emitted.body
        # beyond the grants: refused as for anyone else
        assert_error(await api.get("/api/v1/packs", token=default), 403, "FORBIDDEN")
        assert_error(await api.post("/api/v1/rules", json=_rule("core.r", MINE),
                                    token=default), 403, "FORBIDDEN")
        editor = token(["core.editor"])
        assert (await api.get("/api/v1/packs", token=editor)).status == 200
        assert (await api.post("/api/v1/rules", json=_rule("core.r", MINE), token=editor)
                ).status == 201
        # routes for people, not actions
        assert_error(await api.get("/auth/me", token=editor), 401, "UNAUTHORIZED")


CLIENT_ACTION = """\
import attune
from attune.api_client.api import actions, events, packs


def main(trigger_ref):
    client = attune.context.client  # the execution's token, as the worker gave it
    return {
        "action": actions.get_action.sync_detailed("core.echo", client=client).status_code,
        "event": events.create_event.sync_detailed(
            client=client, body={"trigger_ref": trigger_ref, "payload": {}}).status_code,
        "packs": packs.list_packs.sync_detailed(client=client).status_code,
    }


attune.run_action(main)
"""


async def test_an_actions_sdk_client_works_where_its_grants_allow(
        platform: RunningPlatform, tmp_path: Path) -> None:
    pack = tmp_path / "callback"
    (pack / "actions").mkdir(parents=True)
    (pack / "pack.yaml").write_text("ref: callback\nversion: 1.0.0\n")
    (pack / "actions" / "call.yaml").write_text(
        "name: call\nrunner_type: python\nentry_point: call.py\noutput_format: json\n"
        "parameters:\n  trigger_ref: {type: string, required: true}\n")
    (pack / "actions" / "call.py").write_text(CLIENT_ACTION)
    # the same code as an action granted core.viewer: its token reads packs too
    (pack / "actions" / "look.yaml").write_text(
        "name: look\nrunner_type: python\nentry_point: call.py\noutput_format: json\n"
        "permission_sets: [core.viewer]\n"
        "parameters:\n  trigger_ref: {type: string, required: true}\n")
    async with admin_api(platform) as api:
        await _trigger(api, MINE)
        assert (await api.post("/api/v1/packs/register", json={"path": str(pack)})
                ).status == 200
        requested = await api.post("/api/v1/executions/execute", json={
            "action_ref": "callback.call", "parameters": {"trigger_ref": MINE}})
        assert requested.status in (201, 202), requested.body

        async def finished() -> dict[str, Any] | None:
            data = (await api.get(f"/api/v1/executions/{requested.data['id']}")).data
            return data if data["status"] in ("completed", "failed") else None
        done = await eventually(finished, timeout=60)
        assert done["status"] == "completed", done
        # core.execution (the default grants): actions and events yes, packs no
        statuses = done["result"]["data"]
        assert (statuses["action"], statuses["packs"]) == (200, 403), statuses
        assert statuses["event"] in (201, 202), statuses  # 202: the read model lagged

        # an action granted core.viewer: reads packs, and may no longer post events
        # (the requester is an admin: its permissions never reach the action)
        looked = await api.post("/api/v1/executions/execute", json={
            "action_ref": "callback.look", "parameters": {"trigger_ref": MINE}})
        requested = looked
        done = await eventually(finished, timeout=60)
        assert done["status"] == "completed", done
        statuses = done["result"]["data"]
        assert (statuses["action"], statuses["packs"], statuses["event"]) == (
            200, 200, 403), statuses
