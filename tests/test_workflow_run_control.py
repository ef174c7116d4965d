"""Controlling running workflows through the API (real NATS, PostgreSQL, workers):
cancel mid-run (children follow, nested workflows too), pause and resume, rerun from
the failed task, a task's timeout taking its timed_out() branch; and the
workflow definitions API (create, show, list, change, validate, delete)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from tests.api_http import Api, admin_api, assert_error
from tests.conftest import RunningPlatform, eventually
from tests.test_workflow_run_patterns import children, run, started

NAP = """
cancellation_policy: cancel_running
tasks:
  - {name: nap, action: core.sleep, input: {seconds: 30}, next: [{do: after}]}
  - {name: after, action: core.noop}
"""
PAUSABLE = """
tasks:
  - {name: nap, action: core.sleep, input: {seconds: 3}, next: [{do: after}]}
  - {name: after, action: core.echo, input: {message: resumed}}
output:
  - said: "{{ trim(task.after.stdout) }}"
"""
RERUN = """
parameters:
  counter: {type: string, required: true}
tasks:
  - {name: first, action: core.echo, input: {message: one}, next: [{do: second}]}
  - name: second
    action: wfp2.flaky
    input: {counter: "{{ parameters.counter }}", succeed_on: 2}
    next: [{when: "{{ succeeded() }}", do: third}]
  - {name: third, action: core.echo, input: {message: three}}
output:
  - third: "{{ trim(task.third.stdout) }}"
"""
INNER = """
cancellation_policy: cancel_running
tasks:
  - {name: deep_nap, action: core.sleep, input: {seconds: 30}}
"""
OUTER = """
cancellation_policy: cancel_running
tasks:
  - {name: inner, action: wfp2.inner}
"""
TIMING_OUT = """
tasks:
  - name: slow
    action: core.sleep
    input: {seconds: 20}
    timeout: 1
    next:
      - {when: "{{ timed_out() }}", do: after}
  - {name: after, action: core.echo, input: {message: too slow}}
output:
  - said: "{{ trim(task.after.stdout) }}"
"""
FLAKY = ('#!/bin/sh\nwhile IFS= read -r line; do case "$line" in counter=*) '
         'c=${line#counter=};; esac; done\nc=${c#\\"}; c=${c%\\"}\n'
         'n=$(cat "$c" 2>/dev/null || echo 0); n=$((n + 1)); echo "$n" > "$c"\n'
         '[ "$n" -ge 2 ]\n')


def write_pack(root: Path) -> Path:
    (root / "actions").mkdir(parents=True)
    (root / "pack.yaml").write_text("ref: wfp2\nversion: 1.0.0\n")
    (root / "actions" / "flaky.sh").write_text(FLAKY)
    (root / "actions" / "flaky.yaml").write_text(
        "name: flaky\nrunner_type: shell\nentry_point: flaky.sh\nparameter_format: dotenv\n"
        "parameters:\n  counter: {type: string, required: true}\n"
        "  succeed_on: {type: integer}\n")
    return root


async def create(api: Api, ref: str, text: str) -> dict[str, Any]:
    import yaml

    answer = await api.post("/api/v1/workflows",
                            json={"ref": ref, "definition": yaml.safe_load(text)})
    assert answer.status == 201, answer.body
    return dict(answer.data)


async def request(api: Api, ref: str, parameters: dict[str, Any] | None = None) -> int:
    answer = await api.post("/api/v1/executions/execute",
                            json={"action_ref": ref, "parameters": parameters or {}})
    assert answer.status in (201, 202), answer.body
    return int(answer.data["id"])


async def workflow_view(api: Api, execution_id: int) -> dict[str, Any]:
    answer = await api.get(f"/api/v1/executions/{execution_id}")
    assert answer.status == 200, answer.body
    return dict(answer.data["workflow"] or {})


async def test_cancel_pause_resume_rerun(platform: RunningPlatform, tmp_path: Path) -> None:
    async with admin_api(platform) as api:
        registered = await api.post("/api/v1/packs/register",
                                    json={"path": str(write_pack(tmp_path / "wfp2"))})
        assert registered.status == 200, registered.body
        for name, text in (("nap", NAP), ("pausable", PAUSABLE), ("rerun", RERUN),
                           ("inner", INNER), ("outer", OUTER), ("timing_out", TIMING_OUT)):
            await create(api, f"wfp2.{name}", text)
        timing_out = await request(api, "wfp2.timing_out")

        # a nested workflow: cancelling the outer one cancels the inner one and its child
        outer = await request(api, "wfp2.outer")

        async def nested_running() -> Any:
            tree = (await api.get(f"/api/v1/executions/{outer}/tree")).data
            inner = tree["children"]
            return inner and inner[0]["children"] and \
                inner[0]["children"][0]["status"] == "running"
        await eventually(nested_running)
        assert (await api.post(f"/api/v1/executions/{outer}/cancel")).status == 200

        # cancel mid-run: the sleeping child is cancelled, nothing after it starts
        napping = await request(api, "wfp2.nap")

        async def child_running() -> Any:
            rows = await children(platform, napping)
            return rows if rows and rows[0][1] == "running" else None
        await eventually(child_running)
        cancelled = await api.post(f"/api/v1/executions/{napping}/cancel")
        assert cancelled.status == 200, cancelled.body

        # pause while the first task runs: it finishes, the next one waits
        pausable = await request(api, "wfp2.pausable")

        async def first_running() -> Any:
            # paused while it runs (it sleeps 3 s: room for a loaded machine)
            rows = await children(platform, pausable)
            return rows if rows and rows[0][1] == "running" else None
        await eventually(first_running)
        paused = await api.post(f"/api/v1/executions/{pausable}/pause")
        assert paused.status == 200, paused.body

        async def is_paused() -> Any:
            return (await workflow_view(api, pausable)).get("status") == "paused"
        await eventually(is_paused)
        await asyncio.sleep(0.5)  # no new child is requested while it is paused
        assert await children(platform, pausable) == [("core.sleep", "completed")]
        assert (await api.get(f"/api/v1/executions/{pausable}")).data["status"] == "running"
        resumed = await api.post(f"/api/v1/executions/{pausable}/resume")
        assert resumed.status == 200, resumed.body

        # rerun from the failed task: `first` is kept, `second` runs again, then `third`
        counter = tmp_path / "rerun.count"
        failing = await run(api, "wfp2.rerun", {"counter": str(counter)})

        async def done(execution_id: int) -> Any:
            got = (await api.get(f"/api/v1/executions/{execution_id}")).data
            return got if got["status"] in ("completed", "failed", "cancelled") else None

        stopped = await eventually(lambda: done(napping))
        assert stopped["status"] == "cancelled"
        assert await children(platform, napping) == [("core.sleep", "cancelled")]
        assert await started(platform, napping) == ["nap"]

        finished = await eventually(lambda: done(pausable), timeout=30)
        assert finished["status"] == "completed"
        assert finished["result"]["data"] == {"said": "resumed"}
        assert await started(platform, pausable) == ["nap", "after"]
        tasks = finished["workflow"]["tasks"]
        assert [(t["task"], t["status"]) for t in tasks] == [("nap", "succeeded"),
                                                             ("after", "succeeded")]

        outer_done = await eventually(lambda: done(outer), timeout=30)
        assert outer_done["status"] == "cancelled"
        tree = (await api.get(f"/api/v1/executions/{outer}/tree")).data
        inner = tree["children"][0]
        assert (inner["action_ref"], inner["task"]) == ("wfp2.inner", "inner")
        assert inner["status"] == "cancelled"
        assert [(c["task"], c["status"]) for c in inner["children"]] == [
            ("deep_nap", "cancelled")]

        # a task's timeout: the child ends `timeout`, the timed_out() branch runs
        timed = await eventually(lambda: done(timing_out), timeout=40)
        assert timed["status"] == "completed", timed["result"]
        assert timed["result"]["data"] == {"said": "too slow"}
        assert await children(platform, timing_out) == [("core.sleep", "timeout"),
                                                        ("core.echo", "completed")]

        assert failing["status"] == "failed"
        assert await started(platform, failing["id"]) == ["first", "second"]
        again = await api.post(f"/api/v1/executions/{failing['id']}/rerun", json={})
        assert again.status in (201, 202), again.body
        rerun_id = int(again.data["id"])
        rerun_done = await eventually(lambda: done(rerun_id), timeout=30)
        assert rerun_done["status"] == "completed", rerun_done["result"]
        assert rerun_done["result"]["data"] == {"third": "three"}
        # the rerun's own children: the failed task and what follows, not `first`
        assert await children(platform, rerun_id) == [("wfp2.flaky", "completed"),
                                                      ("core.echo", "completed")]


async def test_workflow_definitions_api(platform: RunningPlatform) -> None:
    async with admin_api(platform) as api:
        bad = {"tasks": [{"name": "a", "action": "core.nope", "next": [{"do": "b"}]}]}
        report = await api.post("/api/v1/packs/core/workflows/validate",
                                json={"definition": bad})
        assert report.status == 200, report.body
        assert report.data["valid"] is False
        fields = {p["field"] for p in report.data["errors"]}
        assert {"tasks.a.action", "tasks.a.next[0].do"} <= fields, report.data
        good = {"tasks": [{"name": "a", "action": "core.noop"}]}
        ok = await api.post("/api/v1/packs/core/workflows/validate", json={"definition": good})
        assert ok.data == {"valid": True, "errors": [], "warnings": []}
        assert_error(await api.post("/api/v1/packs/nope/workflows/validate",
                                    json={"definition": good}), 404, "NOT_FOUND")

        refused = await api.post("/api/v1/workflows",
                                 json={"ref": "core.broken", "definition": bad})
        assert_error(refused, 422, "VALIDATION_ERROR", "tasks.a.action")
        created = await create(api, "core.tiny", "tasks: [{name: a, action: core.noop}]")
        assert created["ref"] == "core.tiny"
        assert created["definition"]["tasks"][0]["action"] == "core.noop"
        listed = await api.get("/api/v1/workflows")
        assert [w["ref"] for w in listed.body["items"]] == ["core.tiny"]
        assert_error(await api.get("/api/v1/workflows/core.echo"), 404, "NOT_FOUND")
        assert_error(await api.post("/api/v1/workflows", json={
            "ref": "core.tiny", "definition": good}), 409, "CONFLICT")

        changed = await api.request("PUT", "/api/v1/workflows/core.tiny", json={
            "definition": {"tasks": [{"name": "b", "action": "core.echo"}]}})
        assert changed.status == 200, changed.body
        assert changed.data["definition"]["tasks"][0]["name"] == "b"
        assert_error(await api.request("PUT", "/api/v1/workflows/core.echo", json={
            "definition": good}), 409, "CONFLICT", "not a workflow")

        gone = await api.request("DELETE", "/api/v1/workflows/core.tiny")
        assert gone.status == 200, gone.body
        assert_error(await api.get("/api/v1/workflows/core.tiny"), 404, "NOT_FOUND")
