"""Live action output: streamed to ATTUNE_LOGS while the action runs, read whole or from
an offset, followed as server-sent events, capped per stream with the flag
(real NATS, PostgreSQL, worker processes and HTTP API)."""

from __future__ import annotations

import asyncio
import itertools
from pathlib import Path
from typing import Any

import aiohttp
import orjson
import pytest

from attune.app import packs
from attune.config import Settings
from attune.eventstore.envelope import Meta
from tests.api_http import Api, admin_api, assert_error
from tests.conftest import RunningPlatform, eventually, projected
from tests.test_cli_commands import Cli

CAP = 300_000


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.with_(output_cap_bytes=CAP)


async def _register(platform: RunningPlatform, root: Path) -> None:
    (root / "actions").mkdir(parents=True)
    (root / "pack.yaml").write_text("ref: logt\nversion: 1.0.0\n")
    (root / "actions" / "talk.yaml").write_text(
        "name: talk\nrunner_type: shell\nentry_point: talk.sh\n")
    # one line, then (when the test opens the gate) another, and one on stderr
    (root / "actions" / "talk.sh").write_text(
        'echo "line 1"\nwhile [ ! -e "$GATE" ]; do sleep 0.05; done\n'
        'echo "line 2"\necho "oops" >&2\n')
    (root / "actions" / "big.yaml").write_text(
        "name: big\nrunner_type: shell\nentry_point: big.sh\n")
    (root / "actions" / "big.sh").write_text("head -c 1000000 /dev/zero | tr '\\0' 'x'\n")
    _, seq = await packs.register(platform.ctx, root, meta=Meta.new())
    await projected(platform.ctx, seq)


async def _status(api: Api, eid: int) -> str:
    return str((await api.get(f"/api/v1/executions/{eid}")).data["status"])


async def _sse(platform: RunningPlatform, token: str, path: str,
               headers: dict[str, str] | None = None) -> list[tuple[str, dict[str, Any]]]:
    """Every event of a followed log, until the server ends the stream."""
    events: list[tuple[str, dict[str, Any]]] = []
    async with aiohttp.ClientSession() as session, session.get(
            platform.api_url + path,
            headers={"Authorization": f"Bearer {token}", **(headers or {})}) as response:
        assert response.status == 200, await response.text()
        assert response.content_type == "text/event-stream"
        name = ""
        async for raw in response.content:
            line = raw.decode().rstrip("\n")
            if line.startswith("event: "):
                name = line[7:]
            elif line.startswith("data: "):
                events.append((name, orjson.loads(line[6:])))
    return events


async def test_output_is_live_readable_from_offsets_and_followed(
        platform: RunningPlatform, tmp_path: Path) -> None:
    await _register(platform, tmp_path / "logt")
    gate = tmp_path / "gate"
    async with admin_api(platform) as api:
        assert api.token
        started = await api.post("/api/v1/executions/execute", json={
            "action_ref": "logt.talk", "env_vars": {"GATE": str(gate)}})
        eid = started.data["id"]
        logs = f"/api/v1/executions/{eid}/logs"

        async def first_line_is_there() -> Any:
            answer = await api.get(f"{logs}/stdout")
            return answer.data if answer.data["content"] == "line 1\n" else None
        live = await eventually(first_line_is_there)
        # the action still runs (it waits for the gate): the output came while it ran
        assert live["complete"] is False and live["status"] == "running"
        assert live["next_offset"] == 7 and live["written"] is None

        following = asyncio.create_task(
            _sse(platform, api.token, f"{logs}/stdout?follow=true"))
        resumed = asyncio.create_task(_sse(
            platform, api.token, f"{logs}/stdout",
            {"Accept": "text/event-stream", "Last-Event-ID": "5"}))
        cli = Cli(platform.api_url, tmp_path)
        await cli.login()
        cli_follow = asyncio.create_task(cli("execution", "logs", str(eid), "--follow"))
        await asyncio.sleep(0.5)
        assert not following.done()  # still following: the execution has not ended
        assert not cli_follow.done()
        gate.touch()
        events = await asyncio.wait_for(following, 20)
        chunks = [data for name, data in events if name == "chunk"]
        assert "".join(c["content"] for c in chunks) == "line 1\nline 2\n"
        assert chunks[0]["offset"] == 0  # contiguous pieces, each where the last ended
        assert all(a["next_offset"] == b["offset"] for a, b in itertools.pairwise(chunks))
        assert events[-1][0] == "end"
        assert events[-1][1]["next_offset"] == 14 and events[-1][1]["written"] == 14
        assert events[-1][1]["truncated"] is False
        again = await asyncio.wait_for(resumed, 20)  # a reconnection resumes at its id
        assert "".join(d["content"] for n, d in again if n == "chunk") == "1\nline 2\n"

        async def ended() -> bool:
            return await _status(api, eid) == "completed"
        await eventually(ended)
        tail = (await api.get(f"{logs}/stdout", params={"offset": 7})).data
        assert tail["content"] == "line 2\n" and tail["offset"] == 7
        assert tail["complete"] is True and tail["written"] == 14
        past = (await api.get(f"{logs}/stdout", params={"offset": 500})).data
        assert past["content"] == "" and past["next_offset"] == 500
        followed = await cli_follow
        assert followed.code == 0 and followed.out == "line 1\nline 2\n", followed
        ran = await cli("execution", "logs", str(eid), "--stderr")
        assert ran.code == 0 and ran.out == "oops\n", ran
        ran = await cli("execution", "logs", "999999")
        assert ran.code == 1 and "execution 999999 not found" in ran.err, ran
        err = (await api.get(f"{logs}/stderr")).data
        assert err["content"] == "oops\n" and err["complete"] is True
        # an ended execution's follow is its whole output at once
        done = await _sse(platform, api.token, f"{logs}/stderr?follow=true")
        assert [n for n, _ in done] == ["chunk", "end"] and done[0][1]["content"] == "oops\n"

        assert_error(await api.get("/api/v1/executions/999999/logs/stdout"), 404, "NOT_FOUND")
        assert_error(await api.get(f"{logs}/stdin"), 422, "VALIDATION_ERROR", "stream")
        assert_error(await api.get(f"{logs}/stdout", params={"offset": -1}), 422,
                     "VALIDATION_ERROR", "offset")


async def test_large_output_is_capped_and_flagged(platform: RunningPlatform,
                                                  tmp_path: Path) -> None:
    await _register(platform, tmp_path / "logt")
    async with admin_api(platform) as api:
        eid = (await api.post("/api/v1/executions/execute",
                              json={"action_ref": "logt.big"})).data["id"]

        async def ended() -> Any:
            execution = (await api.get(f"/api/v1/executions/{eid}")).data
            return execution if execution["status"] == "completed" else None
        execution = await eventually(ended)
        result = execution["result"]
        assert result["stdout_truncated"] is True and result["stderr_truncated"] is False
        assert len(result["stdout"]) == 256 * 1024  # the result keeps the beginning
        whole = (await api.get(f"/api/v1/executions/{eid}/logs/stdout")).data
        assert whole["truncated"] is True and whole["written"] == 1_000_000
        assert whole["content"] == "x" * CAP and whole["next_offset"] == CAP
        # nothing was written to stderr: no message at all; following it ends by the status
        quiet = await _sse(platform, str(api.token), f"/api/v1/executions/{eid}/logs/stderr",
                           {"Accept": "text/event-stream"})
        assert quiet == [("end", {"next_offset": 0, "written": None, "truncated": False,
                                  "status": "completed"})]
        empty = (await api.get(f"/api/v1/executions/{eid}/logs/stderr")).data
        assert empty["content"] == "" and empty["complete"] is True
