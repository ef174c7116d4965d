"""The warm Python pool: actions forked from a pre-started interpreter behave like cold
ones (stdin, output, exit codes, environment, timeouts) and stay isolated from each
other — leaked state is invisible to the next, a crash does not break the next.
Real processes; the last test runs them through the worker service (real NATS and
PostgreSQL)."""

from __future__ import annotations

import dataclasses
import os
import signal
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from attune.app import packs
from attune.bench import runtimes as runtimes_bench
from attune.bench.progress import Silent
from attune.config import Settings
from attune.domain.action import ActionDef
from attune.eventstore.envelope import Meta
from attune.worker.prepare import Facilities
from attune.worker.runner import RunRequest, run
from attune.worker.warm_pool import WarmPools, _warm_argv
from tests.api_http import admin_api
from tests.conftest import RunningPlatform, eventually, projected
from tests.test_worker_runner import facilities, request

# what a cold interpreter has not imported by itself: proof the action was forked warm
WARM_PROBE = "import sys\nwarm = 'urllib.request' in sys.modules\n"


@pytest.fixture
async def pools() -> AsyncIterator[WarmPools]:
    warm = WarmPools()
    yield warm
    await warm.close()


def python_action(pack: Path, name: str, body: str, **fields: object) -> ActionDef:
    (pack / "actions").mkdir(parents=True, exist_ok=True)
    (pack / "actions" / f"{name}.py").write_text(body)
    return ActionDef.model_validate({"ref": f"t.{name}", "pack_ref": "t", "name": name,
                                     "label": name, "runtime": "python",
                                     "entry_point": f"{name}.py", **fields})


async def _run(pools: WarmPools, fac: Facilities, req: RunRequest):  # type: ignore[no-untyped-def]
    return await run(req, facilities=fac, spawner=pools.spawn)


async def test_leaked_state_is_invisible_to_the_next_execution(
        tmp_path: Path, pools: WarmPools) -> None:
    fac = facilities(tmp_path)
    (tmp_path / "actions").mkdir()
    (tmp_path / "actions" / "helper.py").write_text("COUNT = 0\n")
    body = WARM_PROBE + (
        "import json, os, helper\n"
        "params = json.load(sys.stdin)\n"
        "seen = {'warm': warm, 'leak_env': os.environ.get('LEAKED'),\n"
        "        'json_patched': hasattr(json, 'LEAKED'), 'count': helper.COUNT,\n"
        "        'modules': 'leaked_mod' in sys.modules, 'pid': os.getpid(),\n"
        "        'cwd': os.getcwd(), 'argv0': sys.argv[0], 'param': params['n'],\n"
        "        'exec': os.environ['ATTUNE_EXEC_ID']}\n"
        "os.environ['LEAKED'] = 'yes'\njson.LEAKED = True\nhelper.COUNT += 1\n"
        "sys.modules['leaked_mod'] = json\n"
        "print(json.dumps(seen))\n")
    act = python_action(tmp_path, "leak", body, output_format="json")
    first = await _run(pools, fac, request(act, tmp_path, {"n": 1}))
    second = await _run(pools, fac, request(act, tmp_path, {"n": 2}))
    for outcome, n in ((first, 1), (second, 2)):
        assert outcome.exit_code == 0, outcome.stderr
        data = outcome.data
        assert data["warm"] is True  # forked from the pool, not started cold
        assert data["leak_env"] is None and data["json_patched"] is False
        assert data["count"] == 0 and data["modules"] is False
        assert data["param"] == n and data["exec"] == "5"
        assert data["cwd"] == str(tmp_path)
        assert data["argv0"] == str(tmp_path / "actions" / "leak.py")
    assert first.data["pid"] != second.data["pid"]
    assert len(pools.servers) == 1  # one interpreter, one server, used twice


async def test_warm_actions_import_the_sdk(tmp_path: Path, pools: WarmPools) -> None:
    body = (WARM_PROBE + "import attune\n\ndef main(x: int) -> dict:\n"
            "    return {'doubled': x * 2, 'exec': attune.context.execution_id, "
            "'warm': warm}\n\nattune.run_action(main)\n")
    act = python_action(tmp_path, "sdk", body, output_format="json")
    fac = facilities(tmp_path)
    fac.sdk_root = tmp_path / "sdk"  # delivered on PYTHONPATH, which a warm start honours
    outcome = await _run(pools, fac, request(act, tmp_path, {"x": 21}))
    assert outcome.exit_code == 0, outcome.stderr
    assert outcome.data["doubled"] == 42 and outcome.data["warm"] is True
    assert str(outcome.data["exec"]) == "5"


async def test_a_crash_does_not_break_the_next(tmp_path: Path, pools: WarmPools) -> None:
    fac = facilities(tmp_path)
    crash = python_action(tmp_path, "crash", "import os\nprint('before', flush=True)\n"
                                             "os.abort()\n")
    raising = python_action(tmp_path, "raising", "raise ValueError('bad input')\n")
    exiting = python_action(tmp_path, "exiting", "import sys\nsys.exit(3)\n")
    fine = python_action(tmp_path, "fine", WARM_PROBE + "print('fine', warm)\n")

    crashed = await _run(pools, fac, request(crash, tmp_path))
    assert crashed.exit_code == -signal.SIGABRT and crashed.stdout == "before\n"
    server = next(iter(pools.servers.values()))
    assert server.running
    raised = await _run(pools, fac, request(raising, tmp_path))
    assert raised.exit_code == 1 and "ValueError: bad input" in raised.stderr
    assert (await _run(pools, fac, request(exiting, tmp_path))).exit_code == 3
    after = await _run(pools, fac, request(fine, tmp_path))
    assert after.exit_code == 0 and after.stdout == "fine True\n"
    assert next(iter(pools.servers.values())) is server and server.running


async def test_a_lost_fork_server_is_replaced(tmp_path: Path, pools: WarmPools) -> None:
    fac = facilities(tmp_path)
    act = python_action(tmp_path, "fine", WARM_PROBE + "print('fine', warm)\n")
    assert (await _run(pools, fac, request(act, tmp_path))).stdout == "fine True\n"
    [server] = pools.servers.values()
    assert server.process is not None
    server.process.kill()  # our own child: the server this test's pool started
    await server.process.wait()
    again = await _run(pools, fac, request(act, tmp_path))
    assert again.exit_code == 0 and again.stdout in ("fine True\n", "fine False\n")
    replaced = await _run(pools, fac, request(act, tmp_path))
    assert replaced.stdout == "fine True\n"
    assert pools.servers[next(iter(pools.servers))] is not server


async def test_timeout_stops_the_warm_action_and_its_children(
        tmp_path: Path, pools: WarmPools) -> None:
    fac = facilities(tmp_path)
    marker = tmp_path / "child.pid"
    act = python_action(tmp_path, "slow", (
        "import subprocess, time\n"
        f"child = subprocess.Popen(['sleep', '30'])\nopen({str(marker)!r}, 'w')"
        ".write(str(child.pid))\nprint('started', flush=True)\ntime.sleep(30)\n"))
    outcome = await _run(pools, fac, request(act, tmp_path, timeout=1))
    assert outcome.timed_out and outcome.stdout == "started\n"
    child = int(marker.read_text())
    assert not Path(f"/proc/{child}").exists() or \
        Path(f"/proc/{child}/stat").read_text().split()[2] == "Z"


async def test_cold_fallbacks(tmp_path: Path, pools: WarmPools) -> None:
    assert _warm_argv(["/usr/bin/python3", "-u", "a.py", "x"]) == ["a.py", "x"]
    assert _warm_argv(["/usr/bin/python3", "-X", "dev", "a.py"]) is None
    assert _warm_argv(["/usr/bin/python3", "-u"]) is None
    # an interpreter that cannot run the server: remembered, and the action starts cold
    fake = tmp_path / "python"
    fake.write_text("#!/bin/sh\nexec /bin/sh -c 'echo cold' \n")
    os.chmod(fake, 0o755)
    child = await pools.spawn([str(fake), "-u", "a.py"], {"PATH": "/usr/bin:/bin"},
                              str(tmp_path))
    assert child.stdout is not None
    assert (await child.stdout.read()) == b"cold\n" and await child.wait() == 0
    assert str(fake) in pools.broken and not pools.servers


async def test_bench_runtimes_reports_each_runtime() -> None:
    report = await runtimes_bench.run_bench(
        runtimes_bench.Options(samples=10, executions=6, concurrency=3), Silent())
    assert set(report["runtimes"]) == {"shell", "python (cold)", "python (warm)"}
    for row in report["runtimes"].values():
        assert row["samples"] == 10 and 0 < row["p50_ms"] <= row["p99_ms"]
        assert row["executions_per_s"] > 0 and row["concurrency"] == 3
    assert report["target"]["warm_python_p50_ms"] == 5.0
    assert isinstance(report["target"]["met"], bool)


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """This module's platform runs Python actions warm (opt-in: ATTUNE_WARM_PYTHON=1)."""
    return dataclasses.replace(settings, warm_python=True)


async def test_worker_runs_python_actions_warm_and_isolated(
        platform: RunningPlatform, tmp_path: Path) -> None:
    root = tmp_path / "warmt"
    (root / "actions").mkdir(parents=True)
    (root / "pack.yaml").write_text("ref: warmt\nversion: 1.0.0\n")
    (root / "actions" / "probe.yaml").write_text(
        "name: probe\nrunner_type: python\nentry_point: probe.py\noutput_format: json\n")
    (root / "actions" / "probe.py").write_text(WARM_PROBE + (
        "import json, os\nleaked = getattr(json, 'LEAKED', None)\njson.LEAKED = os.getpid()\n"
        "print(json.dumps({'warm': warm, 'leaked': leaked}))\n"))
    (root / "actions" / "crash.yaml").write_text(
        "name: crash\nrunner_type: python\nentry_point: crash.py\n")
    (root / "actions" / "crash.py").write_text("import os\nos.abort()\n")
    _, seq = await packs.register(platform.ctx, root, meta=Meta.new())
    await projected(platform.ctx, seq)
    async with admin_api(platform) as api:
        async def run_to_end(ref: str) -> dict[str, Any]:
            eid = (await api.post("/api/v1/executions/execute",
                                  json={"action_ref": ref})).data["id"]

            async def ended() -> dict[str, Any] | None:
                data: dict[str, Any] = (await api.get(f"/api/v1/executions/{eid}")).data
                return data if data["status"] in ("completed", "failed") else None
            return await eventually(ended)  # type: ignore[no-any-return]

        first = await run_to_end("warmt.probe")
        crashed = await run_to_end("warmt.crash")
        second = await run_to_end("warmt.probe")
    assert crashed["status"] == "failed" and crashed["result"]["exit_code"] == -signal.SIGABRT
    for execution in (first, second):
        assert execution["status"] == "completed", execution["result"]
        assert execution["result"]["data"] == {"warm": True, "leaked": None}
