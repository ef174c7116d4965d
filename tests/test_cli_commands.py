"""The user-facing CLI against a running platform: each command is a real `attune`
process (so its stdout is what a user or a script sees), the platform runs in this
test's event loop."""

from __future__ import annotations

import asyncio
import json
import os
import re
import stat
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from attune.cli.main import cli as attune_cli
from tests.conftest import ADMIN_PASSWORD, RunningPlatform, free_port
from tests.processes import REPO, attune_command, clean_env


@dataclass
class Ran:
    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)


class Cli:
    """`attune ...` with its own config file, pointed at the platform's API."""

    def __init__(self, api_url: str, home: Path) -> None:
        self.config = home / "config.yaml"
        self.env = clean_env(ATTUNE_CONFIG=str(self.config), ATTUNE_API_URL=api_url)

    async def __call__(self, *args: str, cwd: Path = REPO, **env: str) -> Ran:
        proc = await asyncio.create_subprocess_exec(
            *attune_command(*args), env={**self.env, **env}, cwd=cwd,
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        out, err = await asyncio.wait_for(proc.communicate(), 60)
        return Ran(proc.returncode or 0, out.decode(), err.decode())

    async def login(self) -> None:
        ran = await self("login", "--password", ADMIN_PASSWORD)
        assert ran.code == 0, ran

    def saved(self) -> dict[str, Any]:
        loaded: dict[str, Any] = yaml.safe_load(self.config.read_text())
        return loaded


@pytest.fixture
def cli_for(platform: RunningPlatform, tmp_path: Path) -> Cli:
    return Cli(platform.api_url, tmp_path)


async def test_login_whoami_refresh_and_logout(platform: RunningPlatform, cli_for: Cli) -> None:
    cli = cli_for
    ran = await cli("whoami")
    assert ran.code == 1
    assert "Error: not logged in: run `attune login` first" in ran.err

    # the password is asked for without echo when not given
    runner = CliRunner()
    prompted = await asyncio.to_thread(
        runner.invoke, attune_cli, ["login"], input=ADMIN_PASSWORD + "\n",
        env={**{k: None for k in os.environ if k.startswith("ATTUNE_")}, **cli.env})
    assert prompted.exit_code == 0, prompted.output
    assert "Password for admin" in prompted.output
    assert ADMIN_PASSWORD not in prompted.output
    assert "Logged in to" in prompted.output
    assert stat.S_IMODE(cli.config.stat().st_mode) == 0o600
    saved = cli.saved()
    assert saved["api_url"] == platform.api_url
    assert saved["login"] == "admin"

    who = await cli("whoami", "-o", "json")
    assert who.code == 0, who
    assert who.json()["login"] == "admin"
    assert "Administrator" in (await cli("whoami")).out

    # an access token the API refuses is traded for a new one with the refresh token
    saved["access_token"] = "not-a-valid-token"
    cli.config.write_text(yaml.safe_dump(saved))
    who = await cli("whoami", "-o", "yaml")
    assert who.code == 0, who
    assert yaml.safe_load(who.out)["login"] == "admin"
    assert cli.saved()["access_token"] not in ("not-a-valid-token", None)

    # a token from the environment wins over the saved ones, and is never refreshed
    bad = await cli("whoami", ATTUNE_AUTH_TOKEN="not-a-valid-token")
    assert bad.code == 1
    assert bad.err.startswith("Error: ")
    good = await cli("whoami", "-o", "json", ATTUNE_AUTH_TOKEN=cli.saved()["access_token"])
    assert good.json()["login"] == "admin"

    wrong = await cli("login", "--password", "not-the-password")
    assert wrong.code == 1
    assert wrong.err.startswith("Error: ")

    out = await cli("logout")
    assert out.code == 0
    assert "access_token" not in cli.saved()
    assert "not logged in" in (await cli("whoami")).err


async def test_run_watch_execution_list_and_get(cli_for: Cli) -> None:
    cli = cli_for
    await cli.login()

    ran = await cli("run", "core.echo", "message=hi there", "--watch")
    assert ran.code == 0, ran
    # each status change seen is printed once, in lifecycle order (how many are seen
    # depends on how fast the run is)
    order = ["requested", "scheduling", "scheduled", "running", "completed"]
    seen = re.findall(r"^\s+[\d.]+ s\s+(\w+)", ran.out, flags=re.M)
    assert seen and seen[-1] == "completed", ran.out
    assert seen == sorted(seen, key=order.index) and len(set(seen)) == len(seen), ran.out
    assert "completed (exit code 0" in ran.out
    assert ran.out.endswith("hi there\n")

    # typed values: boolean from text; JSON result on stdout, statuses on stderr
    ran = await cli("run", "core.echo", "message=loud", "uppercase=yes", "-w", "-o", "json")
    assert ran.code == 0, ran
    shown = ran.json()
    assert shown["status"] == "completed"
    assert shown["parameters"] == {"message": "loud", "uppercase": True}
    assert shown["result"]["stdout"] == "LOUD\n"
    assert "completed" in ran.err
    echo_id = shown["id"]

    ran = await cli("run", "core.sleep", "seconds=0", "--params-json", '{"message": "z"}',
                    "--timeout", "30", "-w", "-o", "yaml")
    assert ran.code == 0, ran
    slept = yaml.safe_load(ran.out)
    assert slept["parameters"] == {"seconds": 0, "message": "z"}
    assert slept["timeout_seconds"] == 30

    # without --watch: the request only
    ran = await cli("run", "core.noop", "-o", "json")
    assert ran.code == 0, ran
    assert ran.json()["action_ref"] == "core.noop"

    listed = await cli("execution", "list", "-o", "json")
    assert listed.code == 0, listed
    body = listed.json()
    assert [e["action_ref"] for e in body["items"]][1:] == ["core.sleep", "core.echo",
                                                             "core.echo"]
    assert body["pagination"]["page"] == 1
    only = (await cli("execution", "list", "--action", "core.echo", "--status", "completed",
                      "-o", "yaml")).out
    assert {e["id"] for e in yaml.safe_load(only)["items"]} >= {echo_id}
    assert {e["action_ref"] for e in yaml.safe_load(only)["items"]} == {"core.echo"}
    table = (await cli("execution", "list", "--page-size", "2")).out
    assert "STATUS" in table
    assert "core.noop" in table
    assert "core.echo" not in table  # page 1 of 2-per-page: the two newest
    assert "--page 2" in table

    got = await cli("execution", "get", str(echo_id), "-o", "json")
    assert got.json()["result"]["stdout"] == "LOUD\n"
    table = (await cli("execution", "get", str(echo_id))).out
    assert "Stdout" in table
    assert "LOUD" in table
    missing = await cli("execution", "get", "999999")
    assert missing.code == 1
    assert "Error: execution 999999 not found" in missing.err


async def test_run_refuses_bad_parameters_clearly(cli_for: Cli) -> None:
    cli = cli_for
    await cli.login()
    ran = await cli("run", "core.sleep", "seconds=soon")
    assert ran.code == 1
    assert "Error: parameter 'seconds' is of type integer: 'soon' is not a whole number" \
        in ran.err
    ran = await cli("run", "core.echo", "colour=red")
    assert ran.code == 1
    assert "colour: unknown parameter" in ran.err
    ran = await cli("run", "core.sleep", "seconds=-1")
    assert ran.code == 1
    assert "seconds: must be >= 0" in ran.err
    ran = await cli("run", "core.echo", "message")
    assert ran.code == 1
    assert "'message' is not a parameter: write NAME=VALUE" in ran.err
    ran = await cli("run", "core.echo", "--params-json", "[1]")
    assert ran.code == 1
    assert "--params-json must be a JSON object" in ran.err
    ran = await cli("run", "core.missing")
    assert ran.code == 1
    assert "Error: action 'core.missing' not found" in ran.err
    # none of these requested anything
    assert (await cli("execution", "list", "-o", "json")).json()["items"] == []


def _failing_pack(root: Path) -> Path:
    (root / "actions").mkdir(parents=True)
    (root / "pack.yaml").write_text("ref: clitest\nlabel: CLI test\nversion: 0.1.0\n")
    (root / "actions" / "fail.yaml").write_text(
        "name: fail\ndescription: Always fails.\nrunner_type: shell\nentry_point: fail.sh\n"
        "parameters:\n  code:\n    type: integer\n    default: 3\n"
        "  tags:\n    type: array\n")
    script = root / "actions" / "fail.sh"
    script.write_text("#!/bin/sh\necho 'about to fail'\necho boom >&2\nexit 3\n")
    script.chmod(0o755)
    return root


async def test_packs_actions_and_a_failing_run(cli_for: Cli, tmp_path: Path) -> None:
    cli = cli_for
    await cli.login()
    packs = await cli("pack", "list")
    assert packs.code == 0, packs
    assert "core" in packs.out
    assert "VERSION" in packs.out
    core = yaml.safe_load((await cli("pack", "show", "core", "-o", "yaml")).out)
    assert {a["ref"] for a in core["actions"]} >= {"core.echo", "core.noop", "core.sleep"}
    assert "core.sleep" in (await cli("pack", "show", "core")).out

    shown = await cli("action", "show", "core.echo")
    assert shown.code == 0, shown
    assert "message" in shown.out
    assert "boolean" in shown.out
    assert (await cli("action", "show", "core.echo", "-o", "json")).json()[
        "parameters"]["message"]["type"] == "string"
    listed = (await cli("action", "list", "--pack", "core", "-o", "json")).json()
    assert {a["pack_ref"] for a in listed["items"]} == {"core"}

    # a relative path is sent as the absolute one the server needs
    _failing_pack(tmp_path / "clitest")
    registered = await cli("pack", "register", "clitest", cwd=tmp_path)
    assert registered.code == 0, registered
    assert "Registered pack clitest" in registered.out
    assert "(1 action)" in registered.out
    bad = await cli("pack", "register", str(tmp_path / "nowhere"))
    assert bad.code == 1
    assert "is not a directory" in bad.err

    ran = await cli("run", "clitest.fail", "tags=[\"a\"]", "--watch")
    assert ran.code == 1
    assert "failed (exit code 3" in ran.out
    assert "about to fail" in ran.out
    assert "boom" in ran.err
    ran = await cli("run", "clitest.fail", "tags=a,b")
    assert ran.code == 1
    assert "parameter 'tags' is of type array" in ran.err


async def test_unreachable_api_says_so(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    cli = Cli(url, tmp_path)
    for args in (("whoami",), ("execution", "list"), ("login", "--password", "x")):
        ran = await cli(*args)
        assert ran.code == 1
        assert f"Error: cannot reach the API at {url}: is `attune up` running?" in ran.err
    ran = await cli("whoami", "--api-url", "ftp://example")
    assert ran.code == 1
    assert "is not valid: use http://HOST:PORT" in ran.err


@pytest.mark.parametrize("command", [
    ["up"], ["serve"], ["streams", "apply"], ["login"], ["logout"], ["whoami"], ["run"],
    ["execution", "list"], ["execution", "get"], ["pack", "register"], ["pack", "list"],
    ["pack", "show"], ["action", "list"], ["action", "show"]])
def test_every_command_explains_itself(command: list[str]) -> None:
    result = CliRunner().invoke(attune_cli, [*command, "--help"], prog_name="attune")
    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"Usage: attune {' '.join(command)} ")
