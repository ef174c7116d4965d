"""Placement: executions that need labels (or a runtime version) go only to a capable
worker, wait with a visible reason while there is none, and are placed when one comes;
workers are listed, cordoned and uncordoned (API and CLI). Real NATS, PostgreSQL,
worker services and processes."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from attune.app import packs
from attune.config import Settings
from attune.eventstore.envelope import Meta
from attune.executor.placer import WORKERS_TTL
from attune.platform import close_context, open_context
from attune.worker.intake import CORDON_POLL_SECONDS
from tests.api_http import Api, admin_api, assert_error
from tests.conftest import eventually, projected, start_platform, stop_platform
from tests.test_cli_commands import Cli

WAITING = "waiting for a capable worker: "


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.with_(worker_name="plain-1")


def _pack(root: Path) -> Path:
    (root / "actions").mkdir(parents=True)
    (root / "pack.yaml").write_text("ref: placed\nversion: 1.0.0\n")
    (root / "actions" / "hello.sh").write_text("echo hello\n")
    for name, extra in {"gpu": "placement: {labels: {gpu: 'true'}}\n",
                        "anywhere": "",
                        "future": "runtime_version: '>=99'\n"}.items():
        runner = "python" if name == "future" else "shell"
        entry = "hello.py" if name == "future" else "hello.sh"
        (root / "actions" / f"{name}.yaml").write_text(
            f"name: {name}\nrunner_type: {runner}\nentry_point: {entry}\n{extra}")
    (root / "actions" / "hello.py").write_text("print('hello')\n")
    return root


async def _execution(api: Api, eid: int) -> dict[str, Any]:
    data: dict[str, Any] = (await api.get(f"/api/v1/executions/{eid}")).data
    return data


async def _waits(api: Api, eid: int, *fragments: str) -> str:
    async def probe() -> str | None:
        execution = await _execution(api, eid)
        reason = execution.get("waiting_reason") or ""
        if execution["status"] == "scheduling" and all(f in reason for f in fragments):
            return str(reason)
        return None
    return str(await eventually(probe))


async def _ran_on(api: Api, eid: int) -> str:
    async def probe() -> str | None:
        execution = await _execution(api, eid)
        return execution["worker"] if execution["status"] == "completed" else None
    return str(await eventually(probe))


async def _run(api: Api, ref: str) -> int:
    answer = await api.post("/api/v1/executions/execute", json={"action_ref": ref})
    assert answer.status in (201, 202), answer.body
    return int(answer.data["id"])


async def test_placement_waiting_cordon_and_worker_commands(ctx, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    running = await start_platform(ctx, ("api", "executor", "projector", "worker"))
    gpu_ctx = gpu = None
    try:
        _, seq = await packs.register(ctx, _pack(tmp_path / "placed"), meta=Meta.new())
        await projected(ctx, seq)
        async with admin_api(running) as api:
            waiting = await _run(api, "placed.gpu")
            reason = await _waits(api, waiting, "labels gpu=true", "plain-1 lacks label gpu=true")
            assert reason.startswith(WAITING)
            # nothing else is held up: an action without needs runs on the plain worker
            assert await _ran_on(api, await _run(api, "placed.anywhere")) == "plain-1"
            future = await _run(api, "placed.future")
            await _waits(api, future, "runtime core.python >=99", "plain-1 has")

            gpu_ctx = await open_context(ctx.settings.with_(
                worker_name="gpu-1", worker_labels={"gpu": "true", "zone": "a"}))
            gpu = await start_platform(gpu_ctx, ("worker",))
            # placed as soon as a capable worker shows up
            assert await _ran_on(api, waiting) == "gpu-1"
            assert (await _execution(api, waiting))["waiting_reason"] is None

            listed = {w["name"]: w for w in (await api.get("/api/v1/workers")).data}
            assert listed["gpu-1"]["labels"] == {"gpu": "true", "zone": "a"}
            assert listed["gpu-1"]["alive"] and not listed["gpu-1"]["cordoned"]
            assert "shell" in listed["plain-1"]["runtimes"] and listed["plain-1"]["labels"] == {}

            cordoned = await api.post("/api/v1/workers/gpu-1/cordon",
                                      json={"reason": "driver update"})
            assert cordoned.status == 200, cordoned.body
            assert cordoned.data["cordoned"] and cordoned.data["cordon_reason"] == "driver update"
            # the executor's view of workers renews, the worker looks at its cordon
            await asyncio.sleep(WORKERS_TTL + 2 * CORDON_POLL_SECONDS + 0.5)
            held = await _run(api, "placed.gpu")
            await _waits(api, held, "gpu-1 is cordoned")
            # a cordoned worker takes no shared work either: the plain one runs it
            assert await _ran_on(api, await _run(api, "placed.anywhere")) == "plain-1"

            cli = Cli(running.api_url, tmp_path)
            await cli.login()
            shown = await cli("worker", "list")
            assert shown.code == 0 and "gpu-1" in shown.out and "driver update" in shown.out, shown
            assert "gpu=true,zone=a" in shown.out
            back = await cli("worker", "uncordon", "gpu-1")
            assert back.code == 0 and "takes executions again" in back.out, back
            assert await _ran_on(api, held) == "gpu-1"
            again = await cli("worker", "cordon", "gpu-1", "--reason", "again", "-o", "json")
            assert again.code == 0 and '"cordoned": true' in again.out, again
            unknown = await cli("worker", "cordon", "nobody")
            assert unknown.code == 1 and "worker 'nobody' not found" in unknown.err, unknown

            assert_error(await api.post("/api/v1/workers/nobody/uncordon"), 404, "NOT_FOUND",
                         "nobody")
            assert_error(await api.post("/api/v1/workers/gpu-1/cordon",
                                        json={"reason": 3}), 422, "VALIDATION_ERROR", "reason")
    finally:
        if gpu is not None:
            await stop_platform(gpu)
        if gpu_ctx is not None:
            await close_context(gpu_ctx)
        await stop_platform(running)
