"""The audit trail on real NATS and PostgreSQL: every request recorded (actor, token
type, resource, outcome, request id) through the batched ATTUNE_AUDIT stream, every
change derived from the event stream, both found by request id; no secret value or
webhook key in any audit row; only audit_log:read may list them; and the history of
a rule and a key, with who and when, from the events."""

from __future__ import annotations

from typing import Any

import aiohttp

from attune.app import identities
from attune.eventstore.envelope import Meta
from tests.api_http import Api, admin_api, assert_error
from tests.conftest import RunningPlatform, eventually, projected

SECRET = "audit-never-sees-this-value"
TRIGGER = {"ref": "core.deployed", "description": "A service was deployed.",
           "out_schema": {"service": {"type": "string"}}}
RULE = {"ref": "core.on_deploy", "trigger_ref": "core.deployed", "action_ref": "core.echo",
        "action_params": {"message": "deployed"}}


async def by_request(api: Api, request_id: str, count: int) -> list[dict[str, Any]]:
    async def probe() -> list[dict[str, Any]] | None:
        answer = await api.get(f"/api/v1/audit-events/by-request/{request_id}")
        items = answer.body.get("items", []) if answer.status == 200 else []
        return items if len(items) >= count else None
    return list(await eventually(probe))


async def audit_text(api: Api) -> str:
    rows = await api.get("/api/v1/audit-events", params={"page_size": "100"})
    assert rows.status == 200, rows.body
    return repr(rows.body)


async def test_requests_and_changes_are_audited_without_secrets(platform: RunningPlatform
                                                                ) -> None:
    ctx = platform.ctx
    seq = await identities.create(ctx, "auditviewer", "viewer-password-1",
                                  permission_set_refs=["core.viewer"],
                                  meta=Meta.new(actor="test"))
    await projected(ctx, seq)
    async with admin_api(platform) as api, aiohttp.ClientSession() as session:
        created = await api.post("/api/v1/keys", json={
            "owner_type": "system", "name": "audited", "value": SECRET},
            headers={"X-Request-Id": "req-audit-key-1"})
        assert created.status == 201, created.body
        rows = await by_request(api, "req-audit-key-1", 2)
        request = next(r for r in rows if r["kind"] == "request")
        change = next(r for r in rows if r["kind"] == "change")
        assert (request["actor"], request["token_type"], request["category"],
                request["action"], request["outcome"], request["status"]) == (
            "admin", "access", "keys", "create", "success", 201)
        assert request["event_type"] == "POST /api/v1/keys"
        assert (change["event_type"], change["category"], change["resource_ref"],
                change["actor"], change["token_type"]) == (
            "key.set", "keys", "system.audited", "admin", "access")
        one = await api.get(f"/api/v1/audit-events/{change['id']}")
        assert one.data == change

        viewer = Api(session, platform.api_url)
        await viewer.login("auditviewer", "viewer-password-1")
        refused = await viewer.post("/api/v1/keys", json={
            "owner_type": "system", "name": "nope", "value": SECRET},
            headers={"X-Request-Id": "req-audit-denied"})
        assert refused.status == 403
        denied = (await by_request(api, "req-audit-denied", 1))[0]
        assert (denied["actor"], denied["outcome"], denied["status"]) == (
            "auditviewer", "denied", 403)
        assert_error(await viewer.get("/api/v1/audit-events"), 403, "FORBIDDEN",
                     "audit_log:read")

        # the webhook key is the credential in its path: never recorded
        hook = await api.post("/api/v1/webhooks/wh_thisisasecretkey", json={},
                              headers={"X-Request-Id": "req-audit-hook"})
        assert hook.status in (403, 404), hook.body
        hooked = (await by_request(api, "req-audit-hook", 1))[0]
        assert hooked["event_type"] == "POST /api/v1/webhooks/{key}"
        assert hooked["resource_ref"] is None

        text = await audit_text(api)
        assert SECRET not in text and "wh_thisisasecretkey" not in text
        for table in ("audit_requests", "audit_changes"):
            dump = repr([dict(r) for r in await ctx.pool.fetch(f"SELECT * FROM {table}")])
            assert SECRET not in dump and "wh_thisisasecretkey" not in dump

        denied_only = await api.get("/api/v1/audit-events", params={
            "outcome": "denied", "actor": "auditviewer", "include_total": "true"})
        assert denied_only.body["pagination"]["total_items"] >= 2  # key create, audit list
        assert {r["outcome"] for r in denied_only.body["items"]} == {"denied"}
        changes = await api.get("/api/v1/audit-events", params={"kind": "change",
                                                               "category": "keys"})
        assert [r["resource_ref"] for r in changes.body["items"]] == ["system.audited"]


async def test_history_of_a_rule_and_a_key(platform: RunningPlatform) -> None:
    async with admin_api(platform) as api:
        assert (await api.post("/api/v1/triggers", json=TRIGGER)).status == 201
        assert (await api.post("/api/v1/rules", json=RULE)).status == 201
        changed = await api.request("PUT", "/api/v1/rules/core.on_deploy",
                                    json={"description": "now described"})
        assert changed.status == 200, changed.body
        assert (await api.post("/api/v1/rules/core.on_deploy/disable")).status == 200

        history = await api.get("/api/v1/rules/core.on_deploy/history")
        assert history.status == 200, history.body
        steps = history.body["data"]
        assert [s["event_type"] for s in steps] == ["rule.defined", "rule.defined",
                                                    "rule.disabled"]
        assert all(s["actor"] == "admin" for s in steps)
        assert steps[0]["summary"]["created"] is True
        assert steps[1]["summary"]["changed"] == ["description"]
        assert steps[0]["at"] <= steps[1]["at"] <= steps[2]["at"]

        await api.post("/api/v1/keys", json={"ref": "system.rotating", "value": SECRET})
        await api.request("PUT", "/api/v1/keys/system.rotating", json={"value": "v2" + SECRET})
        await api.request("DELETE", "/api/v1/keys/system.rotating")
        keys = await api.get("/api/v1/keys/system.rotating/history")
        assert [s["event_type"] for s in keys.body["data"]] == ["key.set", "key.set",
                                                                "key.deleted"]
        assert keys.body["data"][0]["summary"]["value"] == "(hidden)"
        assert SECRET not in repr(keys.body)

        action = await api.get("/api/v1/history/action/core.echo")
        assert action.body["data"][0]["event_type"] == "action.defined"
        assert action.body["data"][0]["actor"] == "system"
        missing = await api.get("/api/v1/rules/core.no_such_rule/history")
        assert_error(missing, 404, "NOT_FOUND", "no history")
        unknown = await api.get("/api/v1/history/gadget/x.y")
        assert_error(unknown, 404, "NOT_FOUND", "no history for 'gadget'")
