"""`attune policy list|show|create|update|enable|disable|delete` as real processes
against a running platform: tables, JSON and YAML, and errors that say what is wrong."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from tests.conftest import RunningPlatform
from tests.test_cli_commands import Cli


async def test_policy_commands(platform: RunningPlatform, tmp_path: Path) -> None:
    cli = Cli(platform.api_url, tmp_path)
    await cli.login()

    async def ok(*args: str) -> str:
        ran = await cli(*args, COLUMNS="200")  # wide enough that no cell is folded
        assert ran.code == 0, (args, ran)
        return ran.out

    async def data(*args: str) -> Any:
        return json.loads(await ok(*args, "-o", "json"))

    async def fails(*args: str, code: int = 1) -> str:
        ran = await cli(*args)
        assert ran.code == code, (args, ran)
        return ran.err

    assert "--group-by PARAM" in await ok("policy", "create", "--help")
    assert "Policy core.one_deploy created." in await ok(
        "policy", "create", "core.one_deploy", "--action", "core.sleep",
        "--concurrency-limit", "1", "--on-concurrency", "cancel", "--group-by", "message",
        "--priority", "3", "--description", "One sleep per message.")
    made = await data("policy", "create", "core.throttle", "--pack", "core",
                      "--rate-limit-max", "10", "--rate-limit-window", "60", "--disabled")
    assert (made["target_pack_ref"], made["rate_limit"], made["enabled"]) == (
        "core", {"max_executions": 10, "window_seconds": 60}, False)

    table = await ok("policy", "list")
    assert "core.one_deploy" in table and "action core.sleep" in table
    assert "1 at once per message (cancel)" in table and "10 per 60s" in table
    listed = await data("policy", "list", "--enabled")
    assert [p["ref"] for p in listed["items"]] == ["core.one_deploy"]
    under = await data("policy", "list", "--action", "core.sleep")
    assert {p["ref"]: p["effective"] for p in under["items"]} == {
        "core.one_deploy": True, "core.throttle": False}
    shown = await ok("policy", "show", "core.one_deploy")
    assert "One sleep per message." in shown and "Applies to" in shown
    as_yaml = yaml.safe_load(await ok("policy", "show", "core.one_deploy", "-o", "yaml"))
    assert as_yaml["concurrency"] == {"limit": 1, "method": "cancel", "parameters": ["message"]}

    # update changes what it is told to, keeps the rest
    changed = await data("policy", "update", "core.one_deploy", "--concurrency-limit", "2",
                         "--rate-limit-max", "5", "--rate-limit-window", "10")
    assert (changed["concurrency"], changed["rate_limit"], changed["priority"]) == (
        {"limit": 2, "method": "cancel", "parameters": ["message"]},
        {"max_executions": 5, "window_seconds": 10}, 3)
    dropped = await data("policy", "update", "core.one_deploy", "--no-rate-limit")
    assert dropped["rate_limit"] is None and dropped["concurrency"]["limit"] == 2
    assert "Policy core.throttle enabled." in await ok("policy", "enable", "core.throttle")
    assert (await data("policy", "disable", "core.throttle"))["enabled"] is False

    # refusals: the client's own, and the server's reasons
    assert "exactly one of --action REF or --pack REF" in await fails(
        "policy", "create", "core.x", "--concurrency-limit", "1", code=2)
    assert "--concurrency-limit N and/or --rate-limit-max" in await fails(
        "policy", "create", "core.x", "--action", "core.sleep", code=2)
    assert "both --rate-limit-max and --rate-limit-window" in await fails(
        "policy", "create", "core.x", "--action", "core.sleep", "--rate-limit-max", "3",
        code=2)
    err = await fails("policy", "create", "core.x", "--action", "core.sleep",
                      "--concurrency-limit", "1", "--group-by", "colour")
    assert err.startswith("Error: ") and "'colour'" in err and "core.sleep" in err
    assert "action 'core.nothing' not found" in await fails(
        "policy", "create", "core.x", "--action", "core.nothing", "--concurrency-limit", "1")
    assert "already exists" in await fails(
        "policy", "create", "core.one_deploy", "--action", "core.sleep",
        "--concurrency-limit", "1")
    assert "policy 'core.nothing' not found" in await fails("policy", "show", "core.nothing")
    assert "nothing to change" in await fails("policy", "update", "core.one_deploy", code=2)

    for ref in ("core.one_deploy", "core.throttle"):
        assert f"Policy {ref} deleted." in await ok("policy", "delete", ref)
    assert "(none)" in await ok("policy", "list")
