"""Policies through HTTP: CRUD of API-created ones, pack policies guarded (409), every
way a policy can be wrong refused with a message naming the field, the effective one
marked under its action — and a policy created through the API honoured by the
executor (real NATS + PostgreSQL, every service running)."""

from __future__ import annotations

import itertools
from datetime import datetime
from pathlib import Path
from typing import Any

from attune.app import packs
from attune.eventstore.envelope import Meta
from tests.api_http import Api, admin_api, assert_error
from tests.conftest import RunningPlatform, eventually, projected

POLICY = {"ref": "core.one_sleep", "action_ref": "core.sleep", "priority": 5,
          "description": "One sleep at a time.",
          "concurrency": {"limit": 1, "method": "enqueue", "parameters": ["message"]}}
TERMINAL = ("completed", "failed", "cancelled", "timeout", "abandoned")


async def _refs(api: Api, path: str, **params: Any) -> list[str]:
    answer = await api.get(path, params=params or None)
    assert answer.status == 200, answer.body
    return [item["ref"] for item in answer.body["items"]]


async def _register_limits_pack(platform: RunningPlatform, root: Path) -> None:
    """A pack with a policy of its own (the pack guard's subject)."""
    (root / "policies").mkdir(parents=True)
    (root / "pack.yaml").write_text("ref: limits\nversion: 1.0.0\n")
    (root / "policies" / "slow.yaml").write_text(
        "name: slow\npack_ref: core\nrate_limit: {max_executions: 1000, window_seconds: 1}\n")
    _, seq = await packs.register(platform.ctx, root, meta=Meta.new())
    await projected(platform.ctx, seq)


async def test_policy_crud_refusals_and_pack_guard(platform: RunningPlatform,
                                                   tmp_path: Path) -> None:
    await _register_limits_pack(platform, tmp_path / "limits")
    async with admin_api(platform) as api:
        bad: list[tuple[dict[str, Any], int, tuple[str, ...]]] = [
            ({"ref": "nopack.policy"}, 404, ("pack 'nopack' not found",)),
            ({"ref": "core"}, 422, ("ref",)),
            ({"action_ref": "core.nothing"}, 404, ("action_ref", "core.nothing")),
            ({"action_ref": None, "pack_ref": "nopack"}, 404, ("pack_ref", "nopack")),
            ({"pack_ref": "core"}, 422, ("exactly one target",)),
            ({"action_ref": None}, 422, ("exactly one target",)),
            ({"concurrency": None}, 422, ("concurrency/rate_limit",)),
            ({"concurrency": {"limit": 1, "parameters": ["colour"]}}, 422,
             ("concurrency.parameters", "'colour'", "seconds")),
            ({"concurrency": {"limit": 0}}, 422, ("concurrency.limit",)),
            ({"concurrency": {"limit": 1, "method": "drop"}}, 422, ("concurrency.method",)),
            ({"concurrency": {"limit": "1"}}, 422, ("concurrency.limit",)),
            ({"rate_limit": {"max_executions": 5}}, 422, ("rate_limit.window_seconds",)),
            ({"priority": "high"}, 422, ("priority",)),
            ({"colour": "red"}, 422, ("colour",)),
        ]
        for change, status, fragments in bad:
            body = {k: v for k, v in {**POLICY, **change}.items() if v is not None}
            answer = await api.post("/api/v1/policies", json=body)
            assert_error(answer, status, "NOT_FOUND" if status == 404 else "VALIDATION_ERROR",
                         *fragments)
        assert await _refs(api, "/api/v1/policies") == ["limits.slow"]

        created = await api.post("/api/v1/policies", json=POLICY)
        assert created.status == 201, created.body
        policy = created.data
        assert {k: policy[k] for k in ("ref", "pack_ref", "label", "action_ref",
                                       "target_pack_ref", "priority", "enabled", "source",
                                       "concurrency", "rate_limit")} == {
            "ref": "core.one_sleep", "pack_ref": "core", "label": "one_sleep",
            "action_ref": "core.sleep", "target_pack_ref": None, "priority": 5,
            "enabled": True, "source": "api", "rate_limit": None,
            "concurrency": {"limit": 1, "method": "enqueue", "parameters": ["message"]}}
        assert (await api.get("/api/v1/policies/core.one_sleep")).data == policy
        assert_error(await api.post("/api/v1/policies", json=POLICY), 409, "CONFLICT",
                     "already exists")
        for_pack = {**POLICY, "ref": "core.pack_wide", "action_ref": None, "pack_ref": "core",
                    "concurrency": None, "rate_limit": {"max_executions": 100,
                                                        "window_seconds": 60}}
        made = await api.post("/api/v1/policies",
                              json={k: v for k, v in for_pack.items() if v is not None})
        assert made.status == 201, made.body
        assert made.data["target_pack_ref"] == "core" and made.data["action_ref"] is None

        # lists and filters
        assert await _refs(api, "/api/v1/policies") == [
            "core.one_sleep", "core.pack_wide", "limits.slow"]
        assert await _refs(api, "/api/v1/policies", pack_ref="core") == [
            "core.one_sleep", "core.pack_wide"]
        assert await _refs(api, "/api/v1/policies", action_ref="core.sleep") == [
            "core.one_sleep"]
        assert await _refs(api, "/api/v1/policies", q="wide") == ["core.pack_wide"]
        assert await _refs(api, "/api/v1/packs/limits/policies") == ["limits.slow"]
        assert_error(await api.get("/api/v1/packs/nopack/policies"), 404, "NOT_FOUND")
        assert_error(await api.get("/api/v1/actions/core.nothing/policies"), 404, "NOT_FOUND")

        async def effective(action: str) -> dict[str, bool]:
            answer = await api.get(f"/api/v1/actions/{action}/policies")
            assert answer.status == 200, answer.body
            return {item["ref"]: item["effective"] for item in answer.body["items"]}
        # action scope beats pack scope; among the pack's, the highest priority
        assert await effective("core.sleep") == {
            "core.one_sleep": True, "core.pack_wide": False, "limits.slow": False}
        assert await effective("core.echo") == {"core.pack_wide": True, "limits.slow": False}
        off = await api.post("/api/v1/policies/core.one_sleep/disable")
        assert off.status == 200 and off.data["enabled"] is False
        assert await _refs(api, "/api/v1/policies", enabled="false") == ["core.one_sleep"]
        assert (await effective("core.sleep"))["core.pack_wide"] is True
        assert (await api.post("/api/v1/policies/core.one_sleep/enable")).data["enabled"]

        # updates: checked like a creation; a new target replaces the old one
        assert_error(await api.request("PUT", "/api/v1/policies/core.one_sleep", json={
            "concurrency": {"limit": 2, "parameters": ["nope"]}}), 422, "VALIDATION_ERROR",
            "concurrency.parameters", "'nope'")
        assert_error(await api.request("PUT", "/api/v1/policies/core.pack_wide", json={
            "rate_limit": None}), 422, "VALIDATION_ERROR", "concurrency/rate_limit")
        moved = await api.request("PUT", "/api/v1/policies/core.pack_wide", json={
            "action_ref": "core.echo", "concurrency": {"limit": 3}, "rate_limit": None})
        assert moved.status == 200, moved.body
        assert (moved.data["action_ref"], moved.data["target_pack_ref"],
                moved.data["concurrency"], moved.data["rate_limit"]) == (
            "core.echo", None, {"limit": 3, "method": "enqueue", "parameters": []}, None)
        assert_error(await api.request("PUT", "/api/v1/policies/core.nothing", json={
            "priority": 1}), 404, "NOT_FOUND")

        # pack policies change with their pack
        assert_error(await api.request("PUT", "/api/v1/policies/limits.slow", json={
            "priority": 9}), 409, "CONFLICT", "limits")
        assert_error(await api.request("DELETE", "/api/v1/policies/limits.slow"), 409,
                     "CONFLICT", "comes from a pack")

        for ref in ("core.one_sleep", "core.pack_wide"):
            gone = await api.request("DELETE", f"/api/v1/policies/{ref}")
            assert gone.status == 200 and gone.body["success"] is True, gone.body
        assert_error(await api.get("/api/v1/policies/core.one_sleep"), 404, "NOT_FOUND")
        assert_error(await api.request("DELETE", "/api/v1/policies/core.one_sleep"), 404,
                     "NOT_FOUND")
        assert await _refs(api, "/api/v1/policies") == ["limits.slow"]


async def test_api_policy_is_honoured_by_the_executor(platform: RunningPlatform) -> None:
    async with admin_api(platform) as api:
        created = await api.post("/api/v1/policies", json={
            "ref": "core.serial_sleep", "action_ref": "core.sleep",
            "concurrency": {"limit": 1}})
        assert created.status == 201, created.body
        ids = []
        for i in range(3):
            answer = await api.post("/api/v1/executions/execute", json={
                "action_ref": "core.sleep", "parameters": {"seconds": 1, "message": str(i)}})
            assert answer.status in (201, 202), answer.body
            ids.append(answer.data["id"])

        async def ended() -> list[dict[str, Any]]:
            answers = [await api.get(f"/api/v1/executions/{i}") for i in ids]
            rows = [a.data for a in answers if a.status == 200]
            return rows if len(rows) == len(ids) and all(
                r["status"] in TERMINAL for r in rows) else []
        rows = await eventually(ended, timeout=60)
        assert [r["status"] for r in rows] == ["completed"] * 3
        spans = sorted((datetime.fromisoformat(r["started_at"]),
                        datetime.fromisoformat(r["finished_at"])) for r in rows)
        for (_, finished), (started, _) in itertools.pairwise(spans):
            assert started >= finished  # never two at once
