"""The artifact and audit-change read models are folds of the event stream: rebuilt
from scratch they equal the live tables, ids included (ids are stream sequences)."""

from __future__ import annotations

from attune.readmodel.projections import by_name
from attune.readmodel.verify import verify
from tests.api_http import admin_api
from tests.conftest import RunningPlatform, projected


async def test_artifact_and_audit_tables_rebuild_identically(platform: RunningPlatform
                                                             ) -> None:
    async with admin_api(platform) as api:
        created = await api.post("/api/v1/artifacts", json={
            "ref": "rb.table", "type": "file_datatable", "retention_limit": 2})
        base = f"/api/v1/artifacts/{created.data['id']}"
        for n in range(4):
            assert (await api.post(f"{base}/versions", json={"content": n})).status == 201
        progress = await api.post("/api/v1/artifacts", json={"ref": "rb.progress",
                                                             "type": "progress"})
        for n in range(3):
            await api.post(f"/api/v1/artifacts/{progress.data['id']}/progress",
                           json={"entry": n})
        await api.post("/api/v1/artifacts/ref/rb.file/versions/file", json={})
        await api.request("PUT", base, json={"name": "Table", "visibility": "public"})
        gone = await api.post("/api/v1/artifacts", json={"ref": "rb.gone", "type": "url",
                                                         "data": "https://example.org"})
        await api.request("DELETE", f"/api/v1/artifacts/{gone.data['id']}")
    ctx = platform.ctx
    await projected(ctx, await ctx.store.last_sequence())
    report = await verify(ctx.nc, ctx.pool, [by_name("artifacts"), by_name("audit_changes")])
    assert report.equal, report.diffs
    assert report.rows["artifact_versions"] == 3  # rb.table keeps 2, rb.file 1
    assert report.rows["audit_changes"] == report.events  # one row per event
