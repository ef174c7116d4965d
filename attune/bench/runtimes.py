"""`attune bench runtimes`: what starting an action costs, per runtime.

Dispatch overhead is the worker runner's whole path for an action that does nothing
(an empty script): prepare the launch plan, start the process (cold, or forked from the
warm Python pool), feed stdin, collect output, reap it. Measured one at a time (p50/p99),
then executions/s with several in flight. No servers: this is the worker's own cost,
which the pipeline benchmarks add to.
"""

from __future__ import annotations

import asyncio
import os
import platform as host
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from attune.bench.progress import Progress
from attune.bench.rules import percentile
from attune.domain.action import ActionDef
from attune.errors import UnavailableError
from attune.worker.prepare import default_facilities
from attune.worker.runner import RunRequest, run
from attune.worker.warm_pool import Spawner, WarmPools

#: Target of the issue: warm Python dispatch overhead at the median.
WARM_P50_TARGET_MS = 5.0
WARMUP = 5


@dataclass(frozen=True)
class Options:
    samples: int = 200
    executions: int = 400
    concurrency: int = 8


@dataclass(frozen=True)
class Case:
    name: str
    runtime: str
    script: str
    spawner: Spawner | None


def _action(runtime: str, script: str) -> ActionDef:
    return ActionDef.model_validate({"ref": f"bench.{runtime}", "pack_ref": "bench",
                                     "name": runtime, "label": runtime, "runtime": runtime,
                                     "entry_point": script})


def _request(action: ActionDef, pack: Path, n: int) -> RunRequest:
    return RunRequest(execution_id=n, action=action, pack_path=str(pack), parameters={},
                      env_vars={}, timeout_seconds=60, api_url="http://127.0.0.1:8080")


async def _measure(case: Case, pack: Path, options: Options, progress: Progress
                   ) -> dict[str, Any]:
    action = _action(case.runtime, case.script)
    facilities = default_facilities()

    async def once(n: int) -> float:
        started = time.perf_counter()
        outcome = await run(_request(action, pack, n), facilities=facilities,
                            spawner=case.spawner)
        if outcome.exit_code != 0:
            raise UnavailableError(f"{case.name}: the empty action failed "
                                   f"({outcome.error or outcome.stderr.strip()[:200]})")
        return time.perf_counter() - started

    for n in range(WARMUP):  # first runs start fork servers, fill caches
        await once(n)
    progress.phase(f"{case.name}: one at a time", options.samples)
    times: list[float] = []
    for n in range(options.samples):
        times.append(await once(n))
        progress.update(n + 1)
    times.sort()
    progress.phase(f"{case.name}: {options.concurrency} in flight", options.executions)
    gate = asyncio.Semaphore(options.concurrency)
    done = 0

    async def limited(n: int) -> None:
        nonlocal done
        async with gate:
            await once(n)
        done += 1
        progress.update(done)

    started = time.perf_counter()
    await asyncio.gather(*(limited(n) for n in range(options.executions)))
    elapsed = time.perf_counter() - started
    return {"p50_ms": percentile(times, 50), "p99_ms": percentile(times, 99),
            "min_ms": 1000 * times[0], "samples": len(times),
            "executions_per_s": options.executions / elapsed,
            "concurrency": options.concurrency}


async def run_bench(options: Options, progress: Progress) -> dict[str, Any]:
    pools = WarmPools()
    with tempfile.TemporaryDirectory(prefix="attune-bench-runtimes-") as tmp:
        pack = Path(tmp)
        (pack / "actions").mkdir()
        (pack / "actions" / "empty.sh").write_text("")
        (pack / "actions" / "empty.py").write_text("")
        cases = [Case("shell", "shell", "empty.sh", None),
                 Case("python (cold)", "python", "empty.py", None),
                 Case("python (warm)", "python", "empty.py", pools.spawn)]
        results: dict[str, Any] = {}
        try:
            for case in cases:
                results[case.name] = await _measure(case, pack, options, progress)
        finally:
            await pools.close()
    warm = results["python (warm)"]
    return {
        "machine": {"cpus": os.cpu_count(), "python": host.python_version(),
                    "system": f"{host.system()} {host.machine()}",
                    # other work on the machine shows in every latency: say how much
                    "load_average_1m": os.getloadavg()[0]},
        "runtimes": results,
        "target": {"warm_python_p50_ms": WARM_P50_TARGET_MS,
                   "met": warm["p50_ms"] <= WARM_P50_TARGET_MS},
    }
