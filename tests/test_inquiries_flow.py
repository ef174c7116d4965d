"""Inquiries end to end (real NATS, PostgreSQL, workers, API): a workflow waits for an
approval that is granted, one that times out (its `timed_out()` branch), two in
sequence (the second a task's `wait_for`); responses are validated, a second one is a
409, only the assignee (or a manager) answers an assigned one; cancelling an inquiry
ends the execution waiting on it."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
import yaml

from attune.app import identities
from attune.eventstore.envelope import Meta
from tests.api_http import Api, admin_api, assert_error
from tests.conftest import RunningPlatform, eventually, projected
from tests.test_workflow_run_patterns import started

APPROVAL = """
tasks:
  - name: ask
    action: core.ask
    input:
      prompt: "Deploy {{ parameters.version }}?"
      assigned_to: admin
      response_schema: {approved: {type: boolean, required: true}, note: {type: string}}
    next:
      - when: "{{ succeeded() and result().data.response.approved }}"
        publish: [{note: "{{ result().data.response.note }}"}]
        do: deploy
      - {when: "{{ timed_out() }}", do: fallback}
  - {name: deploy, action: core.echo, input: {message: "deploying {{ parameters.version }}"}}
  - {name: fallback, action: core.echo, input: {message: nobody answered}}
parameters:
  version: {type: string, required: true}
vars: {note: null}
output:
  - note: "{{ note }}"
"""
TIMING_OUT = APPROVAL.replace("assigned_to: admin", "timeout: 1")
TWO = """
tasks:
  - {name: first, action: core.ask, input: {prompt: "first?"}, next: [{do: second}]}
  - name: second
    wait_for: {prompt: "second?"}
    next: [{when: "{{ succeeded() }}", do: done}]
  - {name: done, action: core.noop}
"""


async def create(api: Api, ref: str, text: str) -> None:
    answer = await api.post("/api/v1/workflows",
                            json={"ref": ref, "definition": yaml.safe_load(text)})
    assert answer.status == 201, answer.body


async def request(api: Api, ref: str, parameters: dict[str, Any]) -> int:
    answer = await api.post("/api/v1/executions/execute",
                            json={"action_ref": ref, "parameters": parameters})
    assert answer.status in (201, 202), answer.body
    return int(answer.data["id"])


async def pending_of(api: Api, workflow_id: int, count: int = 1) -> list[dict[str, Any]]:
    async def probe() -> list[dict[str, Any]] | None:
        listed = await api.get("/api/v1/inquiries", params={"status": "pending"})
        mine = [i for i in listed.body["items"] if i["workflow_execution_id"] == workflow_id]
        return mine if len(mine) >= count else None
    found: list[dict[str, Any]] = await eventually(probe)
    return found


async def finished(api: Api, execution_id: int) -> dict[str, Any]:
    async def probe() -> dict[str, Any] | None:
        got = (await api.get(f"/api/v1/executions/{execution_id}")).data
        return got if got["status"] in ("completed", "failed", "cancelled", "timeout") \
            else None
    done: dict[str, Any] = await eventually(probe, timeout=30)
    return done


async def test_approvals(platform: RunningPlatform) -> None:
    async with admin_api(platform) as api:
        await create(api, "core.approval", APPROVAL)
        await create(api, "core.approval_timeout", TIMING_OUT)
        await create(api, "core.two_approvals", TWO)
        granted, timing_out, two = await asyncio.gather(
            request(api, "core.approval", {"version": "1.2"}),
            request(api, "core.approval_timeout", {"version": "1.3"}),
            request(api, "core.two_approvals", {}))

        # granted: the workflow waits for the answer, then deploys
        [inquiry] = await pending_of(api, granted)
        assert inquiry["prompt"] == "Deploy 1.2?" and inquiry["assigned_to"] == "admin"
        assert inquiry["response_schema"]["approved"]["type"] == "boolean"
        assert await started(platform, granted) == ["ask"]
        path = f"/api/v1/inquiries/{inquiry['id']}/respond"
        assert_error(await api.post(path, json={"response": {"approved": "yes"}}), 422,
                     "VALIDATION_ERROR", "approved")
        answered = await api.post(path, json={"response": {"approved": True, "note": "go"}})
        assert answered.status == 200, answered.body
        assert answered.data["status"] == "responded"
        assert answered.data["response"] == {"approved": True, "note": "go"}
        assert answered.data["responded_by"] == "admin"
        assert_error(await api.post(path, json={"response": {"approved": False}}), 409,
                     "CONFLICT", "already responded")
        done = await finished(api, granted)
        assert done["status"] == "completed", done["result"]
        assert await started(platform, granted) == ["ask", "deploy"]
        assert done["result"]["data"] == {"note": "go"}

        # timed out: the inquiry and its execution end `timeout`, the workflow goes on
        # along its timed_out() branch
        done = await finished(api, timing_out)
        assert done["status"] == "completed", done["result"]
        assert await started(platform, timing_out) == ["ask", "fallback"]
        listed = await api.get("/api/v1/inquiries", params={"status": "timeout"})
        assert [i["workflow_execution_id"] for i in listed.body["items"]] == [timing_out]
        late = listed.body["items"][0]
        assert_error(await api.post(f"/api/v1/inquiries/{late['id']}/respond",
                                    json={"response": {"approved": True}}), 409, "CONFLICT",
                     "timeout")

        # two in sequence: the second is asked only once the first is answered
        [first] = await pending_of(api, two)
        assert first["prompt"] == "first?"
        answered = await api.post(f"/api/v1/inquiries/{first['id']}/respond",
                                  json={"response": {"approved": True}})
        assert answered.status == 200, answered.body
        second = [i for i in await pending_of(api, two) if i["id"] != first["id"]]
        assert [i["prompt"] for i in second] == ["second?"]
        answered = await api.post(f"/api/v1/inquiries/{second[0]['id']}/respond",
                                  json={"response": {"approved": False}})
        assert answered.status == 200, answered.body
        done = await finished(api, two)
        assert done["status"] == "completed"
        assert await started(platform, two) == ["first", "second", "done"]


async def test_cancel_an_inquiry(platform: RunningPlatform) -> None:
    meta = Meta.new(actor="test")
    await identities.create(platform.ctx, "operator", "operator-password-1",
                            permission_set_refs=["core.executor"], meta=meta)
    seq = await identities.create(platform.ctx, "bystander", "bystander-password-1",
                                  permission_set_refs=["core.executor"], meta=meta)
    await projected(platform.ctx, seq)
    async with admin_api(platform) as api, aiohttp.ClientSession() as session:
        # assigned to `operator`: another identity that may respond to inquiries (but
        # not manage them) is refused, the assignee is heard
        assigned = await request(api, "core.ask", {
            "prompt": "yours?", "assigned_to": "operator",
            "response_schema": {"ok": {"type": "boolean", "required": True}}})

        async def asked() -> Any:
            listed = await api.get("/api/v1/inquiries", params={"assigned_to": "operator"})
            return [i for i in listed.body["items"] if i["execution_id"] == assigned]
        [mine] = await eventually(asked)
        bystander, operator = Api(session, platform.api_url), Api(session, platform.api_url)
        await bystander.login("bystander", "bystander-password-1")
        await operator.login("operator", "operator-password-1")
        path = f"/api/v1/inquiries/{mine['id']}/respond"
        assert_error(await bystander.post(path, json={"response": {"ok": True}}), 403,
                     "FORBIDDEN", "assigned to 'operator'")
        heard = await operator.post(path, json={"response": {"ok": True}})
        assert heard.status == 200, heard.body
        assert (await finished(api, assigned))["result"]["data"] == {
            "response": {"ok": True}}

        asked = await request(api, "core.ask", {"prompt": "really?"})

        async def pending() -> Any:
            listed = await api.get("/api/v1/inquiries", params={"status": "pending"})
            return [i for i in listed.body["items"] if i["execution_id"] == asked]
        [inquiry] = await eventually(pending)
        assert inquiry["workflow_execution_id"] is None
        shown = await api.get(f"/api/v1/inquiries/{inquiry['id']}")
        assert shown.data["status"] == "pending"
        cancelled = await api.post(f"/api/v1/inquiries/{inquiry['id']}/cancel")
        assert cancelled.status == 200, cancelled.body
        assert cancelled.data["status"] == "cancelled"
        done = await finished(api, asked)
        assert done["status"] == "cancelled"
        assert_error(await api.get("/api/v1/inquiries/999999"), 404, "NOT_FOUND")
