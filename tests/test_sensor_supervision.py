"""The sensor service supervising managed sensors: a crashing sensor is restarted with
growing backoff up to a cap, then left stopped (until enabled again); two replicas run
one instance, and the other takes over when the holder stops; the token is rotated
through the state file while the process keeps running."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from attune.app import sensors
from attune.app.context import Context
from attune.eventstore.envelope import Meta
from attune.sensor.instances import running_on
from attune.sensor.logs import read
from attune.sensor.managed import SensorManager
from attune.sensor.timing import SensorTiming
from tests.conftest import RunningPlatform, eventually, start_platform, stop_platform
from tests.sensor_packs import log_lines, register, write_pack

FAST = SensorTiming(refresh_every=0.2, acquire_every=0.3, renew_every=0.5,
                    backoff_initial=0.2, backoff_max=0.5, max_restarts=3, stop_grace=2.0)

CRASH = """
echo "started $$" >> "$ATTUNE_SENSOR_CONFIG_OUT"
echo "boom" >&2
exit 3
"""

LONG_RUNNING = """
echo "$$" >> "$ATTUNE_SENSOR_CONFIG_OUT"
trap 'exit 0' TERM
while true; do sleep 0.1; done
"""

TOKEN_WATCHER = """
import os, time
import attune

out = os.environ["ATTUNE_SENSOR_CONFIG_OUT"]
while True:
    with open(out, "a") as f:
        f.write(f"{os.getpid()} {attune.sensor_context.current_api_token}\\n")
    time.sleep(0.2)
"""


@pytest.fixture
async def projector(ctx: Context) -> AsyncIterator[RunningPlatform]:
    running = await start_platform(ctx, ("projector",))
    yield running
    await stop_platform(running)


@contextlib.asynccontextmanager
async def manager(ctx: Context, replica: str, timing: SensorTiming = FAST
                  ) -> AsyncIterator[tuple[SensorManager, asyncio.Event]]:
    service = SensorManager(ctx, replica=replica, timing=timing)
    stop = asyncio.Event()
    task = asyncio.create_task(service.run(stop))
    try:
        yield service, stop
    finally:
        stop.set()
        await asyncio.wait_for(task, 30)


def now(check: Callable[[], bool]) -> Callable[[], Awaitable[bool]]:
    """A synchronous check as a probe for `eventually`."""
    async def probe() -> bool:
        return check()
    return probe


def _lines(path: Path) -> list[str]:
    return path.read_text().splitlines() if path.exists() else []


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


async def test_crashing_sensor_restarts_with_backoff_then_gives_up(
        ctx: Context, projector: RunningPlatform, tmp_path: Path) -> None:
    starts = tmp_path / "starts"
    pack = write_pack(tmp_path, {"crasher": (
        {"runner_type": "shell", "config": {"out": str(starts)}}, "crash.sh", CRASH)})
    await register(ctx, pack)
    async with manager(ctx, "replica-a"):
        async def gave_up() -> bool:
            return any("gave up after 3 restarts" in t
                       for t in await log_lines(ctx, "probe.crasher", "service"))
        await eventually(gave_up, timeout=30)
        await asyncio.sleep(1.0)  # no further start once given up
        assert len(_lines(starts)) == 4
        service = await log_lines(ctx, "probe.crasher", "service")
        restarts = [t for t in service if "; restart " in t]
        assert restarts == ["exited with code 3; restart 1/3 in 0.2 s",
                            "exited with code 3; restart 2/3 in 0.4 s",
                            "exited with code 3; restart 3/3 in 0.5 s"]
        assert (await log_lines(ctx, "probe.crasher", "stderr")).count("boom") == 4
        # each start waited at least its backoff after the previous exit
        found, _ = await read(ctx.store.js, "probe.crasher", since=timedelta(hours=1), limit=1000,
                              stream="service")
        at = [line.at for line in found if line.text.startswith("started (pid")]
        gaps = [(b - a).total_seconds() for a, b in itertools.pairwise(at)]
        assert len(gaps) == 3 and all(g >= d for g, d in zip(gaps, (0.2, 0.4, 0.5),
                                                               strict=True)), gaps

        # disabled and enabled again: a fresh start (and a fresh count)
        await sensors.set_enabled(ctx, "probe.crasher", False, meta=Meta.new())
        await eventually(lambda: _gone(ctx, "probe.crasher"))
        await sensors.set_enabled(ctx, "probe.crasher", True, meta=Meta.new())
        await eventually(now(lambda: len(_lines(starts)) >= 5))


async def _gone(ctx: Context, ref: str) -> bool:
    return await running_on(ctx.store.js, ref) is None


async def test_two_replicas_run_one_instance_and_fail_over(
        ctx: Context, projector: RunningPlatform, tmp_path: Path) -> None:
    pids = tmp_path / "pids"
    pack = write_pack(tmp_path, {"steady": (
        {"runner_type": "shell", "config": {"out": str(pids)}}, "steady.sh", LONG_RUNNING)})
    await register(ctx, pack)
    async with manager(ctx, "replica-a") as (a, stop_a), \
            manager(ctx, "replica-b") as (b, stop_b):
        await eventually(now(lambda: len(_lines(pids)) == 1))
        await asyncio.sleep(2.0)  # many lease attempts by the other replica
        assert len(_lines(pids)) == 1
        holder = await running_on(ctx.store.js, "probe.steady")
        assert holder in ("replica-a", "replica-b")
        first, other = (a, b) if holder == "replica-a" else (b, a)
        running = [m for m in (a, b)
                   if m.instances["probe.steady"][1].runner is not None]
        assert running == [first]
        first_pid = int(_lines(pids)[0])
        assert _alive(first_pid)

        # the holder stops: it releases the lease and the other replica takes over
        (stop_a if first is a else stop_b).set()  # the holder's replica shuts down
        await eventually(now(lambda: len(_lines(pids)) == 2))
        assert await running_on(ctx.store.js, "probe.steady") == other.replica
        assert not _alive(first_pid)


async def test_token_rotated_through_state_file_without_restart(
        ctx: Context, projector: RunningPlatform, tmp_path: Path) -> None:
    seen = tmp_path / "tokens"
    pack = write_pack(tmp_path, {"watcher": (
        {"runner_type": "python", "config": {"out": str(seen)}}, "watcher.py",
        TOKEN_WATCHER)})
    await register(ctx, pack)
    timing = SensorTiming(refresh_every=0.2, token_ttl=6, rotate_when_left=0.7)
    async with manager(ctx, "replica-a", timing) as (service, _):
        def tokens() -> set[str]:
            return {line.split()[1] for line in _lines(seen) if len(line.split()) == 2}
        await eventually(now(lambda: len(tokens()) >= 2), timeout=30)
        assert len({line.split()[0] for line in _lines(seen)}) == 1  # one process
        runner = service.instances["probe.watcher"][1].runner
        assert runner is not None and len(getattr(runner, "pids", [])) == 1
        for token in tokens():
            claims = ctx.tokens.verify(token, expect="sensor")
            assert claims.metadata == {"sensor_ref": "probe.watcher",
                                       "trigger_types": ["probe.tick"]}
        state = Path(getattr(runner, "tokens").path)  # noqa: B009
        assert oct(state.stat().st_mode & 0o777) == "0o600"
        newest = ctx.tokens.verify(state.read_text().split('"')[3], expect="sensor")
        assert newest.exp > datetime.now(UTC).timestamp()
        async def rotated() -> bool:
            return any(t.startswith("token rotated")
                       for t in await log_lines(ctx, "probe.watcher", "service"))
        await eventually(rotated)


FLOOD = """
python3 -c '
for i in range(300):
    print(f"{i:04d}" + "x" * 15000)
print("y" * 40000)
'
sleep 600
"""


async def test_a_flood_of_output_is_kept_in_messages_the_stream_accepts(
        ctx: Context, projector: RunningPlatform, tmp_path: Path) -> None:
    pack = write_pack(tmp_path, {"flood": ({"runner_type": "shell"}, "flood.sh", FLOOD)})
    await register(ctx, pack)
    async with manager(ctx, "replica-a"):
        async def all_lines() -> list[str]:
            lines = await log_lines(ctx, "probe.flood", "stdout")
            return lines if len(lines) == 301 else []
        lines = await eventually(all_lines)
    assert [line[:4] for line in lines[:300]] == [f"{i:04d}" for i in range(300)]
    assert len(lines[0]) == 15004
    assert lines[300] == "y" * 16 * 1024 + " …[cut]"
