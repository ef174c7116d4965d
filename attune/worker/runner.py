"""Running one action as a child process.

`prepare` resolves the runtime and builds the launch plan (argv, a clean environment —
nothing of the worker's, so no platform secret can leak — parameters on stdin or in a
0600 file). The child gets its own process group so a timeout or cancel stops it and
everything it started (SIGINT, then SIGTERM, then SIGKILL, `GRACE_SECONDS` apart); what
is left of the group when the action ends is killed too.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time
from dataclasses import dataclass
from typing import Any

from attune.domain.action import ActionDef
from attune.domain.execution import Outcome
from attune.worker import http_request, output
from attune.worker.logs import LogWriter, capture
from attune.worker.prepare import Facilities, PrepareError, default_facilities, prepare
from attune.worker.warm_pool import Child, Spawner, cold_start

#: Per-stream bytes kept in the outcome event (events stay small); the whole output, up
#: to the per-stream cap, is in the log stream (attune/worker/logs.py).
OUTCOME_CAP = 256 * 1024
GRACE_SECONDS = 2.0


@dataclass(frozen=True)
class RunRequest:
    execution_id: int
    action: ActionDef
    pack_path: str
    parameters: dict[str, Any]
    env_vars: dict[str, str]
    timeout_seconds: int
    api_url: str
    #: A short-lived execution-scoped JWT for ATTUNE_API_TOKEN.
    api_token: str | None = None
    #: Set when a rule asked for the execution (ATTUNE_RULE / ATTUNE_TRIGGER).
    rule_ref: str | None = None
    trigger_ref: str | None = None


async def _stop_group(proc: Child) -> None:
    """SIGINT, then SIGTERM, then SIGKILL to the action's process group, each given
    GRACE_SECONDS to end the whole group — the action and whatever it started (a child
    that outlives its parent still gets the gentler signals first)."""
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGKILL):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, sig)
        deadline = loop.time() + GRACE_SECONDS
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(proc.wait(), GRACE_SECONDS)
        # no event tells when the last member of a group is gone: poll, briefly
        while loop.time() < deadline:
            if not _group_alive(proc.pid):
                break
            await asyncio.sleep(0.02)
        if proc.returncode is not None and not _group_alive(proc.pid):
            return
    _kill_leftovers(proc)


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _kill_leftovers(proc: Child) -> None:
    """Children the action left behind (in its group) do not outlive it."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)


async def run(req: RunRequest, cancel: asyncio.Event | None = None,
              logs: LogWriter | None = None, *, facilities: Facilities | None = None,
              spawner: Spawner | None = None) -> Outcome:
    """Run the action to its end, its timeout, or until `cancel` is set. Its output
    goes to `logs` (live, when the caller started it) as it comes. `spawner` starts the
    process (a warm Python pool, attune/worker/warm_pool.py); by default a cold start."""
    started = time.monotonic()
    logs = logs or LogWriter(None, req.execution_id)
    try:
        plan = await prepare(req, facilities or default_facilities())
    except PrepareError as exc:
        return Outcome(exit_code=None, error=str(exc),
                       duration_ms=int((time.monotonic() - started) * 1000))
    if plan.builtin == "http_request":
        answer = await http_request.run(req.parameters, timeout_seconds=req.timeout_seconds,
                                        cancel=cancel or asyncio.Event())
        logs.write("stdout", answer.stdout.encode())  # its result is its output, as for others
        return answer
    argv, env, payload, param_file = plan.argv, plan.env, plan.stdin, plan.param_file
    try:
        proc = await (spawner or cold_start)(argv, env, plan.cwd)
    except OSError as exc:
        if param_file:
            os.unlink(param_file)
        return Outcome(exit_code=None, error=f"cannot start {argv[0]}: {exc}")
    assert proc.stdin and proc.stdout and proc.stderr
    error: str | None = None
    timed_out = cancelled = False
    stop = cancel or asyncio.Event()
    try:
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            proc.stdin.write(payload)
            await proc.stdin.drain()
        proc.stdin.close()
        reading = asyncio.gather(capture(proc.stdout, "stdout", logs),
                                 capture(proc.stderr, "stderr", logs), proc.wait())
        stopping: asyncio.Future[Any] = asyncio.ensure_future(stop.wait())
        waiting: set[asyncio.Future[Any]] = {reading, stopping}
        done, _ = await asyncio.wait(waiting, timeout=req.timeout_seconds,
                                     return_when=asyncio.FIRST_COMPLETED)
        stopping.cancel()
        if reading not in done:
            cancelled = stopping in done
            timed_out = not cancelled
            error = "cancelled" if cancelled else f"timed out after {req.timeout_seconds} s"
            await _stop_group(proc)
        await reading
    finally:
        if param_file:
            with contextlib.suppress(OSError):
                os.unlink(param_file)
        if proc.returncode is None:
            await _stop_group(proc)
        _kill_leftovers(proc)
    out, err = logs.kept("stdout"), logs.kept("stderr")
    return Outcome(
        exit_code=proc.returncode, stdout=out[:OUTCOME_CAP].decode(errors="replace"),
        stderr=err[:OUTCOME_CAP].decode(errors="replace"),
        stdout_truncated=logs.written("stdout") > OUTCOME_CAP,
        stderr_truncated=logs.written("stderr") > OUTCOME_CAP,
        duration_ms=int((time.monotonic() - started) * 1000),
        # sized by the worker: a result too large for the event becomes an artifact
        # (attune.app.artifact_results.settle)
        data=output.parse(out.decode(errors="replace"), req.action.output_format),
        error=error,
        timed_out=timed_out, cancelled=cancelled)
