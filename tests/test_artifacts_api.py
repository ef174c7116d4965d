"""Artifacts through HTTP on real NATS and PostgreSQL: multipart upload and download
round trip (content in the object store), retention by version count and by age,
progress appends, lookups, updates and deletion."""

from __future__ import annotations

import asyncio
import hashlib
from datetime import timedelta

import aiohttp
import orjson
from nats.js.errors import NotFoundError as ObjectNotFound

from attune.app import artifact_content as content
from attune.app import artifacts
from attune.eventstore.envelope import Meta
from tests.api_http import Api, admin_api, assert_error
from tests.conftest import RunningPlatform, projected


async def upload(api: Api, artifact_id: int, data: bytes, kind: str = "text/plain"
                 ) -> tuple[int, dict]:  # type: ignore[type-arg]
    form = aiohttp.FormData()
    form.add_field("file", data, filename="out.txt", content_type=kind)
    async with api.session.post(f"{api.base}/api/v1/artifacts/{artifact_id}/versions/upload",
                                data=form,
                                headers={"Authorization": f"Bearer {api.token}"}) as r:
        return r.status, await r.json()


async def object_names(platform: RunningPlatform) -> set[str]:
    """Objects in the artifacts bucket (deleted ones excluded)."""
    store = await content.bucket(platform.ctx)
    try:
        return {info.name for info in await store.list(ignore_deletes=True)}
    except ObjectNotFound:  # nothing left
        return set()


async def download(api: Api, path: str) -> tuple[int, bytes, str]:
    async with api.session.get(f"{api.base}{path}",
                               headers={"Authorization": f"Bearer {api.token}"}) as r:
        return r.status, await r.read(), r.headers.get("Content-Type", "")


async def test_upload_download_round_trip_and_version_retention(platform: RunningPlatform
                                                                ) -> None:
    async with admin_api(platform) as api:
        created = await api.post("/api/v1/artifacts", json={
            "ref": "demo.report", "type": "file_text", "name": "Report",
            "retention_policy": "versions", "retention_limit": 2})
        assert created.status == 201, created.body
        artifact = created.data
        assert artifact["ref"] == "demo.report" and artifact["versions"] == 0
        again = await api.post("/api/v1/artifacts", json={"ref": "demo.report",
                                                          "type": "file_text"})
        assert_error(again, 409, "CONFLICT", "demo.report")

        payloads = [b"first\n", bytes(range(256)) * 4096, b"third version\n"]
        keys = []
        for number, data in enumerate(payloads, start=1):
            status, body = await upload(api, artifact["id"], data)
            assert status == 201, body
            version = body["data"]
            assert version["version"] == number and version["body_state"] == "stored"
            assert version["size_bytes"] == len(data)
            assert version["sha256"] == hashlib.sha256(data).hexdigest()
            keys.append(version["object_key"])

        status, got, kind = await download(api, f"/api/v1/artifacts/{artifact['id']}/download")
        assert (status, got, kind) == (200, payloads[2], "text/plain")
        status, got, _ = await download(
            api, f"/api/v1/artifacts/{artifact['id']}/versions/2/download")
        assert status == 200 and got == payloads[1]  # 1 MiB, several object chunks

        # retention kept the newest two: version 1 and its content are gone
        listed = await api.get(f"/api/v1/artifacts/{artifact['id']}/versions")
        assert [v["version"] for v in listed.body["items"]] == [3, 2]
        gone = await api.get(f"/api/v1/artifacts/{artifact['id']}/versions/1")
        assert_error(gone, 404, "NOT_FOUND", "no version 1")
        names = await object_names(platform)
        assert keys[0] not in names and keys[2] in names

        shown = await api.get("/api/v1/artifacts/ref/demo.report")
        assert shown.data["versions"] == 2 and shown.data["latest_version"] == 3
        latest = await api.get(f"/api/v1/artifacts/{artifact['id']}/versions/latest")
        assert latest.data["version"] == 3

        not_multipart = await api.post(f"/api/v1/artifacts/{artifact['id']}/versions/upload",
                                       json={})
        assert_error(not_multipart, 400, "BAD_REQUEST", "multipart/form-data")

        deleted = await api.request("DELETE", f"/api/v1/artifacts/{artifact['id']}")
        assert deleted.status == 200, deleted.body
        assert (await api.get(f"/api/v1/artifacts/{artifact['id']}")).status == 404
        names = await object_names(platform)
        assert not any(n.startswith(f"{artifact['id']}/") for n in names)


async def test_age_retention_prunes_old_versions_but_keeps_the_newest(
        platform: RunningPlatform) -> None:
    ctx = platform.ctx
    async with admin_api(platform) as api:
        created = await api.post("/api/v1/artifacts", json={
            "ref": "demo.aged", "type": "file_binary", "retention_policy": "minutes",
            "retention_limit": 5})
        artifact_id = created.data["id"]
        for data in (b"a", b"b", b"c"):
            assert (await upload(api, artifact_id, data))[0] == 201
        # an hour later (the clock is injected), age retention removes all but the newest
        real = ctx.clock
        ctx.clock = lambda: real() + timedelta(hours=1)
        try:
            removed = await artifacts.prune_by_age(ctx, meta=Meta.new(actor="test"))
        finally:
            ctx.clock = real
        # 2, or 0 if the executor's own sweep ran inside the shifted hour first
        assert removed in (0, 2)
        await projected(ctx, await ctx.store.last_sequence())
        listed = await api.get(f"/api/v1/artifacts/{artifact_id}/versions")
        assert [v["version"] for v in listed.body["items"]] == [3]
        status, got, _ = await download(api, f"/api/v1/artifacts/{artifact_id}/download")
        assert (status, got) == (200, b"c")


async def test_progress_appends_from_concurrent_writers_all_land(platform: RunningPlatform
                                                                 ) -> None:
    async with admin_api(platform) as api:
        created = await api.post("/api/v1/artifacts", json={
            "ref": "demo.progress", "type": "progress", "data": [{"step": 0}]})
        artifact_id = created.data["id"]
        answers = await asyncio.gather(*(
            api.post(f"/api/v1/artifacts/{artifact_id}/progress", json={"entry": {"step": i}})
            for i in range(1, 21)))
        assert all(a.status == 200 for a in answers), [a.body for a in answers]
        await projected(platform.ctx, await platform.ctx.store.last_sequence())
        shown = await api.get(f"/api/v1/artifacts/{artifact_id}")
        steps = sorted(e["step"] for e in shown.data["data"])
        assert steps == list(range(21))

        not_progress = await api.post("/api/v1/artifacts", json={"ref": "demo.url",
                                                                  "type": "url",
                                                                  "data": "https://x.io"})
        refused = await api.post(f"/api/v1/artifacts/{not_progress.data['id']}/progress",
                                 json={"entry": 1})
        assert_error(refused, 422, "VALIDATION_ERROR", "only progress artifacts")
        missing = await api.post("/api/v1/artifacts/987654/progress", json={"entry": 1})
        assert missing.status == 404


async def test_list_filter_update_and_execution_link(platform: RunningPlatform) -> None:
    async with admin_api(platform) as api:
        run = await api.post("/api/v1/executions/execute", json={
            "action_ref": "core.noop", "parameters": {}})
        assert run.status in (200, 201, 202), run.body
        execution_id = run.data["id"]
        await projected(platform.ctx, await platform.ctx.store.last_sequence())
        linked = await api.post("/api/v1/artifacts", json={
            "ref": "demo.linked", "type": "other", "execution": execution_id,
            "scope": "pack", "owner": "demo"})
        assert linked.status == 201, linked.body
        bad = await api.post("/api/v1/artifacts", json={"ref": "demo.bad", "type": "other",
                                                        "execution": 987654})
        assert_error(bad, 422, "VALIDATION_ERROR", "execution 987654 not found")
        bad_ref = await api.post("/api/v1/artifacts", json={"ref": "../etc", "type": "other"})
        assert bad_ref.status == 422

        of_execution = await api.get(f"/api/v1/executions/{execution_id}/artifacts")
        assert [a["ref"] for a in of_execution.body["items"]] == ["demo.linked"]
        by_scope = await api.get("/api/v1/artifacts", params={"scope": "pack",
                                                             "include_total": "true"})
        assert by_scope.body["pagination"]["total_items"] == 1

        changed = await api.request("PUT", f"/api/v1/artifacts/{linked.data['id']}",
                                    json={"name": "Linked", "visibility": "public"})
        assert changed.status == 200, changed.body
        assert changed.data["name"] == "Linked" and changed.data["visibility"] == "public"
        assert changed.data["execution"] == execution_id


async def test_json_versions_data_and_version_deletion(platform: RunningPlatform) -> None:
    async with admin_api(platform) as api:
        created = await api.post("/api/v1/artifacts", json={"ref": "demo.table",
                                                            "type": "file_datatable"})
        artifact_id = created.data["id"]
        base = f"/api/v1/artifacts/{artifact_id}"
        rows = [{"host": "a", "ok": True}, {"host": "b", "ok": False}]
        first = await api.post(f"{base}/versions", json={"content": rows})
        assert first.status == 201, first.body
        assert first.data["content_type"] == "application/json"
        second = await api.post(f"{base}/versions", json={"content": [], "content_type":
                                                          "application/x-empty"})
        assert second.data["version"] == 2
        status, got, kind = await download(api, f"{base}/versions/1/download")
        assert (status, orjson.loads(got), kind) == (200, rows, "application/json")

        second_key = second.data["object_key"]
        removed = await api.request("DELETE", f"{base}/versions/2")
        assert removed.status == 200, removed.body
        assert (await api.get(f"{base}/versions/2")).status == 404
        assert (await api.get(f"{base}/versions/latest")).data["version"] == 1
        assert second_key not in await object_names(platform)
        again = await api.request("DELETE", f"{base}/versions/2")
        assert_error(again, 404, "NOT_FOUND", "no version 2")

        data = await api.request("PUT", f"{base}/data", json={"data": {"columns": 2}})
        assert data.status == 200 and data.data["data"] == {"columns": 2}
        # a new version after a deletion gets a new number: numbers are never reused
        third = await api.post(f"{base}/versions", json={"content": 3})
        assert third.data["version"] == 3
        await api.post(f"{base}/versions", json={"content": 4})
        tighter = await api.request("PUT", base, json={"retention_limit": 1})
        assert tighter.status == 200 and tighter.data["versions"] == 1
        assert (await api.get(f"{base}/versions/latest")).data["version"] == 4


async def test_a_file_version_allocated_by_a_user_is_stored_on_first_download(
        platform: RunningPlatform) -> None:
    async with admin_api(platform) as api:
        allocated = await api.post("/api/v1/artifacts/ref/ops.notes/versions/file", json={
            "content_type": "text/markdown", "name": "Notes"})
        assert allocated.status == 201, allocated.body
        version = allocated.data
        assert (version["version"], version["body_state"]) == (1, "allocated")
        base = f"/api/v1/artifacts/{version['artifact']}"
        early = await api.get(f"{base}/download")
        assert_error(early, 404, "NOT_FOUND", "has no content yet")

        path = (platform.settings.data_dir / "artifacts" / content.SHARED_ROOT
                / version["file_path"])
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("# notes\n")
        status, got, kind = await download(api, f"{base}/download")
        assert (status, got, kind) == (200, b"# notes\n", "text/markdown")
        latest = await api.get(f"{base}/versions/latest",
                               headers={"X-Attune-After-Sequence": str(
                                   await platform.ctx.store.last_sequence())})
        assert latest.data["body_state"] == "stored" and not path.exists()

        again = await api.post("/api/v1/artifacts/ref/ops.notes/versions/file", json={})
        assert again.data["version"] == 2 and again.data["file_path"] == "ops.notes/v2"


async def test_concurrent_uploads_get_distinct_versions_and_keep_their_content(
        platform: RunningPlatform) -> None:
    async with admin_api(platform) as api:
        created = await api.post("/api/v1/artifacts", json={"ref": "demo.race",
                                                            "type": "file_binary"})
        artifact_id = created.data["id"]
        payloads = [f"upload number {n}\n".encode() * (n + 1) for n in range(6)]
        answers = await asyncio.gather(*(upload(api, artifact_id, p) for p in payloads))
        assert [s for s, _ in answers] == [201] * 6, [b for s, b in answers if s != 201]
        by_version = {body["data"]["version"]: body["data"]["sha256"]
                      for _, body in answers}
        assert sorted(by_version) == [1, 2, 3, 4, 5, 6]
        assert sorted(by_version.values()) == sorted(
            hashlib.sha256(p).hexdigest() for p in payloads)
        for number, sha in by_version.items():
            status, got, _ = await download(
                api, f"/api/v1/artifacts/{artifact_id}/versions/{number}/download")
            assert status == 200 and hashlib.sha256(got).hexdigest() == sha
        # the losers of each race removed their objects: one object per version
        store = await content.bucket(platform.ctx)
        mine = [i.name for i in await store.list(ignore_deletes=True)
                if i.name.startswith(f"{artifact_id}/")]
        assert len(mine) == 6
