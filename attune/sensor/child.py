"""Sensor processes: started in their own process group (signals reach what they
spawn too) and asked to die with the service; output read in chunks and split into
lines, whatever their length; stopped with SIGTERM, then SIGKILL."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from collections.abc import Callable
from pathlib import Path

from attune.embedded.process import die_with_parent

READ_CHUNK = 64 * 1024


async def spawn(argv: list[str], env: dict[str, str], cwd: Path, *, stdin: bool = False
                ) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        *argv, env=env, cwd=str(cwd),
        stdin=asyncio.subprocess.PIPE if stdin else asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        start_new_session=True, preexec_fn=die_with_parent)


async def pump_lines(reader: asyncio.StreamReader | None, on_line: Callable[[str], None], *,
                     cap: int | None = None) -> int:
    """Call `on_line` per line read until EOF; past `cap` bytes, lines are dropped
    (counted). Returns the bytes read."""
    if reader is None:
        return 0
    total, rest = 0, b""
    while chunk := await reader.read(READ_CHUNK):
        total += len(chunk)
        if cap is not None and total > cap:
            continue
        *lines, rest = (rest + chunk).split(b"\n")
        for line in lines:
            on_line(line.decode("utf-8", errors="replace"))
    if rest and (cap is None or total <= cap):
        on_line(rest.decode("utf-8", errors="replace"))
    return total


async def read_capped(reader: asyncio.StreamReader | None, cap: int) -> tuple[bytes, bool]:
    """Everything up to `cap` bytes, and whether there was more (then stops reading)."""
    if reader is None:
        return b"", False
    data = bytearray()
    while chunk := await reader.read(READ_CHUNK):
        data += chunk
        if len(data) > cap:
            return bytes(data[:cap]), True
    return bytes(data), False


def _signal_group(process: asyncio.subprocess.Process, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, sig)


async def terminate(process: asyncio.subprocess.Process, grace: float) -> int:
    """Stop the process and its group; returns its exit code."""
    if process.returncode is None:
        _signal_group(process, signal.SIGTERM)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(process.wait(), grace)
    # also whatever it started and left behind
    _signal_group(process, signal.SIGKILL)
    return await process.wait()
