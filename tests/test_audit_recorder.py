"""The request audit path on real NATS and PostgreSQL, without the API: records are
published in batches of at most BATCH per ATTUNE_AUDIT message, and the recorder folds
every record exactly once (a restarted recorder skips what it applied)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from attune.app.audit import BATCH, STREAM, AuditRecorder, RequestAuditor
from attune.app.context import Context
from attune.domain.audit import RequestRecord
from tests.conftest import eventually


def record(n: int) -> RequestRecord:
    return RequestRecord(at=datetime.now(UTC), request_id=f"req-{n}", method="GET",
                         route="/api/v1/rules/{ref}", status=200 if n % 7 else 403,
                         outcome="success" if n % 7 else "denied", duration_ms=1.5,
                         actor="ann", actor_id=3, token_type="access", resource="rules",
                         action="read", resource_ref=f"core.r{n}")


async def run_recorder(ctx: Context, until_rows: int) -> None:
    stop = asyncio.Event()
    task = asyncio.create_task(AuditRecorder(ctx.nc, ctx.pool).run(stop))

    async def rows() -> bool:
        return int(await ctx.pool.fetchval("SELECT count(*) FROM audit_requests")) >= \
            until_rows
    try:
        await eventually(rows)
    finally:
        stop.set()
        await asyncio.wait_for(task, 10)


async def test_records_are_batched_and_folded_exactly_once(ctx: Context) -> None:
    auditor = RequestAuditor(ctx)
    total = 2 * BATCH + 37
    for n in range(total):
        auditor.record(record(n))
    await auditor.flush()
    assert auditor.pending == []
    info = await ctx.store.js.stream_info(STREAM)
    assert info.state.messages == 3  # 500 + 500 + 37

    await run_recorder(ctx, total)
    # a second recorder starts from the stored position: nothing is applied twice
    for n in range(total, total + 5):
        auditor.record(record(n))
    await auditor.flush()
    await run_recorder(ctx, total + 5)
    rows = await ctx.pool.fetch("SELECT id, request_id, outcome FROM audit_requests")
    assert len(rows) == total + 5
    assert len({r["id"] for r in rows}) == total + 5
    assert {r["request_id"] for r in rows} == {f"req-{n}" for n in range(total + 5)}
    denied = await ctx.pool.fetchval(
        "SELECT count(*) FROM audit_events WHERE outcome = 'denied' AND kind = 'request'")
    assert denied == len([n for n in range(total + 5) if n % 7 == 0])
