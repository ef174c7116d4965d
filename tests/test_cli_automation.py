"""`attune trigger|webhook|event|rule|enforcement` as real processes against a running
platform: what a user types, what they see (tables, JSON, YAML), and errors that say
what is wrong."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import RunningPlatform, eventually
from tests.test_cli_commands import Cli

OUT_SCHEMA = json.dumps({"service": {"type": "string", "required": True}})
PACK_STYLE_RULE = """\
ref: core.on_deploy_file
description: From a file in the pack form.
trigger: {type: core.deployed}
action:
  ref: core.echo
  parameters: {message: "file saw {{ event.payload.service }}"}
conditions:
  - {field: service, operator: istartswith, value: WEB}
"""


@pytest.fixture
def cli(platform: RunningPlatform, tmp_path: Path) -> Cli:
    return Cli(platform.api_url, tmp_path)


async def test_automation_commands(cli: Cli, tmp_path: Path) -> None:
    await cli.login()

    async def ok(*args: str) -> str:
        ran = await cli(*args)
        assert ran.code == 0, (args, ran)
        return ran.out

    async def data(*args: str) -> Any:
        return json.loads(await ok(*args, "-o", "json"))

    async def fails(*args: str) -> str:
        ran = await cli(*args)
        assert ran.code == 1, (args, ran)
        assert ran.err.startswith("Error: "), ran.err
        return ran.err

    # triggers
    table = await ok("trigger", "list", "--pack", "core")
    assert "core.webhook" in table and "core.intervaltimer" in table and "REF" in table
    created = await data("trigger", "create", "--ref", "core.deployed", "--description",
                         "A deploy finished.", "--out-schema", OUT_SCHEMA)
    assert (created["ref"], created["source"]) == ("core.deployed", "api")
    shown = await ok("trigger", "show", "core.deployed")
    assert "A deploy finished." in shown and "Payload (out_schema)" in shown
    assert "service" in shown
    assert "--out-schema is not valid JSON" in await fails(
        "trigger", "create", "--ref", "core.x", "--out-schema", "{nope")
    assert "already exists" in await fails("trigger", "create", "--ref", "core.deployed")
    assert "comes from a pack" in await fails("trigger", "delete", "core.webhook")
    assert "Trigger core.deployed disabled." in await ok("trigger", "disable", "core.deployed")
    listed = await data("trigger", "list", "--disabled")
    assert [t["ref"] for t in listed["items"]] == ["core.deployed"]
    assert (await data("trigger", "enable", "core.deployed"))["enabled"] is True

    # rules: from a file in the pack form, from options, refused with the server's reason
    rule_file = tmp_path / "rule.yaml"
    rule_file.write_text(PACK_STYLE_RULE)
    from_file = await data("rule", "create", str(rule_file))
    assert (from_file["trigger_ref"], from_file["action_ref"], from_file["action_params"]) == (
        "core.deployed", "core.echo", {"message": "file saw {{ event.payload.service }}"})
    from_flags = await data(
        "rule", "create", "--ref", "core.on_deploy", "--trigger", "core.deployed",
        "--action", "core.echo", "--param", "message=deployed {{ event.payload.service }}",
        "--param", "uppercase=true", "--conditions",
        '[{"field": "service", "operator": "equals", "value": "web"}]', "--disabled")
    assert from_flags["action_params"] == {"message": "deployed {{ event.payload.service }}",
                                           "uppercase": True}
    assert from_flags["enabled"] is False
    err = await fails("rule", "create", "--ref", "core.bad", "--trigger", "core.deployed",
                      "--action", "core.echo", "--conditions",
                      '[{"field": "a", "operator": "resembles"}]')
    assert "conditions[0].operator: unknown operator 'resembles'" in err
    err = await fails("rule", "create", "--ref", "core.bad", "--trigger", "core.nothing",
                      "--action", "core.echo")
    assert "trigger_ref" in err and "core.nothing" in err
    assert "missing --trigger, --action" in (await cli("rule", "create", "--ref", "x.y")).err
    listed = yaml.safe_load(await ok("rule", "list", "--trigger", "core.deployed", "-o",
                                     "yaml"))
    assert [r["ref"] for r in listed["items"]] == ["core.on_deploy", "core.on_deploy_file"]
    assert "core.on_deploy_file" in await ok("rule", "list", "--enabled")
    assert "deployed {{ event.payload.service }}" in await ok("rule", "show", "core.on_deploy")
    assert "Rule core.on_deploy enabled." in await ok("rule", "enable", "core.on_deploy")

    # webhooks: enable, post (looked-up key, no token), HMAC
    enabled = await ok("webhook", "enable", "core.deployed")
    assert "/api/v1/webhooks/wh_" in enabled
    webhook = await data("webhook", "show", "core.deployed")
    assert webhook["enabled"] is True and webhook["key"].startswith("wh_")
    posted = await data("webhook", "post", "core.deployed", "--payload", '{"service": "web"}')
    event_id = posted["event_id"]
    assert "must be an object" in await fails("webhook", "post", "core.deployed",
                                              "--payload", "[1]")
    await ok("webhook", "configure", "core.deployed", "--hmac-algorithm", "sha256",
             "--hmac-secret", "a-secret-of-16-chars+")
    assert "signature missing" in await fails("webhook", "post", "core.deployed", "--payload",
                                              '{"service": "api"}')
    signed = await data("webhook", "post", "core.deployed", "--payload", '{"service": "api"}',
                        "--hmac-secret", "a-secret-of-16-chars+")
    assert signed["event_id"] > event_id
    await ok("webhook", "configure", "core.deployed")
    await ok("webhook", "regenerate", "core.deployed")
    assert "disabled" in await ok("webhook", "disable", "core.deployed")
    assert "`attune webhook enable core.deployed`" in await fails(
        "webhook", "post", "core.deployed")

    # events
    event = await data("event", "show", str(event_id))
    assert (event["payload"], event["source"]) == ({"service": "web"}, "webhook")
    assert "127.0.0.1" in await ok("event", "show", str(event_id))
    once = ("event", "create", "core.deployed", "--payload", '{"service": "web2"}',
            "--instance-id", "deploy-1")
    first, again = await data(*once), await data(*once)
    assert first["id"] == again["id"]
    assert "service: is required" in await fails("event", "create", "core.deployed")
    listed = await data("event", "list", "--trigger", "core.deployed", "--source", "webhook")
    assert [e["id"] for e in listed["items"]] == [signed["event_id"], event_id]
    assert "core.deployed" in await ok("event", "list")

    # enforcements: the two rules matched the webhook's "web" event
    async def enforced() -> Any:
        found = await data("enforcement", "list", "--event", str(event_id))
        items = found["items"]
        return items if len(items) == 2 and all(i["execution_id"] for i in items) else None
    enforcements = await eventually(enforced)
    assert {e["rule_ref"] for e in enforcements} == {"core.on_deploy", "core.on_deploy_file"}
    one = enforcements[0]
    shown = await ok("enforcement", "show", str(one["id"]))
    assert one["rule_ref"] in shown and "processed" in shown
    assert "core.on_deploy" in await ok("enforcement", "list", "--status", "processed")
    assert "enforcement 999999 not found" in await fails("enforcement", "show", "999999")

    # clean up: rules first (a trigger in use cannot go)
    assert "used by rules" in await fails("trigger", "delete", "core.deployed")
    for ref in ("core.on_deploy", "core.on_deploy_file"):
        assert "disabled" in await ok("rule", "disable", ref)
        assert (await data("rule", "delete", ref))["success"] is True
    assert "Trigger core.deployed deleted." in await ok("trigger", "delete", "core.deployed")
    assert "not found" in await fails("trigger", "show", "core.deployed")


@pytest.mark.parametrize("group", ["trigger", "webhook", "event", "rule", "enforcement"])
def test_help(group: str) -> None:
    from click.testing import CliRunner

    from attune.cli.main import cli as attune_cli
    result = CliRunner().invoke(attune_cli, [group, "--help"])
    assert result.exit_code == 0, result.output
    commands = [line.split()[0] for line in result.output.split("Commands:")[1].splitlines()
                if line.strip()]
    for command in commands:
        sub = CliRunner().invoke(attune_cli, [group, command, "--help"])
        assert sub.exit_code == 0 and "Usage: " in sub.output, (group, command)
        assert "-o, --output [table|json|yaml]" in sub.output, (group, command)
