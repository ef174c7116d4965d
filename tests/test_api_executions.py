"""Executions through HTTP: core.echo end to end, read-your-writes, idempotency keys,
list filters and pagination."""

from __future__ import annotations

from typing import Any

from tests.api_http import Api, admin_api, assert_error
from tests.conftest import RunningPlatform, eventually


async def _finished(api: Api, execution_id: int) -> dict[str, Any]:
    async def probe() -> dict[str, Any] | None:
        answer = await api.get(f"/api/v1/executions/{execution_id}")
        assert answer.status == 200, answer.body
        data: dict[str, Any] = answer.data
        return data if data["status"] in ("completed", "failed", "abandoned") else None
    return await eventually(probe)  # type: ignore[no-any-return]


async def test_echo_via_api(platform: RunningPlatform) -> None:
    async with admin_api(platform) as api:
        answer = await api.post("/api/v1/executions/execute", json={
            "action_ref": "core.echo", "parameters": {"message": "hi there"},
            "env_vars": {"GREETING": "hello"}, "timeout_seconds": 30})
        assert answer.status == 201, answer.body
        execution = answer.data
        assert answer.sequence == execution["id"]
        assert execution["action_ref"] == "core.echo"
        assert execution["parameters"] == {"message": "hi there", "uppercase": False}
        assert execution["env_vars"] == {"GREETING": "hello"}
        assert execution["timeout_seconds"] == 30
        me = (await api.get("/auth/me")).data
        assert execution["requested_by"] == me["id"]
        assert set(execution) == {
            "id", "action_ref", "status", "parameters", "env_vars", "timeout_seconds",
            "result", "worker", "requested_by", "parent", "enforcement", "created",
            "updated", "started_at", "finished_at", "rule_ref", "trigger_ref", "event_id",
            "waiting_reason", "workflow"}
        assert (execution["rule_ref"], execution["trigger_ref"], execution["event_id"],
                execution["waiting_reason"], execution["workflow"]) == (
            None, None, None, None, None)  # a manual run, not waiting, not a workflow

        # read your writes: a GET naming the command's sequence sees it
        seen = await api.get(f"/api/v1/executions/{execution['id']}",
                             headers={"X-Attune-After-Sequence": str(answer.sequence)})
        assert seen.status == 200 and seen.data["id"] == execution["id"]

        done = await _finished(api, execution["id"])
        assert done["status"] == "completed", done
        assert done["result"]["stdout"] == "hi there\n"
        assert done["result"]["exit_code"] == 0
        assert done["worker"] and done["started_at"] and done["finished_at"]

        # the same Idempotency-Key is the same execution; another key a new one
        first = await api.post("/api/v1/executions/execute", json={"action_ref": "core.noop"},
                               headers={"Idempotency-Key": "job-7"})
        again = await api.post("/api/v1/executions/execute", json={"action_ref": "core.noop"},
                               headers={"Idempotency-Key": "job-7"})
        other = await api.post("/api/v1/executions/execute", json={"action_ref": "core.noop"},
                               headers={"Idempotency-Key": "job-8"})
        assert first.status == again.status == other.status == 201
        assert first.data["id"] == again.data["id"] != other.data["id"]
        assert_error(await api.post("/api/v1/executions/execute",
                                    json={"action_ref": "core.noop"},
                                    headers={"Idempotency-Key": "has space"}),
                     400, "BAD_REQUEST", "Idempotency-Key")


async def test_list_filters_and_pagination(platform: RunningPlatform) -> None:
    async with admin_api(platform) as api:
        ids: dict[str, list[int]] = {"core.echo": [], "core.noop": []}
        for ref in ["core.echo", "core.noop", "core.echo", "core.noop", "core.echo"]:
            answer = await api.post("/api/v1/executions/execute", json={"action_ref": ref})
            assert answer.status == 201, answer.body
            ids[ref].append(answer.data["id"])
        everything = sorted(ids["core.echo"] + ids["core.noop"], reverse=True)

        listed = await api.get("/api/v1/executions")
        assert listed.status == 200
        assert [e["id"] for e in listed.body["items"]] == everything  # newest first
        assert listed.body["pagination"] == {"page": 1, "page_size": 50, "has_next": False,
                                             "has_previous": False}

        first = await api.get("/api/v1/executions",
                              params={"page_size": "2", "include_total": "true"})
        assert [e["id"] for e in first.body["items"]] == everything[:2]
        assert first.body["pagination"] == {"page": 1, "page_size": 2, "has_next": True,
                                            "has_previous": False, "total_items": 5,
                                            "total_pages": 3}
        last = await api.get("/api/v1/executions", params={"page": "3", "per_page": "2"})
        assert [e["id"] for e in last.body["items"]] == everything[4:]
        assert last.body["pagination"]["has_previous"] is True
        assert last.body["pagination"]["has_next"] is False
        beyond = await api.get("/api/v1/executions", params={"page": "9", "page_size": "2"})
        assert beyond.body["items"] == []

        noop = await api.get("/api/v1/executions", params={"action_ref": "core.noop"})
        assert [e["id"] for e in noop.body["items"]] == sorted(ids["core.noop"], reverse=True)

        async def all_completed() -> bool:
            done = await api.get("/api/v1/executions",
                                 params={"status": "completed", "action_ref": "core.echo",
                                         "include_total": "true"})
            return bool(done.body["pagination"]["total_items"] == 3)
        await eventually(all_completed)
        requested = await api.get("/api/v1/executions", params={"status": "requested"})
        assert requested.body["items"] == []

        assert_error(await api.get("/api/v1/executions", params={"status": "bogus"}),
                     422, "VALIDATION_ERROR", "status")
        assert_error(await api.get("/api/v1/executions", params={"page_size": "101"}),
                     422, "VALIDATION_ERROR", "page_size")
        assert_error(await api.get("/api/v1/executions", params={"page": "0"}),
                     422, "VALIDATION_ERROR", "page")
        assert_error(await api.get("/api/v1/executions", params={"stauts": "completed"}),
                     422, "VALIDATION_ERROR", "stauts", "unknown field")
        assert_error(await api.get("/api/v1/executions",
                                   params=[("page", "1"), ("page", "2")]),
                     422, "VALIDATION_ERROR", "page")
        assert_error(await api.get("/api/v1/executions/999999"), 404, "NOT_FOUND", "999999")
        assert_error(await api.get("/api/v1/executions/abc"), 422, "VALIDATION_ERROR", "id")
