"""The projector: folds ATTUNE_EVENTS into the read models (DESIGN invariant 4).

Each batch is applied in one PostgreSQL transaction together with every
projection's position, so a crash anywhere replays at most an uncommitted batch
and the effect is exactly once. The position in PostgreSQL *is* the ack: the
runner reads with an ephemeral consumer from `min(position) + 1`, recreated from
the database after any error (NATS restart, projector restart, rebuild).
Several projector replicas are safe: positions are locked per batch and events
at or below a projection's position are skipped.

A batch's statements run projection by projection (each in stream order), not event by
event: a projection writes and reads only its own tables, so the order between
projections does not matter, and one projection's run of like statements (an audit row
per event, a status update per execution) goes to PostgreSQL as one `executemany`
instead of a round trip each.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Mapping, Sequence

import asyncpg
from nats.aio.client import Client
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy

import attune.log as log
from attune.eventstore.envelope import Envelope, decode_message
from attune.eventstore.pull import PullStream
from attune.eventstore.store import EVENTS_STREAM
from attune.readmodel.db import Conn
from attune.readmodel.projection import Projection, Statement, group

NOTIFY_CHANNEL = "attune_projections"
_log = log.get("projector")


async def ensure_positions(conn: Conn, projections: Sequence[Projection]) -> None:
    await conn.executemany(
        "INSERT INTO projection_positions (name) VALUES ($1) ON CONFLICT DO NOTHING",
        [(p.name,) for p in projections])


def fold(projections: Sequence[Projection], envelopes: Sequence[Envelope], *,
         after: Mapping[str, int] | None = None, upto: Mapping[str, int] | None = None
         ) -> list[Statement]:
    """The statements folding `envelopes` into `projections`: projection by projection,
    each in stream order. A projection sees only events above its `after` position
    (already applied ones are skipped: exactly once under redelivery) and at or below
    its `upto` bound."""
    statements: list[Statement] = []
    for projection in projections:
        low = after.get(projection.name, 0) if after is not None else None
        high = upto.get(projection.name, 0) if upto is not None else None
        for env in envelopes:
            if (low is not None and env.seq <= low) or (high is not None and env.seq > high):
                continue
            statements.extend(projection.apply(env))
    return statements


async def execute(conn: Conn, statements: Sequence[Statement]) -> None:
    """Run `statements` in order, consecutive identical SQL as one executemany."""
    for sql, args in group(statements):
        if len(args) == 1:
            await conn.execute(sql, *args[0])
        else:
            await conn.executemany(sql, args)


async def apply_batch(conn: Conn, projections: Sequence[Projection],
                      envelopes: Sequence[Envelope], *, notify: bool = True) -> int:
    """Apply `envelopes` (in stream order) inside one transaction. Returns the new
    highest position. Events at or below a projection's position are skipped."""
    if not envelopes:
        return 0
    last = envelopes[-1].seq
    async with conn.transaction():
        rows = await conn.fetch(
            "SELECT name, position FROM projection_positions WHERE name = ANY($1::text[]) "
            "ORDER BY name FOR UPDATE", [p.name for p in projections])
        positions = {r["name"]: r["position"] for r in rows}
        await execute(conn, fold(projections, envelopes, after=positions))
        await conn.execute(
            "UPDATE projection_positions SET position = $1 "
            "WHERE name = ANY($2::text[]) AND position < $1", last, list(positions))
        if notify:
            await conn.execute("SELECT pg_notify($1, $2)", NOTIFY_CHANNEL, str(last))
    return last


class Projector:
    def __init__(self, nc: Client, pool: asyncpg.Pool, projections: Sequence[Projection], *,
                 stream: str = EVENTS_STREAM, batch: int = 500) -> None:
        self.nc = nc
        self.pool = pool
        self.projections = list(projections)
        self.stream = stream
        self.batch = batch
        self.position = 0

    async def start_position(self) -> int:
        async with self.pool.acquire() as conn:
            await ensure_positions(conn, self.projections)
            value = await conn.fetchval(
                "SELECT min(position) FROM projection_positions WHERE name = ANY($1::text[])",
                [p.name for p in self.projections])
        return int(value or 0)

    async def run(self, stop: asyncio.Event) -> None:
        backoff = 0.2
        while not stop.is_set():
            try:
                await self._consume(stop)
                backoff = 0.2
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                _log.warning("projector.restart", error=repr(exc), position=self.position)
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(stop.wait(), backoff)
                backoff = min(backoff * 2, 5.0)

    async def _consume(self, stop: asyncio.Event) -> None:
        self.position = await self.start_position()
        js = self.nc.jetstream()
        config = ConsumerConfig(
            deliver_policy=DeliverPolicy.BY_START_SEQUENCE, opt_start_seq=self.position + 1,
            ack_policy=AckPolicy.NONE, inactive_threshold=30.0, filter_subject="attune.>",
            mem_storage=True)
        consumer = await js.add_consumer(self.stream, config)
        assert consumer.name is not None
        # nothing is redelivered without acks: a delivery lost in transit (a reconnect)
        # would be a silent gap, so `take` raises and we start over from the position
        pull = PullStream(self.nc, stream=self.stream, consumer=consumer.name, gapless=True)
        await pull.start()
        try:
            while not stop.is_set():
                msgs = await pull.take(self.batch, timeout=0.5, stop=stop)
                if not msgs:
                    continue
                envelopes = [decode_message(m.metadata.sequence.stream, m.subject, m.data,
                                            m.headers) for m in msgs]
                if envelopes[0].seq <= self.position:
                    envelopes = [e for e in envelopes if e.seq > self.position]
                if not envelopes:
                    continue
                async with self.pool.acquire() as conn:
                    await apply_batch(conn, self.projections, envelopes)
                self.position = envelopes[-1].seq
        finally:
            with contextlib.suppress(Exception):
                await pull.stop()
            with contextlib.suppress(Exception):
                await js.delete_consumer(self.stream, consumer.name)
