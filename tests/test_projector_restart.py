"""The projector killed, crashed and restarted mid-stream, and a rebuild racing it: the
read models always end equal to a full rebuild from the stream, without duplicates."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from typing import Any

from attune.app import executions
from attune.app.context import Context
from attune.eventstore.envelope import Envelope, Meta
from attune.readmodel.projection import Projection, Statement
from attune.readmodel.projections import ALL
from attune.readmodel.projector import Projector
from attune.readmodel.rebuild import rebuild
from attune.readmodel.stream_range import last_sequence
from attune.readmodel.verify import verify
from tests.conftest import RunningPlatform, eventually, start_platform, stop_platform


class RunningProjector:
    """A Projector task that the test can kill (cancel) and start again."""

    def __init__(self, ctx: Context, projections: Sequence[Projection], batch: int) -> None:
        self.ctx = ctx
        self.projections = projections
        self.batch = batch
        self.task: asyncio.Task[None] | None = None
        self.starts = 0

    def start(self) -> None:
        projector = Projector(self.ctx.nc, self.ctx.pool, self.projections, batch=self.batch)
        self.task = asyncio.create_task(projector.run(asyncio.Event()))
        self.starts += 1

    async def kill(self) -> None:
        """Cancel until it is gone: on Python 3.11 `asyncio.wait_for` (used inside
        nats-py's fetch) can swallow a cancel that races a message arriving."""
        task = self.task
        assert task is not None
        while not task.done():
            task.cancel()
            await asyncio.wait({task}, timeout=0.1)
        with contextlib.suppress(asyncio.CancelledError):
            task.result()


async def _request_many(ctx: Context, n: int) -> list[int]:
    ids: list[int] = []
    for chunk in range(0, n, 50):
        ids += await asyncio.gather(*(
            executions.request(ctx, "core.noop", {"message": f"m{i}"}, meta=Meta.new())
            for i in range(chunk, min(n, chunk + 50))))
    return ids


async def _positions(ctx: Context) -> dict[str, int]:
    return dict(await ctx.pool.fetch("SELECT name, position FROM projection_positions"))


async def _core_loaded(ctx: Context) -> None:
    async def probe() -> Any:
        # as requests read it: the action joined with its pack (the pack's row may come
        # a batch after its actions' rows: registration is many events)
        return await ctx.pool.fetchval(
            "SELECT count(*) FROM actions a JOIN packs p ON p.ref = a.pack_ref "
            "WHERE a.ref = 'core.noop'")
    await eventually(probe)


async def _caught_up_and_finished(ctx: Context, n: int) -> None:
    """All n executions finished in the projection, and every projection at the
    stream's end (the stream is quiet by then: nothing else appends)."""
    async def probe() -> Any:
        done = await ctx.pool.fetchval(
            "SELECT count(*) FROM executions WHERE status = 'completed'")
        if done != n:
            return None
        last = await last_sequence(ctx.nc)
        return all(p == last for p in (await _positions(ctx)).values())
    await eventually(probe, timeout=90, interval=0.1)


async def _assert_equal_to_rebuild(ctx: Context, ids: list[int]) -> None:
    report = await verify(ctx.nc, ctx.pool, ALL)
    assert report.equal, report.diffs
    assert report.rows["executions"] == len(ids)
    assert await ctx.pool.fetchval(
        "SELECT count(DISTINCT id) = count(*) FROM executions") is True
    assert sorted(r["id"] for r in await ctx.pool.fetch("SELECT id FROM executions")) == ids


async def _start_pipeline(ctx: Context) -> RunningPlatform:
    """Executor and worker as services; the projector is the test's to kill."""
    return await start_platform(ctx, ("executor", "worker"))


async def _completed_in_stream(ctx: Context, n: int) -> None:
    """Wait for n `completed` events in the stream itself (no projection involved)."""
    async def probe() -> bool:
        info = await ctx.store.js.stream_info(ctx.store.stream,
                                              subjects_filter="attune.execution.*.completed")
        return len(info.state.subjects or {}) == n
    await eventually(probe, timeout=90, interval=0.1)


async def _history(ctx: Context, n: int) -> tuple[RunningPlatform, list[int], list[Projection]]:
    """n executions run to completion by the executor and worker, with only the packs
    and identities projected (requests need the actions table). Returns the running
    pipeline, the execution ids and those two projections."""
    running = await _start_pipeline(ctx)
    base = [p for p in ALL if p.name != "executions"]
    bootstrap = RunningProjector(ctx, base, batch=50)
    bootstrap.start()
    try:
        await _core_loaded(ctx)
        ids = sorted(await _request_many(ctx, n))
        await _completed_in_stream(ctx, n)
    finally:
        await bootstrap.kill()
    return running, ids, base


async def test_projector_killed_mid_stream_ends_equal_to_a_rebuild(ctx: Context) -> None:
    running, ids, _ = await _history(ctx, 300)
    try:
        last = await last_sequence(ctx.nc)
        projector = RunningProjector(ctx, ALL, batch=10)
        projector.start()
        # Kill it as the executions projection passes each mark (between batches, in
        # the middle of one, right after a commit: wherever the kill lands), restart.
        killed_at: list[int] = []
        for mark in (0, last // 8, last // 4, last // 2, last * 3 // 4):
            async def reached(mark: int = mark) -> bool:
                return (await _positions(ctx)).get("executions", 0) >= mark
            await eventually(reached, interval=0.002)
            await projector.kill()
            killed_at.append((await _positions(ctx))["executions"])
            projector.start()
        await _caught_up_and_finished(ctx, len(ids))
        await projector.kill()
        assert projector.starts == 6
        assert killed_at == sorted(killed_at)       # positions never went backwards
        assert killed_at[-1] < last                 # the last kill landed mid-stream
        await _assert_equal_to_rebuild(ctx, ids)
    finally:
        await stop_platform(running)


class CrashOnce:
    """The executions projection, except that the first time it meets `seq` it adds a
    statement that fails inside the batch transaction, after earlier statements of
    the same batch already ran (a crash between writes and commit)."""

    def __init__(self, inner: Projection, seq: int) -> None:
        self.inner = inner
        self.seq = seq
        self.crashed = False

    @property
    def name(self) -> str:
        return self.inner.name

    @property
    def tables(self) -> Sequence[str]:
        return self.inner.tables

    def apply(self, envelope: Envelope) -> list[Statement]:
        out = self.inner.apply(envelope)
        if envelope.seq == self.seq and not self.crashed:
            self.crashed = True
            out.append(Statement("SELECT 1 / 0", ()))
        return out


async def test_a_crash_inside_a_batch_rolls_back_and_is_replayed(ctx: Context) -> None:
    running, ids, base = await _history(ctx, 60)
    try:
        # The executions projection starts from scratch and fails on the 30th request,
        # in the middle of a batch of 50; the projector restarts from its position.
        crashing = CrashOnce(next(p for p in ALL if p.name == "executions"), ids[30])
        projector = RunningProjector(ctx, [*base, crashing], batch=50)
        projector.start()
        await _caught_up_and_finished(ctx, len(ids))
        await projector.kill()
        assert crashing.crashed
        assert projector.starts == 1
        await _assert_equal_to_rebuild(ctx, ids)
    finally:
        await stop_platform(running)


async def test_rebuild_while_the_projector_runs(ctx: Context) -> None:
    running = await start_platform(ctx, ("executor", "worker", "projector"))
    try:
        await _core_loaded(ctx)
        executions_only = [p for p in ALL if p.name == "executions"]
        ids: list[int] = []
        reports = []
        # Requests, scheduling and completions keep flowing while rebuilds run.
        for chosen in (ALL, executions_only, ALL, executions_only):
            batch = asyncio.create_task(_request_many(ctx, 50))
            await asyncio.sleep(0.05)
            reports.append(await rebuild(ctx.nc, ctx.pool, chosen))
            ids += await batch
        ids.sort()
        await _caught_up_and_finished(ctx, len(ids))
        last = await last_sequence(ctx.nc)
        positions = [r.position for r in reports]
        assert positions == sorted(positions) and positions[0] < last
        await _assert_equal_to_rebuild(ctx, ids)
        assert set((await _positions(ctx)).values()) == {last}
    finally:
        await stop_platform(running)
