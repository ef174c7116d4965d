"""Raw JetStream on this machine, the yardstick for the pipeline: pipelined publishes
with acks, then a durable pull consumer with explicit acks, on a scratch stream
shaped like ATTUNE_EVENTS (file store, deduplication window, one subject per
message's aggregate, headers like an envelope's, ~300-byte bodies)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from uuid import uuid4

from nats.aio.client import Client
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, StorageType, StreamConfig
from nats.js.errors import FetchTimeoutError

from attune.bench.progress import Progress
from attune.eventstore.envelope import CORRELATION, MSG_ID, SCHEMA, TYPE

PAYLOAD_BYTES = 300
#: publishes awaiting their ack at once (nats-py's default window)
MAX_PENDING = 4000
FETCH = 500


@dataclass(frozen=True)
class RawResult:
    messages: int
    payload_bytes: int
    publish_seconds: float
    consume_seconds: float

    @property
    def publish_per_s(self) -> float:
        return self.messages / self.publish_seconds

    @property
    def consume_per_s(self) -> float:
        return self.messages / self.consume_seconds


def _payload(i: int) -> bytes:
    head = f'{{"type":"bench.event","schema_version":1,"n":{i},"body":"'.encode()
    return head + b"x" * (PAYLOAD_BYTES - len(head) - 2) + b'"}'


async def measure(nc: Client, messages: int, progress: Progress) -> RawResult:
    run = uuid4().hex[:10]
    stream, prefix = f"BENCH_{run}", f"bench.{run}"
    js = nc.jetstream(publish_async_max_pending=MAX_PENDING)
    await js.add_stream(StreamConfig(name=stream, subjects=[f"{prefix}.>"],
                                     storage=StorageType.FILE, duplicate_window=7200.0,
                                     allow_direct=True))
    try:
        publish = await _publish(js, prefix, messages, progress)
        consume = await _consume(nc, stream, messages, progress)
    finally:
        await js.delete_stream(stream)
    return RawResult(messages, PAYLOAD_BYTES, publish, consume)


async def _publish(js: JetStreamContext, prefix: str, messages: int, progress: Progress
                   ) -> float:
    progress.phase("raw JetStream publish", messages)
    futures = []
    started = time.perf_counter()
    for i in range(messages):
        headers = {MSG_ID: f"{prefix}:{i}", TYPE: "bench.event", SCHEMA: "1",
                   CORRELATION: prefix}
        futures.append(await js.publish_async(f"{prefix}.{i}.event", _payload(i),
                                              headers=headers))
        if i % 1000 == 999:
            progress.update(i + 1 - js.publish_async_pending())
    await js.publish_async_completed()
    seconds = time.perf_counter() - started
    failed = [f.exception() for f in futures if f.exception() is not None]
    if failed:
        raise RuntimeError(f"{len(failed)} publishes failed, first: {failed[0]!r}")
    progress.update(messages)
    return seconds


async def _consume(nc: Client, stream: str, messages: int, progress: Progress) -> float:
    js = nc.jetstream()
    await js.add_consumer(stream, ConsumerConfig(durable_name="bench",
                                                 ack_policy=AckPolicy.EXPLICIT,
                                                 max_ack_pending=FETCH * 4))
    sub = await js.pull_subscribe_bind("bench", stream=stream)
    progress.phase("raw JetStream consume", messages)
    received = 0
    started = time.perf_counter()
    try:
        while received < messages:
            try:
                batch = await sub.fetch(FETCH, timeout=2.0)
            except (TimeoutError, FetchTimeoutError):
                raise RuntimeError(f"consumer stalled after {received} of {messages}"
                                   ) from None
            for msg in batch:
                await msg.ack()
            received += len(batch)
            progress.update(received)
        await nc.flush()  # the last acks reached the server
    finally:
        await sub.unsubscribe()
    return time.perf_counter() - started
