"""Rule templates read keys through the `keystore` namespace; a key rendered into an
action's secret parameter is sealed before it is recorded."""

from __future__ import annotations

from typing import Any

from attune.app import executions, keys
from attune.domain.action import ActionDef
from attune.domain.rule import RuleDef
from attune.rules import engine
from attune.security.crypto import is_sealed
from tests.api_http import admin_api
from tests.conftest import RunningPlatform, eventually

SECRET = "kv-secret-0b7e91-for-the-rule"


async def test_rule_templates_read_the_keystore(platform: RunningPlatform) -> None:
    ctx = platform.ctx
    async with admin_api(platform) as api:
        for name, value in (("greeting", "hello from the keystore"), ("api_token", SECRET)):
            created = await api.post("/api/v1/keys", json={
                "owner_type": "system", "name": name, "value": value})
            assert created.status == 201, created.body
        rule = await api.post("/api/v1/rules", json={
            "ref": "core.keyed", "trigger_ref": "core.webhook", "action_ref": "core.echo",
            "action_params": {"message": "{{ keystore['system.greeting'] }}"}})
        assert rule.status == 201, rule.body
        posted = await api.post("/api/v1/events", json={
            "trigger_ref": "core.webhook", "payload": {}, "rule_ref": "core.keyed"})
        assert posted.status in (201, 202), posted.body

        async def ran() -> dict[str, Any] | None:
            listed = await api.get("/api/v1/executions", params={"rule_ref": "core.keyed"})
            items = listed.body["items"]
            return items[0] if items and items[0]["status"] == "completed" else None
        execution = await eventually(ran, timeout=30)
        assert execution["parameters"]["message"] == "hello from the keystore"
        assert execution["result"]["stdout"] == "hello from the keystore\n"

    # into a secret parameter: rendered from the key, sealed in the request
    sealing = RuleDef(ref="core.sealing", pack_ref="core", label="sealing",
                      trigger_ref="core.webhook", action_ref="core.sealed",
                      action_params={"token": "{{ keystore['system.api_token'] }}"})
    assert engine.uses_keystore(sealing)
    action = ActionDef(ref="core.sealed", pack_ref="core", name="sealed", label="sealed",
                       runtime="shell", entry_point="x.sh",
                       parameters={"token": {"type": "string", "secret": True}})
    view = engine.EventView(id=1, trigger_ref="core.webhook", payload={},
                            created=ctx.clock())
    decision = engine.evaluate(sealing, view, pack_config={}, now=ctx.clock(),
                               keystore=await keys.keystore(ctx))
    assert decision.params == {"token": SECRET}
    requested = executions.prepare(ctx, action, "/x", decision.params or {})
    assert is_sealed(requested.parameters["token"])
    assert SECRET not in requested.model_dump_json()
