"""The scheduler takes requests in batches; a redelivered batch schedules nothing twice."""

from __future__ import annotations

import pytest
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy

from attune.app import executions
from attune.domain import execution as ex
from attune.eventstore import store
from attune.eventstore.envelope import Meta
from attune.eventstore.store import EVENTS_STREAM
from attune.executor.service import WORK_STREAM, Executor
from attune.platform import seed
from tests.conftest import projected, start_platform, stop_platform


@pytest.mark.parametrize("pipelined", [0, store.PIPELINED], ids=["atomic", "pipelined"])
async def test_redelivered_requests_schedule_once(ctx, pipelined: int,  # type: ignore[no-untyped-def]
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """Both ways a batch is appended (atomic batches under load, one by one when few)."""
    monkeypatch.setattr(store, "PIPELINED", pipelined)
    running = await start_platform(ctx, ("projector",))
    try:
        await seed(ctx, admin_password=None)
        await projected(ctx, await ctx.store.last_sequence())
    finally:
        await stop_platform(running)
    first = await executions.request(ctx, "core.noop", {}, meta=Meta.new())
    second = await executions.request(ctx, "core.noop", {}, meta=Meta.new())
    executor = Executor(ctx)
    await executor.rulebook.load()
    sub = await ctx.nc.jetstream().pull_subscribe(
        "attune.execution.new.requested", stream=EVENTS_STREAM,
        config=ConsumerConfig(deliver_policy=DeliverPolicy.ALL, ack_policy=AckPolicy.NONE))
    one, two = await sub.fetch(2, timeout=5)
    # as after crashes: the first alone, then again with a new one, and again
    await executor.on_requests([one])
    for _ in range(2):
        await executor.on_requests([one, two])
    for execution_id in (first, second):
        state, _, envelopes = await executions.load(ctx, execution_id)
        assert state.status is ex.Status.SCHEDULED
        assert [e.event.type for e in envelopes] == ["execution.requested",
                                                     "execution.scheduled"]
    info = await ctx.nc.jetstream().stream_info(WORK_STREAM)
    assert info.state.messages == 2
