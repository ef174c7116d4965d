"""Workflow actions in packs: `actions/<name>.yaml` with `workflow_file:` and standalone
`workflows/*.yaml` load as actions holding the canonical workflow; files that cannot
work are refused naming the file and field; a pack's workflow action runs end to end."""

from __future__ import annotations

from pathlib import Path

import pytest

from attune.app import executions, packs
from attune.errors import PackError
from attune.eventstore.envelope import Meta
from attune.packs.loader import load_pack
from attune.packs.workflows import DEFAULT_WORKFLOW_TIMEOUT_SECONDS
from attune.workflow import WorkflowDef
from tests.conftest import RunningPlatform, eventually

ACTION = """
name: deploy
description: Deploy to some hosts.
workflow_file: workflows/deploy.workflow.yaml
parameters:
  hosts: {type: array, required: true}
timeout_seconds: 120
"""
GRAPH = """
version: "1.0"
tasks:
  - name: each
    action: core.echo
    with_items: "{{ parameters.hosts }}"
    concurrency: 2
    input: {message: "deploying {{ item }}"}
    on_success: report
  - {name: report, action: core.noop}
output_map: {count: "{{ length(task.each.result) }}"}
"""


def make_pack(root: Path, *, action: str = ACTION, graph: str = GRAPH,
              standalone: str | None = "tasks: [{name: only, action: core.noop}]\n") -> Path:
    (root / "actions" / "workflows").mkdir(parents=True)
    (root / "pack.yaml").write_text("ref: wpk\nversion: 1.0.0\n")
    (root / "actions" / "deploy.yaml").write_text(action)
    (root / "actions" / "workflows" / "deploy.workflow.yaml").write_text(graph)
    if standalone is not None:
        (root / "workflows").mkdir()
        (root / "workflows" / "tidy.yaml").write_text(standalone)
    return root


def test_workflow_actions_load(tmp_path: Path) -> None:
    loaded = load_pack(make_pack(tmp_path / "wpk"))
    actions = {a.ref: a for a in loaded.actions}
    assert set(actions) == {"wpk.deploy", "wpk.tidy"}
    deploy = actions["wpk.deploy"]
    assert deploy.workflow is not None and deploy.timeout_seconds == 120
    assert deploy.description == "Deploy to some hosts."
    assert deploy.parameters["hosts"].required
    definition = WorkflowDef.model_validate(deploy.workflow)
    assert [t.name for t in definition.tasks] == ["each", "report"]
    assert definition.tasks[0].next[0].do == ("report",)  # legacy on_success converted
    assert actions["wpk.tidy"].timeout_seconds == DEFAULT_WORKFLOW_TIMEOUT_SECONDS


@pytest.mark.parametrize(("kwargs", "fragments"), [
    ({"action": ACTION.replace("workflows/deploy", "../../outside")},
     ("actions/deploy.yaml", "workflow_file", "inside actions/")),
    ({"action": ACTION.replace("deploy.workflow", "missing.workflow")},
     ("actions/deploy.yaml", "not found")),
    ({"graph": GRAPH.replace("on_success: report", "on_success: nowhere")},
     ("actions/deploy.yaml", "tasks.each.next[0].do", "nowhere")),
    ({"graph": GRAPH.replace("output_map", "  - {name: bad, action: core.noop, input: "
                                           "{x: '{{ 1 + }}'}}\noutput_map")},
     ("actions/deploy.yaml", "tasks.bad.input.x")),
    ({"standalone": "tasks: {}\n"}, ("workflows/tidy.yaml",)),
    ({"standalone": "name: deploy\ntasks: [{name: a, action: core.noop}]\n"},
     ("'wpk.deploy' is defined twice",)),
])
def test_workflow_files_refused(tmp_path: Path, kwargs: dict[str, str],
                                fragments: tuple[str, ...]) -> None:
    with pytest.raises(PackError) as raised:
        load_pack(make_pack(tmp_path / "wpk", **kwargs))
    for fragment in fragments:
        assert fragment in raised.value.message, raised.value.message


async def test_a_pack_workflow_runs(platform: RunningPlatform, tmp_path: Path) -> None:
    ctx = platform.ctx
    await packs.register(ctx, make_pack(tmp_path / "wpk"), meta=Meta.new())

    async def loaded() -> object:
        return await ctx.pool.fetchval("SELECT 1 FROM actions WHERE ref = 'wpk.deploy'")
    await eventually(loaded)
    execution_id = await executions.request(ctx, "wpk.deploy", {"hosts": ["a", "b", "c"]},
                                            meta=Meta.new())

    async def done() -> object:
        row = await ctx.pool.fetchrow("SELECT status, result FROM executions WHERE id = $1",
                                      execution_id)
        return row if row and row["status"] in ("completed", "failed") else None
    row = await eventually(done, timeout=30)
    assert row["status"] == "completed", row["result"]
    assert row["result"]["data"] == {"count": 3}
    children = await ctx.pool.fetch(
        "SELECT e.action_ref, c.task, c.item FROM executions e JOIN workflow_children c "
        "ON c.execution_id = e.id WHERE e.parent = $1 ORDER BY e.id", execution_id)
    assert sorted((r["task"], r["item"]) for r in children) == [
        ("each", 0), ("each", 1), ("each", 2), ("report", None)]
