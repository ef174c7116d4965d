"""Running one action as a child process.

The child gets a clean environment (nothing of the worker's: no platform secret
can leak), parameters on stdin (or in a 0600 file), its own process group so a
timeout stops it and everything it started (SIGINT, SIGTERM, then SIGKILL).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from attune.domain.action import ActionDef
from attune.domain.execution import Outcome
from attune.worker import output, params

#: Per-stream bytes kept in the outcome event (events stay small; full logs are a later issue).
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


class ActionFileError(Exception):
    pass


def entry_path(action: ActionDef, pack_path: str) -> Path:
    """The entry point inside the pack's actions/ folder; anything escaping it is refused."""
    base = (Path(pack_path) / "actions").resolve()
    target = (base / action.entry_point).resolve()
    if not target.is_relative_to(base):
        raise ActionFileError(f"entry_point {action.entry_point!r} leaves the pack")
    if not target.is_file():
        raise ActionFileError(f"entry_point {action.entry_point!r} not found in {base}")
    return target


def command(action: ActionDef, entry: Path) -> list[str]:
    match action.runtime:
        case "shell":
            return ["/bin/sh", str(entry)]
        case "python":
            return [sys.executable, str(entry)]
        case "nodejs":
            return ["node", str(entry)]
        case "native":
            return [str(entry)]


def environment(req: RunRequest) -> dict[str, str]:
    env = {k: v for k, v in req.env_vars.items() if not k.upper().startswith("ATTUNE_")}
    env.update({
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "LANG": "C.UTF-8",
        "HOME": tempfile.gettempdir(),
        "ATTUNE_ACTION": req.action.ref,
        "ATTUNE_PACK_REF": req.action.pack_ref,
        "ATTUNE_EXEC_ID": str(req.execution_id),
        "ATTUNE_API_URL": req.api_url,
    })
    return env


async def _read_capped(stream: asyncio.StreamReader, cap: int) -> tuple[bytes, bool]:
    kept = bytearray()
    truncated = False
    while chunk := await stream.read(65536):
        room = cap - len(kept)
        if room > 0:
            kept += chunk[:room]
        if len(chunk) > room:
            truncated = True
    return bytes(kept), truncated


async def _stop_group(proc: asyncio.subprocess.Process) -> None:
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGKILL):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, sig)
        try:
            await asyncio.wait_for(proc.wait(), GRACE_SECONDS)
            return
        except TimeoutError:
            continue


async def run(req: RunRequest, cancel: asyncio.Event | None = None) -> Outcome:
    """Run the action to its end, its timeout, or until `cancel` is set."""
    started = time.monotonic()
    try:
        argv = command(req.action, entry_path(req.action, req.pack_path))
    except ActionFileError as exc:
        return Outcome(exit_code=None, error=str(exc))
    payload = params.render(req.parameters, req.action.parameter_format)
    env = environment(req)
    param_file: str | None = None
    if req.action.parameter_delivery == "file":
        fd, param_file = tempfile.mkstemp(prefix="attune-params-")
        with os.fdopen(fd, "wb") as fh:
            fh.write(payload)
        env["ATTUNE_PARAMETER_FILE"] = param_file
        payload = b""
    try:
        proc = await asyncio.create_subprocess_exec(
            *argv, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE, env=env, cwd=req.pack_path,
            start_new_session=True)
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
        reading = asyncio.gather(_read_capped(proc.stdout, OUTCOME_CAP),
                                 _read_capped(proc.stderr, OUTCOME_CAP), proc.wait())
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
        (out, out_cut), (err, err_cut), _ = await reading
    finally:
        if param_file:
            with contextlib.suppress(OSError):
                os.unlink(param_file)
        if proc.returncode is None:
            await _stop_group(proc)
    stdout = out.decode(errors="replace")
    return Outcome(
        exit_code=proc.returncode, stdout=stdout, stderr=err.decode(errors="replace"),
        stdout_truncated=out_cut, stderr_truncated=err_cut,
        duration_ms=int((time.monotonic() - started) * 1000),
        data=output.parse(stdout, req.action.output_format), error=error,
        timed_out=timed_out, cancelled=cancelled)
