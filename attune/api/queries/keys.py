"""Keys from their read model. Expired keys are absent; values stay sealed here."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

from attune.api.queries.search import Where, like_escape
from attune.domain.key import parse_ref
from attune.domain.permission import Target

_COLUMNS = ("ref, owner_type, owner, name, encrypted, value, expires_at, created, updated")


@dataclass(frozen=True)
class KeyRow:
    ref: str
    owner_type: str
    owner: str
    name: str
    encrypted: bool
    value: Any
    expires_at: datetime | None
    created: datetime
    updated: datetime

    @property
    def target(self) -> Target:
        return key_target(self.ref)


def key_target(ref: str) -> Target:
    """What RBAC constraints see of a key: its ref, its pack, and its owner when an
    identity owns it (`owner: self`)."""
    parsed = parse_ref(ref)
    return Target(ref=ref, pack_ref=parsed.pack_ref,
                  owner=parsed.owner if parsed.owner_type == "identity" else None)


def _row(r: asyncpg.Record) -> KeyRow:
    return KeyRow(**dict(r))


@dataclass(frozen=True)
class Filters:
    owner_type: str | None = None
    owner: str | None = None
    q: str | None = None

    def where(self, now: datetime) -> Where:
        where = Where()
        where.add("(expires_at IS NULL OR expires_at > {})", now)
        where.equals("owner_type", self.owner_type)
        where.equals("owner", self.owner)
        for word in (self.q or "").split():
            where.add("lower(ref) LIKE {}", "%" + like_escape(word.lower()) + "%")
        return where


async def scan(pool: asyncpg.Pool, filters: Filters, now: datetime, *, after: str,
               limit: int) -> list[KeyRow]:
    """Up to `limit` keys with refs after `after`, in ref order (lists page through
    these, keeping only those the caller may read)."""
    where = filters.where(now)
    where.add("ref > {}", after)
    where.args.append(limit)
    rows = await pool.fetch(f"SELECT {_COLUMNS} FROM keys {where.sql} ORDER BY ref "
                            f"LIMIT ${len(where.args)}", *where.args)
    return [_row(r) for r in rows]


async def find(pool: asyncpg.Pool, ref: str, now: datetime) -> KeyRow | None:
    row = await pool.fetchrow(f"SELECT {_COLUMNS} FROM keys WHERE ref = $1 AND "
                              "(expires_at IS NULL OR expires_at > $2)", ref, now)
    return _row(row) if row else None
