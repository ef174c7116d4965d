"""Recording the audit trail, cheaply for the request path.

`RequestAuditor` takes one `RequestRecord` per API request into a list in memory and
publishes them in batches — one ATTUNE_AUDIT message per batch, every `INTERVAL`
seconds or as soon as `BATCH` records wait — so a request pays an append to a list.
If NATS is away the records wait (at most `MAX_PENDING`, the oldest dropped first and
counted in the log). `AuditRecorder` folds ATTUNE_AUDIT into `audit_requests`, like
the projector folds ATTUNE_EVENTS (its position in `audit_stream_position`, committed
with the rows: positions of ATTUNE_EVENTS stay alone in `projection_positions`).
Domain changes need no recording: `audit_changes` is a projection of ATTUNE_EVENTS
(`attune.readmodel.projections.audit`).

`history` reads one entity's events straight from the event stream: every change to a
rule, action, key... with who made it and when, and never a value.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import uuid4

import asyncpg
from nats.aio.client import Client
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from nats.js.errors import FetchTimeoutError

import attune.log as log
from attune.app.context import Context
from attune.domain.audit import RequestRecord, RequestsAudited
from attune.errors import NotFoundError
from attune.eventstore.envelope import Envelope, Meta, decode_message, encode
from attune.readmodel.projections.audit import BATCH_SLOTS, AuditRequestsProjection
from attune.readmodel.projector import execute

STREAM = "ATTUNE_AUDIT"
SUBJECT = "attune.audit.api.requests"
INTERVAL = 0.25
BATCH = 500
MAX_PENDING = 50_000
#: request records are kept as long as ATTUNE_AUDIT keeps them (its max_age)
RETENTION = timedelta(days=90)
PRUNE_EVERY_SECONDS = 3600.0
_log = log.get("audit")
assert BATCH <= BATCH_SLOTS


class RequestAuditor:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.pending: list[RequestRecord] = []
        self.dropped = 0
        self._full = asyncio.Event()

    def record(self, record: RequestRecord) -> None:
        self.pending.append(record)
        if len(self.pending) > MAX_PENDING:
            del self.pending[0]
            self.dropped += 1
        if len(self.pending) >= BATCH:
            self._full.set()

    async def flush(self) -> None:
        while self.pending:
            batch = self.pending[:BATCH]
            event = RequestsAudited(at=self.ctx.clock(), records=batch)
            data, headers = encode(event, msg_id=uuid4().hex, meta=Meta(uuid4().hex))
            await self.ctx.store.js.publish(SUBJECT, data, headers=headers, stream=STREAM)
            del self.pending[:len(batch)]
        if self.dropped:
            _log.warning("audit.records_dropped", count=self.dropped)
            self.dropped = 0

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._full.wait(), INTERVAL)
            self._full.clear()
            try:
                await self.flush()
            except Exception as exc:  # NATS away: keep the records, try again
                _log.warning("audit.flush_failed", error=repr(exc), pending=len(self.pending))
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), 1.0)
        with contextlib.suppress(Exception):
            await self.flush()


class AuditRecorder:
    """Folds ATTUNE_AUDIT into `audit_requests` (a projection of another stream)."""

    def __init__(self, nc: Client, pool: asyncpg.Pool) -> None:
        self.nc = nc
        self.pool = pool
        self.projection = AuditRequestsProjection()
        self._pruned_at = 0.0

    async def prune(self) -> None:
        """Drop request records older than the retention, at most once an hour."""
        now = asyncio.get_running_loop().time()
        if self._pruned_at and now - self._pruned_at < PRUNE_EVERY_SECONDS:
            return
        self._pruned_at = now
        await self.pool.execute("DELETE FROM audit_requests WHERE at < now() - $1::interval",
                                RETENTION)

    async def run(self, stop: asyncio.Event) -> None:
        backoff = 0.2
        while not stop.is_set():
            try:
                await self._consume(stop)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                _log.warning("audit.recorder_restart", error=repr(exc))
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), backoff)
                backoff = min(backoff * 2, 5.0)

    async def position(self) -> int:
        name = self.projection.name
        await self.pool.execute("INSERT INTO audit_stream_position (name) VALUES ($1) "
                                "ON CONFLICT DO NOTHING", name)
        return int(await self.pool.fetchval(
            "SELECT position FROM audit_stream_position WHERE name = $1", name) or 0)

    async def apply(self, envelopes: list[Envelope]) -> None:
        """Rows and position in one transaction; what is at or below it is skipped."""
        async with self.pool.acquire() as conn, conn.transaction():
            position = await conn.fetchval(
                "SELECT position FROM audit_stream_position WHERE name = $1 FOR UPDATE",
                self.projection.name)
            fresh = [e for e in envelopes if e.seq > position]
            if not fresh:
                return
            await execute(conn, [s for e in fresh for s in self.projection.apply(e)])
            await conn.execute("UPDATE audit_stream_position SET position = $2 "
                               "WHERE name = $1", self.projection.name, fresh[-1].seq)

    async def _consume(self, stop: asyncio.Event) -> None:
        position = await self.position()
        config = ConsumerConfig(
            deliver_policy=DeliverPolicy.BY_START_SEQUENCE, opt_start_seq=position + 1,
            ack_policy=AckPolicy.NONE, inactive_threshold=30.0, max_waiting=1,
            mem_storage=True)
        sub = await self.nc.jetstream().pull_subscribe("attune.audit.>", stream=STREAM,
                                                       config=config)
        try:
            while not stop.is_set():
                await self.prune()
                try:
                    msgs = await sub.fetch(50, timeout=0.5)
                except (TimeoutError, FetchTimeoutError):
                    continue
                envelopes = [decode_message(m.metadata.sequence.stream, m.subject, m.data,
                                            m.headers) for m in msgs]
                envelopes = [e for e in envelopes if e.seq > position]
                if not envelopes:
                    continue
                await self.apply(envelopes)
                position = envelopes[-1].seq
        finally:
            with contextlib.suppress(Exception):
                await sub.unsubscribe()


# -- history ------------------------------------------------------------------------------

#: entity names the history command takes -> aggregate (subject token)
ENTITIES = {"rule": "rule", "action": "action", "key": "key", "trigger": "trigger",
            "sensor": "sensor", "policy": "policy", "runtime": "runtime", "pack": "pack",
            "identity": "identity", "permission-set": "permission_set",
            "artifact": "artifact"}
#: event fields never shown in a history (values of keys, hashes of tokens, ...)
HIDDEN = frozenset({"value", "token_sha256", "password_hash", "data", "entry", "secret"})


@dataclass(frozen=True)
class Change:
    seq: int
    at: datetime
    event_type: str
    actor: str | None
    request_id: str | None
    #: what changed: names of definition fields that differ from the previous event's
    #: (a definition), or the event's own fields, values of secrets left out
    summary: dict[str, Any]


def _fields(payload: dict[str, Any]) -> dict[str, Any]:
    return {k: ("(hidden)" if k in HIDDEN else v) for k, v in payload.items()
            if k not in ("type", "schema_version", "at")}


async def history(ctx: Context, entity: str, ref: str) -> list[Change]:
    aggregate = ENTITIES.get(entity)
    if aggregate is None:
        raise NotFoundError(f"no history for {entity!r}: one of {', '.join(ENTITIES)}")
    envelopes, _ = await ctx.store.load(aggregate, ref)
    if not envelopes:
        raise NotFoundError(f"{entity} {ref!r} has no history: nothing was ever recorded "
                            "under that ref")
    changes: list[Change] = []
    previous: dict[str, Any] | None = None
    for env in envelopes:
        payload = env.event.model_dump(mode="json")
        definition = payload.get("definition") if isinstance(payload.get("definition"),
                                                             dict) else None
        if definition is not None:
            summary: dict[str, Any] = {"source": payload.get("source")}
            if previous is None or payload.get("created"):
                summary["created"] = True
            else:
                summary["changed"] = sorted(k for k in {*definition, *previous}
                                            if definition.get(k) != previous.get(k))
            previous = definition
        else:
            summary = _fields(payload)
        changes.append(Change(env.seq, env.event.at, env.event.type, env.meta.actor,
                              env.meta.correlation_id or None, summary))
    return changes
