"""Permission sets shipped by packs (`permission_sets/*.yaml`): registered with the pack,
unchanged on re-registration, changed and removed with the files, refused with the
file and field named (and then nothing of the pack is registered)."""

from __future__ import annotations

from pathlib import Path

from tests.api_http import admin_api, assert_error
from tests.conftest import RunningPlatform
from tests.test_api_packs import make_pack

OPS = """\
name: ops
label: Ops
grants:
  - resource: actions
    actions: [read, execute]
    constraints: {pack_refs: [demo]}
"""


async def test_pack_permission_sets(platform: RunningPlatform, tmp_path: Path) -> None:
    ctx = platform.ctx
    pack = make_pack(tmp_path / "demo")
    (pack / "permission_sets").mkdir()
    (pack / "permission_sets" / "ops.yaml").write_text(OPS)
    async with admin_api(platform) as api:
        first = await api.post("/api/v1/packs/register", json={"path": str(pack)})
        assert first.status == 200, first.body
        shown = await api.get("/api/v1/permissions/sets/demo.ops",
                              headers={"X-Attune-After-Sequence": str(first.sequence)})
        assert shown.status == 200, shown.body
        assert (shown.data["source"], shown.data["label"]) == ("pack", "Ops")
        assert shown.data["grants"][0]["constraints"]["pack_refs"] == ["demo"]

        before = await ctx.store.last_sequence()
        again = await api.post("/api/v1/packs/register", json={"path": str(pack)})
        assert again.status == 200
        assert await ctx.store.last_sequence() == before  # nothing changed, nothing appended

        (pack / "permission_sets" / "ops.yaml").write_text(OPS.replace("Ops", "Operators"))
        changed = await api.post("/api/v1/packs/register", json={"path": str(pack)})
        relabelled = await api.get("/api/v1/permissions/sets/demo.ops", headers={
            "X-Attune-After-Sequence": str(changed.sequence)})
        assert relabelled.data["label"] == "Operators"

        (pack / "permission_sets" / "bad.yaml").write_text(
            "name: bad\ngrants:\n  - {resource: spaceships, actions: [fly]}\n")
        before = await ctx.store.last_sequence()
        refused = await api.post("/api/v1/packs/register", json={"path": str(pack)})
        assert await ctx.store.last_sequence() == before
        assert refused.status in (400, 422), refused.body
        assert "permission_sets/bad.yaml" in refused.body["error"], refused.body
        assert "grants" in refused.body["error"]
        (pack / "permission_sets" / "bad.yaml").unlink()

        (pack / "permission_sets" / "ops.yaml").unlink()
        removed = await api.post("/api/v1/packs/register", json={"path": str(pack)})
        assert_error(await api.get("/api/v1/permissions/sets/demo.ops", headers={
            "X-Attune-After-Sequence": str(removed.sequence)}), 404, "NOT_FOUND")
