"""Rebuilding read models from ATTUNE_EVENTS while the system runs.

One PostgreSQL transaction per rebuild: lock the projections' rows in
`projection_positions` (the live projector's next batch waits on them, and
because it reads positions under that lock it skips what the rebuild applied),
truncate the projections' tables, fold the stream from sequence 1 up to its last
sequence at the start, set the positions to that sequence, commit, notify.
Readers see the old tables until the commit and the new ones after it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import asyncpg
from nats.aio.client import Client

from attune.readmodel.db import Conn
from attune.readmodel.projection import Projection
from attune.readmodel.projector import NOTIFY_CHANNEL, ensure_positions, execute, fold
from attune.readmodel.stream_range import BATCH, last_sequence, read_range

#: Called after each batch with (last sequence read, target sequence).
Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class RebuildReport:
    projections: list[str]
    events: int
    position: int
    rows: dict[str, int]
    seconds: float


async def lock_positions(conn: Conn, projections: Sequence[Projection]
                         ) -> dict[str, int]:
    """Lock the projections' position rows (in name order, like the projector, so
    the two never deadlock) and return their positions."""
    rows = await conn.fetch(
        "SELECT name, position FROM projection_positions WHERE name = ANY($1::text[]) "
        "ORDER BY name FOR UPDATE", [p.name for p in projections])
    return {r["name"]: int(r["position"]) for r in rows}


def _quoted(table: str) -> str:
    return '"' + table.replace('"', '""') + '"'


async def count_rows(conn: Conn, projections: Sequence[Projection]
                     ) -> dict[str, int]:
    return {t: int(await conn.fetchval(f"SELECT count(*) FROM {_quoted(t)}"))
            for p in projections for t in p.tables}


async def rebuild(nc: Client, pool: asyncpg.Pool, projections: Sequence[Projection], *,
                  batch: int = BATCH, progress: Progress | None = None) -> RebuildReport:
    started = time.monotonic()
    events = 0
    async with pool.acquire() as conn:
        await ensure_positions(conn, projections)
        async with conn.transaction():
            await lock_positions(conn, projections)
            # Read after the lock: the live projector cannot be past this sequence,
            # so the new position is never below the old one (unless the stream was
            # recreated, and then the stream is right).
            target = await last_sequence(nc)
            tables = ", ".join(_quoted(t) for p in projections for t in p.tables)
            await conn.execute(f"TRUNCATE {tables}")
            async for envelopes in read_range(nc, last=target, batch=batch):
                await execute(conn, fold(projections, envelopes))
                events += len(envelopes)
                if progress is not None:
                    progress(envelopes[-1].seq, target)
            await conn.execute(
                "UPDATE projection_positions SET position = $1 WHERE name = ANY($2::text[])",
                target, [p.name for p in projections])
            rows = await count_rows(conn, projections)
            await conn.execute("SELECT pg_notify($1, $2)", NOTIFY_CHANNEL, str(target))
    return RebuildReport(projections=[p.name for p in projections], events=events,
                         position=target, rows=rows, seconds=time.monotonic() - started)
