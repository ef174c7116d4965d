"""Workflow patterns running for real (executor, workers, read models on real NATS and
PostgreSQL): each scenario checks the order its tasks ran in, the final status and the
output. All scenarios run at once on one platform, through the API, to stay fast."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from attune.security.crypto import is_sealed
from tests.api_http import Api, admin_api
from tests.conftest import RunningPlatform, eventually

CORE_LIB = Path(__file__).resolve().parent.parent / "packs" / "core" / "actions" / "lib.sh"

ACTIONS = {
    "secretive": ('#!/bin/sh\necho "got a token"\n',
                  "parameters:\n  token: {type: string, secret: true, required: true}\n"),
    "fail": ("#!/bin/sh\necho boom >&2\nexit 1\n", ""),
    # fails until it has been called `succeed_on` times (counted in a file)
    "flaky": ('#!/bin/sh\n. "$(dirname "$0")/lib.sh"\nread_params\n'
              'n=$(cat "$param_counter" 2>/dev/null || echo 0)\nn=$((n + 1))\n'
              'echo "$n" > "$param_counter"\necho "attempt $n"\n'
              '[ "$n" -ge "$param_succeed_on" ]\n',
              "parameters:\n  counter: {type: string, required: true}\n"
              "  succeed_on: {type: integer, required: true}\n"),
}

WORKFLOWS = {
    "parallel": """
tasks:
  - {name: a1, action: core.echo, input: {message: a1}, next: [{do: a2}]}
  - {name: a2, action: core.echo, input: {message: a2}}
  - {name: b1, action: core.echo, input: {message: b1}, next: [{do: b2}]}
  - {name: b2, action: core.echo, input: {message: b2}}
output:
  - a: "{{ trim(task.a2.stdout) }}"
  - b: "{{ trim(task.b2.stdout) }}"
""",
    "decision": """
parameters:
  pick: {type: string, required: true}
tasks:
  - name: decide
    next:
      - {when: "{{ parameters.pick == 'a' }}", do: a}
      - {when: "{{ parameters.pick == 'b' }}", do: b}
      - {when: "{{ parameters.pick == 'c' }}", do: c}
  - {name: a, action: core.echo, input: {message: A}}
  - {name: b, action: core.echo, input: {message: B}}
  - {name: c, action: core.echo, input: {message: C}}
output:
  - chose: "{{ trim(task.b.stdout) }}"
""",
    "forkjoin": """
tasks:
  - {name: start, action: core.noop, next: [{do: [left, right]}]}
  - name: left
    action: core.echo
    input: {message: L}
    next: [{publish: [{l: "{{ trim(result().stdout) }}"}], do: join}]
  - name: right
    action: core.echo
    input: {message: R}
    next: [{publish: [{r: "{{ trim(result().stdout) }}"}], do: join}]
  - {name: join, join: all, action: core.echo, input: {message: "{{ l + r }}"}}
output:
  - joined: "{{ trim(task.join.stdout) }}"
""",
    "handled": """
tasks:
  - name: bad
    action: wfp.fail
    next:
      - {when: "{{ succeeded() }}", do: never}
      - {when: "{{ failed() }}", publish: [{why: "{{ trim(result().stderr) }}"}], do: cleanup}
  - {name: never, action: core.noop}
  - {name: cleanup, action: core.noop}
output:
  - why: "{{ why }}"
""",
    "unhandled": """
tasks:
  - {name: bad, action: wfp.fail, next: [{when: "{{ succeeded() }}", do: never}]}
  - {name: never, action: core.noop}
""",
    "items": """
parameters:
  things: {type: array, required: true}
tasks:
  - name: each
    action: core.echo
    with_items: "{{ parameters.things }}"
    concurrency: 2
    input: {message: "{{ item }}"}
    next: [{publish: [{results: "{{ result() }}"}]}]
output:
  - count: "{{ length(results) }}"
  - said: "{{ results }}"
""",
    "retry": """
parameters:
  counter: {type: string, required: true}
tasks:
  - name: flaky
    action: wfp.flaky
    input: {counter: "{{ parameters.counter }}", succeed_on: 3}
    retry: {count: 3, delay: 0.2}
    next: [{when: "{{ succeeded() }}", publish: [{said: "{{ trim(result().stdout) }}"}]}]
output:
  - said: "{{ said }}"
""",
    "cycle": """
vars: {count: 0}
tasks:
  - {name: init, next: [{do: step}]}
  - name: step
    action: core.noop
    next:
      - publish: [{count: "{{ count + 1 }}"}]
      - {when: "{{ count < 3 }}", do: step}
output:
  - count: "{{ count }}"
""",
    "secret": """
parameters:
  token: {type: string, secret: true, required: true}
tasks:
  - {name: use, action: wfp.secretive, input: {token: "{{ parameters.token }}"}}
output:
  - length: "{{ length(parameters.token) }}"
""",
    "leaf": """
parameters:
  word: {type: string, required: true}
tasks:
  - {name: say, action: core.echo, input: {message: "leaf {{ parameters.word }}"}}
output:
  - said: "{{ trim(task.say.stdout) }}"
""",
    "mid": """
parameters:
  word: {type: string, required: true}
tasks:
  - {name: inner, action: wfp.leaf, input: {word: "{{ parameters.word }}"}}
output:
  - said: "{{ task.inner.result.said }}"
""",
    "top": """
tasks:
  - {name: outer, action: wfp.mid, input: {word: deep}}
output:
  - said: "{{ task.outer.result.said }}"
""",
}


def write_pack(root: Path) -> Path:
    (root / "workflows").mkdir(parents=True)
    (root / "actions").mkdir()
    (root / "pack.yaml").write_text("ref: wfp\nversion: 1.0.0\n")
    (root / "actions" / "lib.sh").write_text(CORE_LIB.read_text())
    for name, (script, params) in ACTIONS.items():
        (root / "actions" / f"{name}.sh").write_text(script)
        (root / "actions" / f"{name}.yaml").write_text(
            f"name: {name}\nrunner_type: shell\nentry_point: {name}.sh\n"
            f"parameter_format: dotenv\n{params}")
    for name, text in WORKFLOWS.items():
        (root / "workflows" / f"{name}.yaml").write_text(text)
    return root


async def register(api: Api, root: Path) -> None:
    answer = await api.post("/api/v1/packs/register", json={"path": str(root)})
    assert answer.status == 200, answer.body


async def run(api: Api, ref: str, parameters: dict[str, Any] | None = None) -> dict[str, Any]:
    answer = await api.post("/api/v1/executions/execute",
                            json={"action_ref": ref, "parameters": parameters or {}})
    assert answer.status in (200, 201, 202), answer.body
    execution_id = answer.data["id"]

    async def done() -> dict[str, Any] | None:
        got = await api.get(f"/api/v1/executions/{execution_id}")
        status = got.data["status"] if got.status == 200 else None
        return got.data if status in ("completed", "failed", "cancelled", "timeout") else None
    result: dict[str, Any] = await eventually(done, timeout=60)
    return result


async def started(platform: RunningPlatform, execution_id: int) -> list[str]:
    envelopes, _ = await platform.ctx.store.load("workflow", execution_id)
    return [e.event.task for e in envelopes if e.event.type == "workflow.task_started"]


async def children(platform: RunningPlatform, execution_id: int) -> list[tuple[str, str]]:
    rows = await platform.ctx.pool.fetch(
        "SELECT action_ref, status FROM executions WHERE parent = $1 ORDER BY id", execution_id)
    return [(r["action_ref"], r["status"]) for r in rows]


async def max_in_flight(platform: RunningPlatform, execution_id: int) -> int:
    envelopes, _ = await platform.ctx.store.load("workflow", execution_id)
    flying = peak = 0
    for env in envelopes:
        if env.event.type == "workflow.child_requested":
            flying += 1
            peak = max(peak, flying)
        elif env.event.type == "workflow.child_finished":
            flying -= 1
    return peak


async def test_workflow_patterns(platform: RunningPlatform, tmp_path: Path) -> None:
    async with admin_api(platform) as api:
        await register(api, write_pack(tmp_path / "wfp"))
        counter = tmp_path / "flaky.count"
        (parallel, decision, forkjoin, handled, unhandled, items, empty, retry, cycle,
         deep, secret) = await asyncio.gather(
            run(api, "wfp.parallel"), run(api, "wfp.decision", {"pick": "b"}),
            run(api, "wfp.forkjoin"), run(api, "wfp.handled"), run(api, "wfp.unhandled"),
            run(api, "wfp.items", {"things": ["x", "y", "z"]}),
            run(api, "wfp.items", {"things": []}),
            run(api, "wfp.retry", {"counter": str(counter)}), run(api, "wfp.cycle"),
            run(api, "wfp.top"), run(api, "wfp.secret", {"token": "hunter2-secret"}))

        def order(execution: dict[str, Any]) -> Any:
            return started(platform, execution["id"])

        assert parallel["status"] == "completed"
        assert parallel["result"]["data"] == {"a": "a2", "b": "b2"}
        ran = await order(parallel)
        assert ran.index("a1") < ran.index("a2") and ran.index("b1") < ran.index("b2")
        assert sorted(ran[:2]) == ["a1", "b1"]

        assert decision["status"] == "completed"
        assert await order(decision) == ["decide", "b"]
        assert decision["result"]["data"] == {"chose": "B"}

        assert forkjoin["status"] == "completed"
        ran = await order(forkjoin)
        assert ran[0] == "start" and sorted(ran[1:3]) == ["left", "right"]
        assert ran[3:] == ["join"]
        assert forkjoin["result"]["data"] == {"joined": "LR"}

        assert handled["status"] == "completed"
        assert await order(handled) == ["bad", "cleanup"]
        assert handled["result"]["data"] == {"why": "boom"}

        assert unhandled["status"] == "failed"
        assert await order(unhandled) == ["bad"]
        assert await children(platform, unhandled["id"]) == [("wfp.fail", "failed")]

        assert items["status"] == "completed"
        said = [r["stdout"].strip() for r in items["result"]["data"]["said"]]
        assert said == ["x", "y", "z"] and items["result"]["data"]["count"] == 3
        assert await max_in_flight(platform, items["id"]) == 2
        assert empty["status"] == "completed"
        assert empty["result"]["data"] == {"count": 0, "said": []}

        assert retry["status"] == "completed"
        assert retry["result"]["data"] == {"said": "attempt 3"}
        assert counter.read_text().strip() == "3"

        assert cycle["status"] == "completed"
        assert await order(cycle) == ["init", "step", "step", "step"]
        assert cycle["result"]["data"] == {"count": 3}

        assert deep["status"] == "completed", deep["result"]
        assert deep["result"]["data"] == {"said": "leaf deep"}
        [mid] = await platform.ctx.pool.fetch(
            "SELECT id, action_ref FROM executions WHERE parent = $1", deep["id"])
        assert mid["action_ref"] == "wfp.mid"
        assert await children(platform, mid["id"]) == [("wfp.leaf", "completed")]

        # secrets stay sealed: in the workflow's record and in its child's request
        assert secret["status"] == "completed" and secret["result"]["data"] == {"length": 14}
        flow, _ = await platform.ctx.store.load("workflow", secret["id"])
        started_event = flow[0].event
        assert is_sealed(started_event.parameters["token"])
        [(child_id,)] = await platform.ctx.pool.fetch(
            "SELECT id FROM executions WHERE parent = $1", secret["id"])
        child = await platform.ctx.store.read(child_id)
        assert child is not None and is_sealed(child.event.parameters["token"])
        assert all("hunter2" not in e.event.model_dump_json() for e in flow)
