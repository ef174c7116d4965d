"""Verifying read models: rebuild them into a scratch schema and compare with the live
tables, row by row.

Everything happens in one REPEATABLE READ transaction that is rolled back at the
end, so the scratch schema never becomes visible and the live tables and their
positions are read from the same snapshot while the projector keeps running.
Each projection is rebuilt up to its own snapshot position.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from uuid import uuid4

import asyncpg
from nats.aio.client import Client

from attune.readmodel.db import Conn, migration_files
from attune.readmodel.projection import Projection
from attune.readmodel.projector import ensure_positions, execute, fold
from attune.readmodel.rebuild import Progress
from attune.readmodel.stream_range import BATCH, read_range

Row = dict[str, Any]


@dataclass(frozen=True)
class TableDiff:
    """Rows of one table that differ, keyed by primary key. `live_only` /
    `rebuilt_only` count rows present (or different) on one side only; the samples
    are limited, the counts are exact."""

    table: str
    key: list[str]
    live_only: int
    rebuilt_only: int
    missing: list[Row] = field(default_factory=list)   # rebuilt has it, live lacks the key
    extra: list[Row] = field(default_factory=list)     # live has it, rebuilt lacks the key
    changed: list[tuple[Row, Row]] = field(default_factory=list)  # (live, rebuilt)


@dataclass(frozen=True)
class VerifyReport:
    positions: dict[str, int]
    events: int
    rows: dict[str, int]            # live rows per table
    diffs: list[TableDiff]
    seconds: float

    @property
    def equal(self) -> bool:
        return not self.diffs


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


async def create_tables(conn: Conn, schema: str) -> None:
    """Inside the caller's transaction: create `schema` holding every read-model table
    (the SQL in projections/ uses unqualified names) and make it the search path."""
    await conn.execute(f"CREATE SCHEMA {_ident(schema)}")
    await conn.execute(f"SET LOCAL search_path TO {_ident(schema)}")
    for path in migration_files():
        await conn.execute(path.read_text())


async def _columns(conn: Conn, schema: str, table: str) -> list[str]:
    rows = await conn.fetch(
        "SELECT column_name FROM information_schema.columns "
        "WHERE table_schema = $1 AND table_name = $2 ORDER BY ordinal_position", schema, table)
    return [r["column_name"] for r in rows]


async def _primary_key(conn: Conn, schema: str, table: str) -> list[str]:
    rows = await conn.fetch(
        "SELECT a.attname FROM pg_index i "
        "JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey) "
        "WHERE i.indrelid = $1::regclass AND i.indisprimary "
        "ORDER BY array_position(i.indkey::int2[], a.attnum)",
        f"{_ident(schema)}.{_ident(table)}")
    return [r["attname"] for r in rows]


async def compare_table(conn: Conn, table: str, *, live: str, rebuilt: str,
                        limit: int) -> TableDiff | None:
    """Both ways with EXCEPT (jsonb, arrays and timestamps all compare by value)."""
    columns = await _columns(conn, rebuilt, table)
    key = await _primary_key(conn, rebuilt, table) or columns
    cols = ", ".join(_ident(c) for c in columns)
    order = ", ".join(_ident(c) for c in key)
    a, b = f"{_ident(live)}.{_ident(table)}", f"{_ident(rebuilt)}.{_ident(table)}"
    live_only_sql = f"SELECT {cols} FROM {a} EXCEPT SELECT {cols} FROM {b}"
    rebuilt_only_sql = f"SELECT {cols} FROM {b} EXCEPT SELECT {cols} FROM {a}"
    live_only = int(await conn.fetchval(f"SELECT count(*) FROM ({live_only_sql}) d"))
    rebuilt_only = int(await conn.fetchval(f"SELECT count(*) FROM ({rebuilt_only_sql}) d"))
    if live_only == 0 and rebuilt_only == 0:
        return None
    live_rows = [dict(r) for r in await conn.fetch(
        f"{live_only_sql} ORDER BY {order} LIMIT {int(limit)}")]
    rebuilt_rows = [dict(r) for r in await conn.fetch(
        f"{rebuilt_only_sql} ORDER BY {order} LIMIT {int(limit)}")]

    def pk(row: Row) -> tuple[Any, ...]:
        return tuple(row[c] for c in key)

    by_key = {pk(r): r for r in rebuilt_rows}
    live_keys = {pk(r) for r in live_rows}
    return TableDiff(
        table=table, key=key, live_only=live_only, rebuilt_only=rebuilt_only,
        missing=[r for r in rebuilt_rows if pk(r) not in live_keys],
        extra=[r for r in live_rows if pk(r) not in by_key],
        changed=[(r, by_key[pk(r)]) for r in live_rows if pk(r) in by_key])


async def verify(nc: Client, pool: asyncpg.Pool, projections: Sequence[Projection], *,
                 limit: int = 20, batch: int = BATCH, progress: Progress | None = None
                 ) -> VerifyReport:
    started = time.monotonic()
    events = 0
    async with pool.acquire() as conn:
        await ensure_positions(conn, projections)
        tx = conn.transaction(isolation="repeatable_read")
        await tx.start()
        try:
            live = str(await conn.fetchval("SELECT current_schema()"))
            rows = await conn.fetch(
                "SELECT name, position FROM projection_positions WHERE name = ANY($1::text[])",
                [p.name for p in projections])
            positions = {r["name"]: int(r["position"]) for r in rows}
            scratch = f"attune_verify_{uuid4().hex[:12]}"
            await create_tables(conn, scratch)
            target = max(positions.values(), default=0)
            async for envelopes in read_range(nc, last=target, batch=batch):
                await execute(conn, fold(projections, envelopes, upto=positions))
                events += len(envelopes)
                if progress is not None:
                    progress(envelopes[-1].seq, target)
            diffs: list[TableDiff] = []
            counts: dict[str, int] = {}
            for projection in projections:
                for table in projection.tables:
                    counts[table] = int(await conn.fetchval(
                        f"SELECT count(*) FROM {_ident(live)}.{_ident(table)}"))
                    diff = await compare_table(conn, table, live=live, rebuilt=scratch,
                                               limit=limit)
                    if diff is not None:
                        diffs.append(diff)
        finally:
            await tx.rollback()  # the scratch schema disappears with it
    return VerifyReport(positions=positions, events=events, rows=counts, diffs=diffs,
                        seconds=time.monotonic() - started)
