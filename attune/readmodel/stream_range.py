"""Reading a closed range of a stream in batches, for rebuilds and verification.

An ephemeral pull consumer without acks (the reader keeps its own place; nothing
on the server needs to remember it), in memory, gone shortly after the reader
stops. The range ends at a sequence fixed by the caller, so events appended
while a rebuild runs are left to the live projector.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from nats.aio.client import Client
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from nats.js.errors import FetchTimeoutError

from attune.eventstore.envelope import Envelope, decode_message
from attune.eventstore.store import EVENTS_STREAM

BATCH = 500


async def last_sequence(nc: Client, stream: str = EVENTS_STREAM) -> int:
    info = await nc.jetstream().stream_info(stream)
    return int(info.state.last_seq)


async def read_range(nc: Client, *, last: int, first: int = 1, stream: str = EVENTS_STREAM,
                     batch: int = BATCH, fetch_timeout: float = 1.0
                     ) -> AsyncIterator[list[Envelope]]:
    """Yield the envelopes with `first <= seq <= last` in stream order, `batch` at a
    time. Stops early when the stream holds nothing more (deleted tail)."""
    if last < first:
        return
    js = nc.jetstream()
    config = ConsumerConfig(
        deliver_policy=DeliverPolicy.BY_START_SEQUENCE, opt_start_seq=first,
        ack_policy=AckPolicy.NONE, inactive_threshold=30.0, max_waiting=1,
        mem_storage=True)
    sub = await js.pull_subscribe("attune.>", stream=stream, config=config)
    try:
        while True:
            try:
                msgs = await sub.fetch(batch, timeout=fetch_timeout)
            except (TimeoutError, FetchTimeoutError):
                info = await sub.consumer_info()
                if info.num_pending == 0:
                    return  # nothing left between here and `last`
                continue
            out: list[Envelope] = []
            done = False
            for m in msgs:
                seq = m.metadata.sequence.stream
                if seq > last:
                    done = True
                    break
                out.append(decode_message(seq, m.subject, m.data, m.headers))
                if seq == last or m.metadata.num_pending == 0:
                    done = True
                    break
            if out:
                yield out
            if done:
                return
    finally:
        with contextlib.suppress(Exception):
            await sub.unsubscribe()
