"""Connection pool and the versioned read-model schema from `projections/*.sql`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import asyncpg
import orjson
from asyncpg.pool import PoolConnectionProxy

import attune.log as log
from attune.errors import UnavailableError
from attune.paths import projections_dir

_log = log.get("db")

Pool = asyncpg.Pool
#: A connection of its own or one borrowed from the pool: both work everywhere here.
Conn = asyncpg.Connection | PoolConnectionProxy


async def _init_connection(conn: asyncpg.Connection) -> None:
    for kind in ("json", "jsonb"):
        await conn.set_type_codec(kind, schema="pg_catalog", encoder=_dumps, decoder=orjson.loads)


#: Prepared statements kept per connection: more than the projections and queries use
#: together, so none is parsed and planned again (asyncpg's default keeps 100).
STATEMENTS = 2000


async def _reset_connection(conn: asyncpg.Connection) -> None:
    """What a connection needs before it goes back to the pool. asyncpg's default reset
    costs a round trip per release (unlock, close cursors, unlisten, reset settings);
    here nothing outlives its transaction (advisory locks and settings are transaction
    scoped, the one listener removes itself), so only an open transaction is undone."""
    if conn.is_in_transaction():
        await conn.execute("ROLLBACK")


def _dumps(value: Any) -> str:
    return orjson.dumps(value).decode()


async def create_pool(url: str, *, min_size: int = 2, max_size: int = 10) -> Pool:
    try:
        pool = await asyncpg.create_pool(url, min_size=min_size, max_size=max_size,
                                         init=_init_connection, reset=_reset_connection,
                                         command_timeout=60, statement_cache_size=STATEMENTS)
    except (OSError, asyncpg.PostgresError) as exc:
        raise UnavailableError(f"cannot connect to PostgreSQL: {exc}") from exc
    assert pool is not None
    return pool


def migration_files(directory: Path | None = None) -> list[Path]:
    return sorted((directory or projections_dir()).glob("[0-9][0-9][0-9]_*.sql"))


BOOKKEEPING = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    version  text PRIMARY KEY,
    applied  timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS projection_positions (
    name     text PRIMARY KEY,
    position bigint NOT NULL DEFAULT 0
);
"""


async def migrate(conn: Conn, *, schema: str | None = None) -> list[str]:
    """Apply the read-model SQL files not yet applied (all of them into `schema` when
    given, for scratch rebuilds). Safe with several processes starting at once."""
    applied: list[str] = []
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock(7311001)")
        if schema is not None:
            await conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
            await conn.execute(f'SET LOCAL search_path TO "{schema}"')
        await conn.execute(BOOKKEEPING)
        done = {r["version"] for r in await conn.fetch("SELECT version FROM schema_migrations")}
        for path in migration_files():
            if path.stem in done:
                continue
            await conn.execute(path.read_text())
            await conn.execute("INSERT INTO schema_migrations (version) VALUES ($1)", path.stem)
            applied.append(path.stem)
    for version in applied:
        _log.info("projections.migrated", version=version, schema=schema or "public")
    return applied
