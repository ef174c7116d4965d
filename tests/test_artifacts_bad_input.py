"""Artifacts refuse bad input with a 4xx saying what is wrong (never a 500), and RBAC
constraints hold per artifact: a grant narrowed to one pack creates, reads and lists
only that pack's artifacts."""

from __future__ import annotations

import aiohttp

from attune.app import identities, permissions
from attune.domain.permission import PermissionSetDef
from attune.eventstore.envelope import Meta
from tests.api_http import Api, admin_api, assert_error
from tests.conftest import RunningPlatform, projected


async def test_bad_artifact_requests_get_clear_errors(platform: RunningPlatform) -> None:
    async with admin_api(platform) as api:
        created = await api.post("/api/v1/artifacts", json={"ref": "bad.input",
                                                            "type": "progress"})
        artifact_id = created.data["id"]
        base = f"/api/v1/artifacts/{artifact_id}"
        cases = [
            (await api.post("/api/v1/artifacts", json={"ref": "x.y", "type": "movie"}),
             422, "type"),
            (await api.post("/api/v1/artifacts", json={"ref": "a/b", "type": "other"}),
             422, "ref"),
            (await api.post("/api/v1/artifacts", json={"ref": "x.z", "type": "url",
                                                       "data": {"not": "a url"}}),
             422, "url artifact's data"),
            (await api.post("/api/v1/artifacts", json={
                "ref": "x.big", "type": "other", "data": "x" * 300_000}), 422, "256 KiB"),
            (await api.post("/api/v1/artifacts", json={
                "ref": "x.r", "type": "other", "retention_limit": 0}), 422,
             "retention_limit"),
            (await api.post(f"{base}/progress", json={"entry": "y" * 70_000}), 422,
             "64 KiB"),
            (await api.post(f"{base}/progress", json={}), 422, "entry"),
            (await api.get(f"{base}/versions/latest"), 404, "has no versions"),
            (await api.get(f"{base}/versions/abc"), 422, "version"),
            (await api.get(f"{base}/download"), 404, "has no versions"),
            (await api.request("PUT", base, json={"scope": "planet"}), 422, "scope"),
            (await api.request("PUT", base, json={"type": "other"}), 422, "type"),
            (await api.post(f"{base}/versions/upload", data=b"--x\r\nbroken",
                            headers={"Content-Type": "multipart/form-data; boundary=x"}),
             400, "multipart"),
            (await api.post("/api/v1/artifacts/ref/nothing.here/versions/upload",
                            data=b"", headers={"Content-Type": "text/plain"}), 404,
             "nothing.here"),
        ]
        for answer, status, fragment in cases:
            assert answer.status == status, (fragment, answer.status, answer.body)
            assert fragment in str(answer.body), (fragment, answer.body)

        form = aiohttp.FormData()
        form.add_field("other", b"no file part", filename="x.txt")
        async with api.session.post(f"{api.base}{base}/versions/upload", data=form,
                                    headers={"Authorization": f"Bearer {api.token}"}) as r:
            assert r.status == 400 and "no `file` part" in await r.text()


async def test_a_pack_constrained_grant_sees_only_its_packs_artifacts(
        platform: RunningPlatform) -> None:
    ctx = platform.ctx
    meta = Meta.new(actor="test")
    await permissions.create(ctx, PermissionSetDef.model_validate({
        "ref": "core.demo_artifacts", "label": "Demo artifacts", "grants": [
            {"resource": "artifacts", "actions": ["read", "create", "update"],
             "constraints": {"pack_refs": ["demo"]}}]}), meta=meta)
    seq = await identities.create(ctx, "artdemo_user", "artdemo-password",
                                  permission_set_refs=["core.demo_artifacts"], meta=meta)
    await projected(ctx, seq)
    async with admin_api(platform) as admin, aiohttp.ClientSession() as session:
        other = await admin.post("/api/v1/artifacts", json={
            "ref": "other.thing", "type": "other", "scope": "pack", "owner": "other"})
        assert other.status == 201
        user = Api(session, platform.api_url)
        await user.login("artdemo_user", "artdemo-password")
        mine = await user.post("/api/v1/artifacts", json={
            "ref": "demo.thing", "type": "other", "scope": "pack", "owner": "demo"})
        assert mine.status == 201, mine.body
        refused = await user.post("/api/v1/artifacts", json={
            "ref": "other.second", "type": "other", "scope": "pack", "owner": "other"})
        assert_error(refused, 403, "FORBIDDEN")
        assert_error(await user.get(f"/api/v1/artifacts/{other.data['id']}"), 403,
                     "FORBIDDEN", "other.thing")
        listed = await user.get("/api/v1/artifacts")
        assert [a["ref"] for a in listed.body["items"]] == ["demo.thing"]
        moved = await user.request("PUT", f"/api/v1/artifacts/{mine.data['id']}",
                                   json={"owner": "other"})
        assert_error(moved, 403, "FORBIDDEN")
        public = await admin.request("PUT", f"/api/v1/artifacts/{other.data['id']}",
                                     json={"visibility": "public"})
        assert public.status == 200
        assert (await user.get(f"/api/v1/artifacts/{other.data['id']}")).status == 200
