"""Triggers from their read model, each with its webhook (the key only for callers
who may manage triggers)."""

from __future__ import annotations

import asyncpg

from attune.api.models import TriggerOut, WebhookOut, WebhookSecurityOut
from attune.api.queries.search import Where
from attune.app.webhooks import path_of
from attune.domain.trigger import TriggerDef, WebhookSecurity
from attune.errors import NotFoundError
from attune.security.crypto import Sealer

_SELECT = """
SELECT t.definition, t.source, t.created, t.updated, w.enabled AS webhook_enabled, w.key,
       w.security
FROM triggers t LEFT JOIN webhooks w ON w.trigger_ref = t.ref"""
SEARCHED = ("t.ref", "t.label", "t.description", "t.pack_ref")


def _webhook(row: asyncpg.Record, sealer: Sealer | None) -> WebhookOut:
    security = WebhookSecurity.model_validate(row["security"] or {})
    key = None
    if sealer is not None and row["key"] is not None:
        key = str(sealer.open(row["key"]))
    return WebhookOut(
        enabled=bool(row["webhook_enabled"]), key=key, url=path_of(key) if key else None,
        security=WebhookSecurityOut(
            hmac_algorithm=security.hmac_algorithm,
            hmac_secret_set=security.hmac_secret is not None,
            rate_limit_per_minute=security.rate_limit_per_minute,
            max_payload_bytes=security.max_payload_bytes,
            ip_allowlist=security.ip_allowlist))


def _trigger(row: asyncpg.Record, sealer: Sealer | None) -> TriggerOut:
    trigger = TriggerDef.model_validate(row["definition"])
    return TriggerOut(**trigger.model_dump(), source=row["source"],
                      webhook=_webhook(row, sealer), created=row["created"],
                      updated=row["updated"])


def _where(*, q: str | None, pack_ref: str | None, enabled: bool | None) -> Where:
    where = Where()
    where.words(SEARCHED, q)
    where.equals("t.pack_ref", pack_ref)
    where.equals("t.enabled", enabled)
    return where


async def list_page(pool: asyncpg.Pool, sealer: Sealer | None, *, q: str | None = None,
                    pack_ref: str | None = None, enabled: bool | None = None,
                    limit: int | None, offset: int) -> list[TriggerOut]:
    where = _where(q=q, pack_ref=pack_ref, enabled=enabled)
    page = where.page(limit, offset)
    rows = await pool.fetch(f"{_SELECT} {where.sql} ORDER BY t.ref {page}", *where.args)
    return [_trigger(r, sealer) for r in rows]


async def count(pool: asyncpg.Pool, *, q: str | None = None, pack_ref: str | None = None,
                enabled: bool | None = None) -> int:
    where = _where(q=q, pack_ref=pack_ref, enabled=enabled)
    return int(await pool.fetchval(f"SELECT count(*) FROM triggers t {where.sql}",
                                   *where.args))


async def find(pool: asyncpg.Pool, sealer: Sealer | None, ref: str) -> TriggerOut | None:
    row = await pool.fetchrow(f"{_SELECT} WHERE t.ref = $1", ref)
    return _trigger(row, sealer) if row else None


async def get(pool: asyncpg.Pool, sealer: Sealer | None, ref: str) -> TriggerOut:
    found = await find(pool, sealer, ref)
    if found is None:
        raise NotFoundError(f"trigger {ref!r} not found: GET /api/v1/triggers lists the "
                            "triggers (refs are <pack>.<name>, e.g. core.webhook)")
    return found
