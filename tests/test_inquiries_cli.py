"""`attune workflow ...`, `attune inquiry ...` and `attune execution get --tree` as real
processes against a running platform: a workflow made from a file waits for an answer
given on the command line, and its tree shows every task with its status."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import RunningPlatform, eventually
from tests.test_cli_commands import Cli

FLOW = """
tasks:
  - name: ask
    action: core.ask
    input: {prompt: "Ship it?", response_schema: {approved: {type: boolean, required: true}}}
    next: [{when: "{{ result().data.response.approved }}", do: ship}]
  - {name: ship, action: core.echo, input: {message: shipped}}
"""


@pytest.fixture
def cli(platform: RunningPlatform, tmp_path: Path) -> Cli:
    return Cli(platform.api_url, tmp_path)


async def test_workflow_and_inquiry_commands(cli: Cli, tmp_path: Path) -> None:
    await cli.login()

    async def ok(*args: str) -> str:
        ran = await cli(*args)
        assert ran.code == 0, (args, ran)
        return ran.out

    async def data(*args: str) -> Any:
        return json.loads(await ok(*args, "-o", "json"))

    flow = tmp_path / "ship.yaml"
    flow.write_text(FLOW)
    assert (await ok("workflow", "validate", str(flow))).strip().endswith("valid")
    broken = tmp_path / "broken.yaml"
    broken.write_text("tasks: [{name: a, action: core.nope}]\n")
    ran = await cli("workflow", "validate", str(broken))
    assert ran.code == 1 and "tasks.a.action" in ran.out, ran
    assert "Workflow core.ship created." in await ok("workflow", "create", "core.ship",
                                                      str(flow))
    assert "core.ship" in await ok("workflow", "list")
    assert "ask (core.ask), ship (core.echo)" in await ok("workflow", "get", "core.ship")

    requested = await data("run", "core.ship")  # returns once requested (no --watch)
    workflow_id = requested["id"]

    async def pending() -> Any:
        listed = await data("inquiry", "list", "--status", "pending")
        return [i for i in listed["items"] if i["workflow_execution_id"] == workflow_id]
    [inquiry] = await eventually(pending)
    assert "Ship it?" in await ok("inquiry", "show", str(inquiry["id"]))
    ran = await cli("inquiry", "respond", str(inquiry["id"]), "approved=maybe")
    assert ran.code == 1 and "approved" in ran.err, ran
    answered = await ok("inquiry", "respond", str(inquiry["id"]), "approved=true")
    assert '{"approved": true}' in answered

    async def completed() -> Any:
        got = await data("execution", "get", str(workflow_id))
        return got if got["status"] == "completed" else None
    await eventually(completed, timeout=30)
    tree = await data("execution", "get", str(workflow_id), "--tree")
    assert [(c["task"], c["action_ref"], c["status"]) for c in tree["children"]] == [
        ("ask", "core.ask", "completed"), ("ship", "core.echo", "completed")]
    drawn = await ok("execution", "get", str(workflow_id), "--tree")
    assert "core.ship" in drawn and "ask: core.ask" in drawn and "ship: core.echo" in drawn
    assert "completed" in drawn
