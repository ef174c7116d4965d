"""The SDK's artifact helpers against the real API, from a real Python action run by the
worker with its execution token: `create_progress` (and its 409 -> reuse path),
`ProgressArtifact.append`, `allocate_file_version` + writing the file under
ATTUNE_ARTIFACTS_DIR (stored in the object store when the action ends); and a result
too large for the outcome event kept as an artifact the execution references."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import orjson

from attune.sdk.api_client import AuthenticatedClient
from attune.sdk.api_client.api import artifacts as ops
from attune.sdk.api_client.api import audit
from tests.api_http import Api, admin_api
from tests.conftest import RunningPlatform, eventually

PACK_YAML = "ref: artdemo\nlabel: Artifact demo\nversion: 1.0.0\ndescription: Artifacts.\n"
REPORT_YAML = """\
name: report
runner_type: python
entry_point: report.py
output_format: json
parameters:
  steps: {type: integer, default: 3}
"""
REPORT_PY = """\
import attune
from attune import artifacts


def main(steps: int = 3):
    progress = artifacts.create_progress("artdemo.report.progress", name="Progress")
    for i in range(steps):
        progress.append({"step": i + 1, "of": steps})
    log = artifacts.allocate_file_version("artdemo.report.log", name="Log",
                                          content_type="text/plain")
    log.write_text("line one\\nline two\\n")
    again = artifacts.create_progress("artdemo.report.progress")  # exists: reused
    again.append({"done": True})
    return {"progress_id": progress.artifact_id, "log_id": log.artifact_id,
            "log_version": log.version, "log_path": log.file_path,
            "entries": len(again.data)}


attune.run_action(main)
"""
BIG_YAML = """\
name: big
runner_type: python
entry_point: big.py
output_format: json
"""
BIG_PY = """\
import attune


def main():
    return {"rows": [{"n": i, "text": "x" * 90} for i in range(12000)]}


attune.run_action(main)
"""


def make_pack(root: Path) -> Path:
    (root / "actions").mkdir(parents=True)
    (root / "pack.yaml").write_text(PACK_YAML)
    for name, text in (("report.yaml", REPORT_YAML), ("report.py", REPORT_PY),
                       ("big.yaml", BIG_YAML), ("big.py", BIG_PY)):
        (root / "actions" / name).write_text(text)
    return root


async def run(api: Api, action_ref: str) -> dict[str, Any]:
    requested = await api.post("/api/v1/executions/execute", json={
        "action_ref": action_ref, "parameters": {}})
    assert requested.status in (201, 202), requested.body
    execution_id = requested.data["id"]

    async def probe() -> dict[str, Any] | None:
        data = (await api.get(f"/api/v1/executions/{execution_id}")).data
        return data if data["status"] in ("completed", "failed", "timeout") else None

    return dict(await eventually(probe, timeout=60))


async def download(api: Api, artifact_id: int) -> tuple[int, bytes]:
    async with api.session.get(f"{api.base}/api/v1/artifacts/{artifact_id}/download",
                               headers={"Authorization": f"Bearer {api.token}"}) as r:
        return r.status, await r.read()


async def test_progress_and_file_artifacts_from_an_action(platform: RunningPlatform,
                                                          tmp_path: Path) -> None:
    async with admin_api(platform) as api:
        registered = await api.post("/api/v1/packs/register",
                                    json={"path": str(make_pack(tmp_path / "artdemo"))})
        assert registered.status == 200, registered.body
        done = await run(api, "artdemo.report")
        assert done["status"] == "completed", done
        result = done["result"]["data"]
        assert result["entries"] == 4 and result["log_version"] == 1
        assert result["log_path"] == "artdemo.report.log/v1"

        progress = await api.get(f"/api/v1/artifacts/{result['progress_id']}")
        assert progress.data["type"] == "progress"
        assert progress.data["data"] == [{"step": 1, "of": 3}, {"step": 2, "of": 3},
                                         {"step": 3, "of": 3}, {"done": True}]
        assert progress.data["owner"] == "artdemo.report"
        assert progress.data["created_by"] == "artdemo.report"
        assert progress.data["execution"] == done["id"]

        # the worker stored the file when the action ended, and took it off the volume
        latest = await api.get(f"/api/v1/artifacts/{result['log_id']}/versions/latest")
        assert latest.data["body_state"] == "stored", latest.data
        assert latest.data["size_bytes"] == len("line one\nline two\n")
        assert await download(api, result["log_id"]) == (200, b"line one\nline two\n")
        written = platform.settings.data_dir / "artifacts" / str(done["id"]) / \
            result["log_path"]
        assert not written.exists() and not written.parent.exists()
        assert written.parent.parent.is_dir()  # the execution's own folder stays

        listed = await api.get(f"/api/v1/executions/{done['id']}/artifacts")
        assert sorted(a["ref"] for a in listed.body["items"]) == [
            "artdemo.report.log", "artdemo.report.progress"]

        # the action's own requests are audited under its execution token
        async def audited() -> list[dict[str, Any]] | None:
            rows = await api.get("/api/v1/audit-events", params={
                "actor": f"execution:{done['id']}", "kind": "request"})
            items = rows.body["items"]
            return items if len(items) >= 8 else None
        requests = await eventually(audited)
        assert {r["token_type"] for r in requests} == {"execution"}
        assert {r["category"] for r in requests} == {"artifacts"}
        assert [r["status"] for r in requests].count(409) == 1  # create_progress reused


async def test_a_result_over_the_event_cap_is_kept_as_an_artifact(
        platform: RunningPlatform, tmp_path: Path) -> None:
    async with admin_api(platform) as api:
        registered = await api.post("/api/v1/packs/register",
                                    json={"path": str(make_pack(tmp_path / "artdemo"))})
        assert registered.status == 200, registered.body
        done = await run(api, "artdemo.big")
        assert done["status"] == "completed", done
        reference = done["result"]["data"]["$attune_artifact"]
        assert reference["ref"] == f"execution.{done['id']}.result"
        assert reference["size_bytes"] > 1024 * 1024
        status, body = await download(api, reference["id"])
        assert status == 200
        assert orjson.loads(body) == {"rows": [{"n": i, "text": "x" * 90}
                                               for i in range(12000)]}
        listed = await api.get(f"/api/v1/executions/{done['id']}/artifacts")
        assert [a["ref"] for a in listed.body["items"]] == [reference["ref"]]


async def test_the_sdk_api_client_artifact_and_audit_operations(platform: RunningPlatform
                                                                ) -> None:
    async with admin_api(platform) as api:
        client = AuthenticatedClient(platform.api_url, str(api.token))

        def calls() -> dict[str, Any]:
            created = ops.create_artifact.sync(client=client, body={
                "ref": "sdk.ops", "type": "file_datatable"})["data"]
            ops.create_version_json.sync(created["id"], client=client,
                                         body={"content": [{"a": 1}]})
            ops.set_artifact_data.sync(created["id"], client=client,
                                       body={"data": {"columns": ["a"]}})
            return {
                "versions": ops.list_versions.sync(created["id"], client=client)["items"],
                "latest": ops.get_version.sync(created["id"], 1, client=client)["data"],
                "by_ref": ops.get_artifact_by_ref.sync("sdk.ops", client=client)["data"],
                "audit": audit.list_audit_events.sync(client=client, kind="change",
                                                      resource_ref="sdk.ops")["items"]}

        seen = await asyncio.to_thread(calls)
        assert [v["version"] for v in seen["versions"]] == [1]
        assert seen["latest"]["size_bytes"] == len(b'[{"a":1}]')
        assert seen["by_ref"]["data"] == {"columns": ["a"]}
        assert {"artifact.created", "artifact.version_added"} <= {
            r["event_type"] for r in seen["audit"]}
