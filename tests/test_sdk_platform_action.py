"""A Python action written with the SDK, run by the real platform: registered from a
pack directory, requested through the API, run by the worker (which puts the exported
SDK on its path), its `attune.context` filled from the execution, its `**kwargs`
receiving every parameter, its result parsed from the JSON line — and its failure
reported as `{"success": false, "error": ...}` with the execution failed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.api_http import Api, admin_api
from tests.conftest import RunningPlatform, eventually

PACK_YAML = "ref: sdkdemo\nlabel: SDK demo\nversion: 1.0.0\ndescription: SDK test pack.\n"
ACTION_YAML = """\
name: greet
runner_type: python
entry_point: greet.py
output_format: json
parameters:
  name: {type: string, required: true}
  count: {type: integer, default: 1}
  shout: {type: boolean, default: false}
"""
ACTION_PY = """\
import attune


def main(name: str, count: int = 1, **kwargs):
    if name == "boom":
        raise ValueError("bad name")
    print("working...")
    context = attune.context
    return {"greeting": f"Hello, {name}!" * count, "others": sorted(kwargs),
            "action": context.action_ref, "pack": context.pack_ref,
            "execution": context.execution_id, "has_token": context.has_api_token}


attune.run_action(main)
"""


def make_pack(root: Path) -> Path:
    (root / "actions").mkdir(parents=True)
    (root / "pack.yaml").write_text(PACK_YAML)
    (root / "actions" / "greet.yaml").write_text(ACTION_YAML)
    (root / "actions" / "greet.py").write_text(ACTION_PY)
    return root


async def finished(api: Api, execution_id: int) -> dict[str, Any]:
    async def probe() -> dict[str, Any] | None:
        data = (await api.get(f"/api/v1/executions/{execution_id}")).data
        return data if data["status"] in ("completed", "failed", "timeout") else None

    return dict(await eventually(probe, timeout=60))


async def test_sdk_action_runs_on_the_platform(platform: RunningPlatform,
                                               tmp_path: Path) -> None:
    async with admin_api(platform) as api:
        registered = await api.post("/api/v1/packs/register",
                                    json={"path": str(make_pack(tmp_path / "sdkdemo"))})
        assert registered.status == 200, registered.body

        requested = await api.post("/api/v1/executions/execute", json={
            "action_ref": "sdkdemo.greet", "parameters": {"name": "Ada", "count": 2}})
        assert requested.status in (201, 202), requested.body
        execution_id = requested.data["id"]
        done = await finished(api, execution_id)
        assert done["status"] == "completed", done
        assert done["result"]["data"] == {
            "greeting": "Hello, Ada!Hello, Ada!", "others": ["shout"],
            "action": "sdkdemo.greet", "pack": "sdkdemo", "execution": str(execution_id),
            "has_token": True}
        assert done["result"]["stdout"].startswith("working...\n")

        failing = await api.post("/api/v1/executions/execute", json={
            "action_ref": "sdkdemo.greet", "parameters": {"name": "boom"}})
        failed = await finished(api, failing.data["id"])
        assert failed["status"] == "failed"
        assert failed["result"]["exit_code"] == 1
        assert failed["result"]["data"] == {"success": False, "error": "bad name"}
