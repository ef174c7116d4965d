"""apply_batch against real PostgreSQL: exactly-once effect under redelivery, per
projection position, and a failed batch leaves nothing behind."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime

import asyncpg
import pytest

from attune.domain.execution import ExecutionScheduled
from attune.eventstore.envelope import Envelope, Meta
from attune.readmodel import db
from attune.readmodel.projection import Statement
from attune.readmodel.projector import apply_batch, ensure_positions


class Ledger:
    """A projection whose effect is NOT idempotent: one row per applied event, no key.
    Applying an event twice shows up as a duplicate row."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.tables = (f"ledger_{name}",)

    def apply(self, envelope: Envelope) -> list[Statement]:
        return [Statement(f"INSERT INTO ledger_{self.name} (seq) VALUES ($1)",
                          (envelope.seq,))]


def _envelopes(first: int, last: int) -> list[Envelope]:
    at = datetime(2026, 1, 1, tzinfo=UTC)
    return [Envelope(seq=seq, subject=f"attune.execution.{seq}.scheduled",
                     msg_id=f"m{seq}", event=ExecutionScheduled(at=at, queue="q"),
                     meta=Meta(correlation_id="c"))
            for seq in range(first, last + 1)]


@pytest.fixture
async def pool(database_url: str) -> AsyncIterator[asyncpg.Pool]:
    pool = await db.create_pool(database_url)
    async with pool.acquire() as conn:
        await db.migrate(conn)
        for name in ("a", "b"):
            await conn.execute(f"CREATE TABLE ledger_{name} (seq bigint NOT NULL)")
    yield pool
    await pool.close()


async def _ledger(pool: asyncpg.Pool, name: str) -> list[int]:
    return [r["seq"] for r in await pool.fetch(f"SELECT seq FROM ledger_{name} ORDER BY seq")]


async def _apply(pool: asyncpg.Pool, projections: Sequence[Ledger],
                 envelopes: list[Envelope]) -> int:
    async with pool.acquire() as conn:
        await ensure_positions(conn, projections)
        return await apply_batch(conn, projections, envelopes)


async def test_redelivered_events_are_skipped(pool: asyncpg.Pool) -> None:
    a = Ledger("a")
    assert await _apply(pool, [a], _envelopes(1, 10)) == 10
    # A redelivery overlapping the applied range, then an exact repeat, then an old one.
    assert await _apply(pool, [a], _envelopes(6, 15)) == 15
    await _apply(pool, [a], _envelopes(1, 15))
    await _apply(pool, [a], _envelopes(3, 4))
    assert await _ledger(pool, "a") == list(range(1, 16))
    assert await pool.fetchval("SELECT position FROM projection_positions WHERE name = 'a'") == 15


async def test_each_projection_skips_by_its_own_position(pool: asyncpg.Pool) -> None:
    a, b = Ledger("a"), Ledger("b")
    await _apply(pool, [a], _envelopes(1, 8))          # b is new: position 0
    await _apply(pool, [a, b], _envelopes(1, 12))
    assert await _ledger(pool, "a") == list(range(1, 13))
    assert await _ledger(pool, "b") == list(range(1, 13))
    positions = dict(await pool.fetch("SELECT name, position FROM projection_positions"))
    assert positions == {"a": 12, "b": 12}


class Failing(Ledger):
    def apply(self, envelope: Envelope) -> list[Statement]:
        out = super().apply(envelope)
        if envelope.seq == 7:
            out.append(Statement("SELECT 1 / 0", ()))
        return out


async def test_a_failing_batch_leaves_no_rows_and_no_position(pool: asyncpg.Pool) -> None:
    await _apply(pool, [Ledger("a")], _envelopes(1, 3))
    with pytest.raises(asyncpg.DivisionByZeroError):
        await _apply(pool, [Failing("a")], _envelopes(4, 10))
    assert await _ledger(pool, "a") == [1, 2, 3]
    assert await pool.fetchval("SELECT position FROM projection_positions WHERE name = 'a'") == 3
    await _apply(pool, [Ledger("a")], _envelopes(1, 10))
    assert await _ledger(pool, "a") == list(range(1, 11))
