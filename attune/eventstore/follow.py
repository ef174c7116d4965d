"""Following the event stream from a position: an ephemeral, in-memory consumer (no
acks) on some subjects, starting at a stream sequence, read in batches until `stop`.
What the rule book (executor) and the rule feed (sensor) use to stay current after
loading a read-model snapshot at that position. The consumer goes away with the
follower (or 30 s after its last fetch, if the follower died); a follower that fails
(NATS restarting) is created again by its caller from the position it reached.

    async with aclosing(batches(nc, ["attune.rule.>"], position + 1, stop)) as found:
        async for msgs in found:
            ...
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator, Sequence

from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy

from attune.eventstore.pull import PullStream
from attune.eventstore.store import EVENTS_STREAM


async def batches(nc: Client, subjects: Sequence[str], start: int, stop: asyncio.Event, *,
                  size: int = 256, wait: float = 0.5, stream: str = EVENTS_STREAM
                  ) -> AsyncGenerator[list[Msg], None]:
    """Non-empty batches of the messages on `subjects` from stream sequence `start` on,
    in order, until `stop` is set (checked at least every `wait` seconds)."""
    config = ConsumerConfig(
        deliver_policy=DeliverPolicy.BY_START_SEQUENCE, opt_start_seq=start,
        ack_policy=AckPolicy.NONE, filter_subjects=list(subjects), inactive_threshold=30.0,
        mem_storage=True)
    js = nc.jetstream()
    consumer = await js.add_consumer(stream, config)
    assert consumer.name is not None
    # no acks: a delivery lost in transit would be a change never seen, so `take` raises
    # (DeliveriesLostError) and the caller starts over from the position it reached
    pull = PullStream(nc, stream=stream, consumer=consumer.name, gapless=True)
    await pull.start()
    try:
        while not stop.is_set():
            msgs = await pull.take(size, timeout=wait, stop=stop)
            if msgs:
                yield msgs
    finally:
        with contextlib.suppress(Exception):
            await pull.stop()
        with contextlib.suppress(Exception):
            await js.delete_consumer(stream, consumer.name)
