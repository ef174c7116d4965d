"""`attune identity ...`, `attune permission-set ...` and `attune token-login` as real
processes against a running platform."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import RunningPlatform
from tests.test_cli_commands import Cli


async def test_identity_commands(platform: RunningPlatform, tmp_path: Path) -> None:
    cli = Cli(platform.api_url, tmp_path / "admin")
    await cli.login()

    async def ok(*args: str, on: Cli = cli) -> str:
        ran = await on(*args, COLUMNS="200")
        assert ran.code == 0, (args, ran)
        return ran.out

    assert "Identity carol created" in await ok(
        "identity", "create", "carol", "--password", "carol-password",
        "--display-name", "Carol", "--set", "core.viewer", "--attributes", '{"team": "ops"}')
    listed = await ok("identity", "list")
    assert "carol" in listed and "core.viewer" in listed
    shown = json.loads(await ok("identity", "show", "carol", "-o", "json"))
    assert shown["attributes"] == {"team": "ops"} and shown["display_name"] == "Carol"
    assert "changed" in await ok("identity", "update", "carol", "--display-name", "Caroline")
    assert json.loads(await ok("identity", "show", str(shown["id"]), "-o", "json"))[
        "display_name"] == "Caroline"

    assert "core.editor assigned to carol" in await ok("identity", "assign", "carol",
                                                       "core.editor")
    perms = await ok("identity", "permissions", "carol")
    assert "core.editor" in perms and "RESOURCE" in perms
    assert "no longer assigned" in await ok("identity", "unassign", "carol", "core.editor")
    sets = await ok("permission-set", "list")
    assert all(s in sets for s in ("core.admin", "core.editor", "core.executor",
                                   "core.viewer"))
    assert "executions" in await ok("permission-set", "show", "core.executor")

    created = json.loads(await ok("identity", "token", "create", "carol", "--label", "ci",
                                  "-o", "json"))
    token = created["token"]
    assert token.startswith("attune_it_")
    tokens = await ok("identity", "token", "list", "carol")
    assert "ci" in tokens and token not in tokens

    service = Cli(platform.api_url, tmp_path / "service")
    assert "as carol with an integration token" in await ok("token-login", token, on=service)
    assert "carol" in await ok("whoami", on=service)
    assert "Token" in await ok("identity", "token", "revoke", "carol", created["id"])
    gone = await service("whoami")
    assert gone.code == 1, gone

    assert "frozen" in await ok("identity", "freeze", "carol")
    assert "unfrozen" in await ok("identity", "unfreeze", "carol")
    missing = await cli("identity", "show", "nobody")
    assert missing.code == 1 and "no identity with login 'nobody'" in missing.err, missing
    bad = await cli("identity", "create", "dave", "--password", "short")
    assert bad.code == 1 and "password" in bad.err, bad
    assert "Identity carol deleted." in await ok("identity", "delete", "carol", "--yes")
