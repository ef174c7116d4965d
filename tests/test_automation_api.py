"""Triggers and rules through HTTP: CRUD for API-created ones, pack components guarded
(409 naming the pack), and every way a rule can be wrong refused at creation with a
message naming the field — changing nothing."""

from __future__ import annotations

from typing import Any

from tests.api_http import Api, admin_api, assert_error
from tests.conftest import RunningPlatform, eventually

DEPLOYED = {"ref": "core.deployed", "description": "A service was deployed.",
            "out_schema": {"service": {"type": "string", "required": True},
                           "replicas": {"type": "integer", "minimum": 1}},
            "param_schema": {"env": {"type": "string", "enum": ["prod", "staging"]}}}
RULE = {"ref": "core.on_deploy", "trigger_ref": "core.deployed", "action_ref": "core.echo",
        "conditions": [{"field": "service", "operator": "startswith", "value": "web"}],
        "action_params": {"message": "deployed {{ event.payload.service }}"},
        "trigger_params": {"env": "prod"}}


async def _refs(api: Api, path: str, **params: Any) -> list[str]:
    answer = await api.get(path, params=params or None)
    assert answer.status == 200, answer.body
    return [item["ref"] for item in answer.body["items"]]


async def test_triggers_crud_and_pack_guard(platform: RunningPlatform) -> None:
    async with admin_api(platform) as api:
        core = await _refs(api, "/api/v1/packs/core/triggers")
        assert {"core.webhook", "core.intervaltimer", "core.crontimer"} <= set(core)
        timer = (await api.get("/api/v1/triggers/core.intervaltimer")).data
        assert timer["source"] == "pack" and timer["param_schema"]["interval"]["required"]
        assert timer["webhook"] == {"enabled": False, "key": None, "url": None, "security": {
            "hmac_algorithm": None, "hmac_secret_set": False, "rate_limit_per_minute": None,
            "max_payload_bytes": 1048576, "ip_allowlist": []}}

        created = await api.post("/api/v1/triggers", json=DEPLOYED)
        assert created.status == 201, created.body
        trigger = created.data
        assert (trigger["ref"], trigger["pack_ref"], trigger["label"], trigger["source"]) == (
            "core.deployed", "core", "deployed", "api")
        assert trigger["out_schema"]["replicas"]["minimum"] == 1
        assert (await api.get("/api/v1/triggers/core.deployed")).data == trigger
        assert "core.deployed" in await _refs(api, "/api/v1/triggers", q="DEPLOY service")
        assert await _refs(api, "/api/v1/triggers", q="deployed nothing-like-this") == []

        # refused, and nothing changed
        assert_error(await api.post("/api/v1/triggers", json=DEPLOYED), 409, "CONFLICT",
                     "already exists", "PUT")
        assert_error(await api.post("/api/v1/triggers", json={"ref": "nopack.thing"}),
                     404, "NOT_FOUND", "pack 'nopack' not found")
        assert_error(await api.post("/api/v1/triggers", json={"ref": "core.Bad Name"}),
                     422, "VALIDATION_ERROR", "<pack>.<name>")
        assert_error(await api.post("/api/v1/triggers", json={
            "ref": "core.typo", "out_schema": {"x": {"type": "strnig"}}}),
            422, "VALIDATION_ERROR", "out_schema.x.type")
        assert_error(await api.post("/api/v1/triggers", json={"ref": "core.x", "colour": 1}),
                     422, "VALIDATION_ERROR", "colour", "unknown field")
        assert_error(await api.get("/api/v1/triggers/core.nothing"), 404, "NOT_FOUND",
                     "core.nothing")
        assert_error(await api.get("/api/v1/packs/nopack/triggers"), 404, "NOT_FOUND")

        changed = await api.request("PUT", "/api/v1/triggers/core.deployed",
                                    json={"description": "Deployed!", "tags": ["ops"]})
        assert changed.status == 200, changed.body
        assert changed.data["description"] == "Deployed!" and changed.data["tags"] == ["ops"]
        assert changed.data["out_schema"] == trigger["out_schema"]  # untouched fields kept
        assert changed.sequence > created.sequence

        # pack triggers change with their pack; enabling and disabling them is allowed
        assert_error(await api.request("PUT", "/api/v1/triggers/core.intervaltimer",
                                       json={"description": "mine"}),
                     409, "CONFLICT", "belongs to pack 'core'", "register it again")
        assert_error(await api.request("DELETE", "/api/v1/triggers/core.webhook"),
                     409, "CONFLICT", "comes from a pack")
        off = await api.post("/api/v1/triggers/core.intervaltimer/disable")
        assert off.status == 200 and off.data["enabled"] is False
        assert "core.intervaltimer" in await _refs(api, "/api/v1/triggers", enabled="false")
        assert "core.intervaltimer" not in await _refs(api, "/api/v1/triggers/enabled")
        on = await api.post("/api/v1/triggers/core.intervaltimer/enable")
        assert on.data["enabled"] is True
        assert "core.intervaltimer" in await _refs(api, "/api/v1/triggers/enabled")
        again = await api.post("/api/v1/triggers/core.intervaltimer/enable")
        assert again.sequence == on.sequence  # already enabled: nothing appended

        deleted = await api.request("DELETE", "/api/v1/triggers/core.deployed")
        assert deleted.status == 200, deleted.body
        assert deleted.body == {"success": True, "message": "trigger 'core.deployed' deleted"}
        assert_error(await api.get("/api/v1/triggers/core.deployed"), 404, "NOT_FOUND")
        assert_error(await api.request("DELETE", "/api/v1/triggers/core.deployed"),
                     404, "NOT_FOUND")


async def test_rules_crud_and_precise_refusals(platform: RunningPlatform) -> None:
    async with admin_api(platform) as api:
        assert (await api.post("/api/v1/triggers", json=DEPLOYED)).status == 201

        bad: list[tuple[dict[str, Any], int, tuple[str, ...]]] = [
            ({"trigger_ref": "core.nothing"}, 404, ("trigger_ref", "core.nothing")),
            ({"action_ref": "core.nothing"}, 404, ("action_ref", "core.nothing")),
            ({"ref": "nopack.rule"}, 404, ("pack 'nopack' not found",)),
            ({"conditions": [{"field": "a", "operator": "resembles", "value": 1}]}, 422,
             ("conditions[0].operator", "unknown operator 'resembles'")),
            ({"conditions": [{"field": "a", "operator": "regex", "value": "(unclosed"}]}, 422,
             ("conditions[0]",)),
            ({"conditions": [{"operator": "equals", "value": 1}]}, 422,
             ("conditions[0].field",)),
            ({"conditions": {"expression": "{{ event.payload.x == }}"}}, 422,
             ("conditions.expression", "syntax error")),
            ({"conditions": {"expression": "plain text"}}, 422,
             ("conditions.expression", "one {{ expression }}")),
            ({"conditions": {"when": "x"}}, 422, ('{"expression": "{{ ... }}"}',)),
            ({"conditions": "severity == critical"}, 422, ("conditions",)),
            ({"action_params": {"message": "hi {{ event.payload.( }}"}}, 422,
             ("action_params.message", "syntax error")),
            ({"action_params": {"cmd": ["ok", {"x": "{{ nope( }}"}]}}, 422,
             ("action_params.cmd[1].x",)),
            ({"trigger_params": {"env": "qa"}}, 422,
             ("trigger_params", "env: must be one of")),
            ({"trigger_params": {"region": "eu"}}, 422,
             ("trigger_params", "region: unknown parameter")),
            ({"condition": "most"}, 422, ("condition",)),
        ]
        for change, status, fragments in bad:
            answer = await api.post("/api/v1/rules", json={**RULE, **change})
            assert_error(answer, status, "NOT_FOUND" if status == 404 else "VALIDATION_ERROR",
                         *fragments)
        assert await _refs(api, "/api/v1/rules") == []

        created = await api.post("/api/v1/rules", json=RULE)
        assert created.status == 201, created.body
        rule = created.data
        assert (rule["pack_ref"], rule["label"], rule["source"], rule["enabled"]) == (
            "core", "on_deploy", "api", True)
        assert rule["conditions"] == [{"field": "service", "operator": "startswith",
                                       "value": "web", "condition": "any"}]
        assert (await api.get("/api/v1/rules/core.on_deploy")).data == rule
        assert_error(await api.post("/api/v1/rules", json=RULE), 409, "CONFLICT",
                     "already exists")

        expression = {**RULE, "ref": "core.on_web", "enabled": False, "conditions": {
            "expression": "{{ event.payload.service in ['web', 'api'] }}"}}
        assert (await api.post("/api/v1/rules", json=expression)).status == 201

        # filters, and the lists under a pack, an action and a trigger
        assert await _refs(api, "/api/v1/rules") == ["core.on_deploy", "core.on_web"]
        assert await _refs(api, "/api/v1/rules/enabled") == ["core.on_deploy"]
        assert await _refs(api, "/api/v1/rules", enabled="false") == ["core.on_web"]
        assert await _refs(api, "/api/v1/rules", q="on_web") == ["core.on_web"]
        assert await _refs(api, "/api/v1/rules", trigger_ref="core.deployed",
                           action_ref="core.echo", pack_ref="core") == [
            "core.on_deploy", "core.on_web"]
        assert await _refs(api, "/api/v1/rules", action_ref="core.noop") == []
        for parent in ("packs/core", "actions/core.echo", "triggers/core.deployed"):
            assert len(await _refs(api, f"/api/v1/{parent}/rules")) == 2, parent
        for parent in ("packs/nopack", "actions/core.nothing", "triggers/core.nothing"):
            assert_error(await api.get(f"/api/v1/{parent}/rules"), 404, "NOT_FOUND")
        listed = await api.get("/api/v1/rules", params={"include_total": "true",
                                                         "page_size": "1"})
        assert listed.body["pagination"] == {"page": 1, "page_size": 1, "has_next": True,
                                             "has_previous": False, "total_items": 2,
                                             "total_pages": 2}

        # a trigger in use cannot be deleted
        assert_error(await api.request("DELETE", "/api/v1/triggers/core.deployed"),
                     409, "CONFLICT", "core.on_deploy", "core.on_web")

        # updates are checked like creations; untouched fields are kept
        assert_error(await api.request("PUT", "/api/v1/rules/core.on_deploy", json={
            "action_params": {"message": "{{ }}"}}), 422, "VALIDATION_ERROR",
            "action_params.message")
        changed = await api.request("PUT", "/api/v1/rules/core.on_deploy", json={
            "condition": "any", "conditions": None, "label": "On deploy"})
        assert changed.status == 200, changed.body
        assert (changed.data["conditions"], changed.data["condition"], changed.data["label"]
                ) == ([], "any", "On deploy")
        assert changed.data["action_params"] == RULE["action_params"]
        assert_error(await api.request("PUT", "/api/v1/rules/core.nothing", json={}),
                     404, "NOT_FOUND")

        off = await api.post("/api/v1/rules/core.on_deploy/disable")
        assert off.data["enabled"] is False
        assert await _refs(api, "/api/v1/rules/enabled") == []
        assert (await api.post("/api/v1/rules/core.on_web/enable")).data["enabled"] is True

        for ref in ("core.on_deploy", "core.on_web"):
            gone = await api.request("DELETE", f"/api/v1/rules/{ref}")
            assert gone.body == {"success": True, "message": f"rule {ref!r} deleted"}
        assert_error(await api.get("/api/v1/rules/core.on_web"), 404, "NOT_FOUND")
        assert (await api.request("DELETE", "/api/v1/triggers/core.deployed")).status == 200


async def test_events_enforcements_and_rule_executions(platform: RunningPlatform) -> None:
    ctx = platform.ctx
    async with admin_api(platform) as api:
        assert (await api.post("/api/v1/triggers", json=DEPLOYED)).status == 201

        # an event posted by an administrator, read back at once (201 after projection)
        posted = await api.post("/api/v1/events", json={
            "trigger_ref": "core.deployed", "payload": {"service": "web", "extra": [1]}})
        assert posted.status == 201, posted.body
        event = posted.data
        assert (event["id"], event["source"], event["payload"]) == (
            posted.sequence, "api", {"service": "web", "extra": [1]})
        assert (await api.get(f"/api/v1/events/{event['id']}")).data == event

        # the same trigger_instance_id gives the same event back (`trigger_type` alias)
        once = {"trigger_type": "core.deployed", "payload": {"service": "api"},
                "trigger_instance_id": "deploy-42"}
        first = await api.post("/api/v1/events", json=once)
        second = await api.post("/api/v1/events", json=once)
        assert first.data["id"] == second.data["id"] != event["id"]
        assert first.data["trigger_instance_id"] == "deploy-42"

        # the payload must fit the out_schema; unknown and disabled triggers are refused
        bad = await api.post("/api/v1/events", json={
            "trigger_ref": "core.deployed", "payload": {"replicas": 0, "note": "x"}})
        assert_error(bad, 422, "VALIDATION_ERROR", "out_schema", "service: is required",
                     "replicas: must be >= 1")
        assert {d["field"] for d in bad.body["details"]} == {"payload.service",
                                                            "payload.replicas"}
        assert_error(await api.post("/api/v1/events", json={"trigger_ref": "core.nothing"}),
                     404, "NOT_FOUND", "core.nothing")
        await api.post("/api/v1/triggers/core.deployed/disable")
        assert_error(await api.post("/api/v1/events", json={
            "trigger_ref": "core.deployed", "payload": {"service": "web"}}),
            409, "CONFLICT", "disabled")
        await api.post("/api/v1/triggers/core.deployed/enable")
        assert_error(await api.post("/api/v1/events", json={"payload": {}}), 422,
                     "VALIDATION_ERROR", "trigger_ref")

        # sensor tokens: events of their own trigger types only, nothing else
        admin_id = int(await ctx.pool.fetchval("SELECT id FROM identities WHERE login = 'admin'"))
        sensor = ctx.tokens.issue(admin_id, "admin", "sensor", metadata={
            "trigger_types": ["core.deployed"], "sensor_ref": "core.deploy_watcher"})
        by_sensor = await api.post("/api/v1/events", token=sensor, json={
            "trigger_ref": "core.deployed", "payload": {"service": "worker"}})
        assert by_sensor.status == 201, by_sensor.body
        assert (by_sensor.data["source"], by_sensor.data["source_ref"]) == (
            "sensor", "core.deploy_watcher")
        assert_error(await api.post("/api/v1/events", token=sensor, json={
            "trigger_ref": "core.webhook", "payload": {}}), 403, "FORBIDDEN",
            "only emit events of its trigger types (core.deployed)")
        # a token naming no trigger types, and an unknown trigger, are 403 alike
        bare = ctx.tokens.issue(admin_id, "admin", "sensor")
        assert_error(await api.post("/api/v1/events", token=bare, json={
            "trigger_ref": "core.deployed"}), 403, "FORBIDDEN")
        assert_error(await api.post("/api/v1/events", token=sensor, json={
            "trigger_ref": "core.nothing"}), 403, "FORBIDDEN")
        # other routes do not take sensor tokens at all
        assert_error(await api.get("/api/v1/events", token=sensor), 401, "UNAUTHORIZED",
                     "wrong token type 'sensor'")
        assert_error(await api.post("/api/v1/executions/execute", token=sensor,
                                    json={"action_ref": "core.noop"}), 401, "UNAUTHORIZED")
        refresh = ctx.tokens.issue(admin_id, "admin", "refresh")
        assert_error(await api.post("/api/v1/events", token=refresh, json={
            "trigger_ref": "core.deployed"}), 401, "UNAUTHORIZED", "wrong token type")

        # events are immutable
        for method in ("PUT", "DELETE"):
            answer = await api.request(method, f"/api/v1/events/{event['id']}", json={})
            assert answer.status == 405, answer.body

        # a rule turns matching events into enforcements and executions
        rule = await api.post("/api/v1/rules", json=RULE)
        assert rule.status == 201, rule.body
        matched = await api.post("/api/v1/events", json={
            "trigger_ref": "core.deployed", "payload": {"service": "webshop"}})
        skipped = await api.post("/api/v1/events", json={
            "trigger_ref": "core.deployed", "payload": {"service": "db"}})
        matched_id, skipped_id = matched.data["id"], skipped.data["id"]

        async def enforced() -> Any:
            answer = await api.get("/api/v1/enforcements", params={"rule_ref": RULE["ref"]})
            items = answer.body["items"]
            return items if items and items[0]["status"] != "created" else None
        enforcements = await eventually(enforced)
        assert len(enforcements) == 1
        enforcement = enforcements[0]
        assert (enforcement["event_id"], enforcement["status"], enforcement["action_ref"],
                enforcement["trigger_ref"]) == (matched_id, "processed", "core.echo",
                                                "core.deployed")
        assert enforcement["config"] == {"message": "deployed webshop"}
        assert enforcement["payload"] == {"service": "webshop"}
        assert enforcement["resolved_at"] is not None
        assert (await api.get(f"/api/v1/enforcements/{enforcement['id']}")).data == enforcement
        for params, expected in (({"event_id": str(matched_id)}, 1),
                                 ({"event_id": str(skipped_id)}, 0),
                                 ({"status": "processed"}, 1), ({"status": "disabled"}, 0),
                                 ({"rule_ref": "core.other"}, 0)):
            listed = await api.get("/api/v1/enforcements", params=params)
            assert len(listed.body["items"]) == expected, params
        assert_error(await api.get("/api/v1/enforcements", params={"status": "done"}),
                     422, "VALIDATION_ERROR", "status")
        assert_error(await api.get("/api/v1/enforcements/999999"), 404, "NOT_FOUND",
                     "enforcement 999999")

        # the execution links back to the enforcement, the rule and the event
        execution_id = enforcement["execution_id"]
        execution = (await api.get(f"/api/v1/executions/{execution_id}")).data
        assert (execution["enforcement"], execution["rule_ref"], execution["trigger_ref"],
                execution["event_id"], execution["parameters"]) == (
            enforcement["id"], RULE["ref"], "core.deployed", matched_id,
            {"message": "deployed webshop", "uppercase": False})
        for params in ({"rule_ref": RULE["ref"]}, {"rule_ref": "core.*"},
                       {"trigger_ref": "core.deployed"}, {"trigger_ref": "core.*"},
                       {"enforcement": str(enforcement["id"])}):
            listed = await api.get("/api/v1/executions", params=params)
            assert [e["id"] for e in listed.body["items"]] == [execution_id], params
        for params in ({"rule_ref": "other.*"}, {"trigger_ref": "core.webhook"},
                       {"enforcement": str(enforcement["id"] + 1)}):
            assert (await api.get("/api/v1/executions", params=params)).body["items"] == []

        # event lists: newest first, filters, pagination
        listed = await api.get("/api/v1/events", params={"trigger_ref": "core.deployed",
                                                         "include_total": "true"})
        ids = [e["id"] for e in listed.body["items"]]
        assert ids == sorted(ids, reverse=True) and ids[0] == skipped_id
        assert listed.body["pagination"]["total_items"] == 5
        sensors = await api.get("/api/v1/events", params={"source": "sensor"})
        assert [e["id"] for e in sensors.body["items"]] == [by_sensor.data["id"]]
        page = await api.get("/api/v1/events", params={"page_size": "2", "page": "2"})
        assert page.body["pagination"]["has_previous"] is True
        assert (await api.get("/api/v1/events", params={"rule_ref": "x.y"})).body["items"] == []
        assert_error(await api.get("/api/v1/events", params={"source": "telepathy"}), 422,
                     "VALIDATION_ERROR", "source")
        assert_error(await api.get("/api/v1/events/999999"), 404, "NOT_FOUND")

        # an event for one rule instance (a sensor emitting for one of its rules): only
        # that rule is evaluated; the rule must exist and be of the event's trigger
        other = {**RULE, "ref": "core.on_deploy_too"}
        assert (await api.post("/api/v1/rules", json=other)).status == 201
        targeted = await api.post("/api/v1/events", json={
            "trigger_ref": "core.deployed", "payload": {"service": "website"},
            "rule_ref": other["ref"]})
        assert targeted.status in (201, 202), targeted.body

        async def enforced_once() -> Any:
            answer = await api.get("/api/v1/enforcements",
                                   params={"event_id": str(targeted.data["id"])})
            items = answer.body["items"]
            return items if items and items[0]["status"] != "created" else None
        assert [e["rule_ref"] for e in await eventually(enforced_once)] == [other["ref"]]
        assert_error(await api.post("/api/v1/events", json={
            "trigger_ref": "core.deployed", "payload": {"service": "web"},
            "rule_ref": "core.nothing"}), 422, "VALIDATION_ERROR", "no rule 'core.nothing'")
        assert_error(await api.post("/api/v1/events", json={
            "trigger_ref": "core.webhook", "payload": {}, "rule_ref": other["ref"]}),
            422, "VALIDATION_ERROR", "is not a rule of trigger 'core.webhook'")
