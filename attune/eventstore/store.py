"""Append and read aggregate events on JetStream (DESIGN invariant 3).

The version of an aggregate is the stream sequence of its last event on
`attune.<aggregate>.<key>.>`; an append states the version it decided on and
JetStream rejects it (err 10071) when another append got there first.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from uuid import uuid4

import orjson
from nats.aio.client import Client
from nats.js import JetStreamContext
from nats.js.api import Header
from nats.js.errors import APIError, NotFoundError

from attune.domain.events import Event
from attune.errors import ConcurrencyError, DuplicateAppendError, PayloadTooLargeError
from attune.errors import NotFoundError as AttuneNotFound
from attune.eventstore import subjects
from attune.eventstore.envelope import Envelope, Meta, decode_message, encode

EVENTS_STREAM = "ATTUNE_EVENTS"
WRONG_LAST_SEQUENCE = 10071
MESSAGE_TOO_LARGE = 10054
DUPLICATE_IN_BATCH = 10201
EXPECTED_SUBJECT = "Nats-Expected-Last-Subject-Sequence-Subject"


BATCH_LIMIT = 1000  # JetStream's cap on one atomic batch
CHUNK = 500  # appends per atomic batch in `append_many` (bounded bytes per batch)
#: Up to this many, `append_many` publishes one by one, concurrently: an atomic batch's
#: commit takes ~13 ms on JetStream (measured; a single acked publish ~0.4 ms), which
#: only pays off when it carries many appends.
PIPELINED = 16


@dataclass(frozen=True)
class Append:
    """One event of an atomic batch (see `EventStore.append_batch`). `key` None creates
    an aggregate (its id is the event's sequence, as with `EventStore.create`); `meta`
    overrides the batch's."""

    key: str | int | None
    event: Event
    expected_version: int | None
    msg_id: str
    meta: Meta | None = None


class EventStore:
    def __init__(self, nc: Client, *, stream: str = EVENTS_STREAM) -> None:
        self.nc = nc
        self.js: JetStreamContext = nc.jetstream()
        self.stream = stream

    async def create(self, event: Event, *, msg_id: str, meta: Meta) -> int:
        """Append the first event of an aggregate whose id is this append's sequence.
        A repeated `msg_id` (within the duplicate window) returns the original id."""
        data, headers = encode(event, msg_id=msg_id, meta=meta)
        try:
            ack = await self.js.publish(subjects.creation_subject(event.aggregate, event.name),
                                        data, headers=headers, stream=self.stream)
        except APIError as exc:
            raise _translate(exc, event) from exc
        return int(ack.seq)

    async def append(self, key: str | int, event: Event, *, expected_version: int | None,
                     msg_id: str, meta: Meta) -> int:
        """Append `event` to aggregate `key`; returns its stream sequence.

        `expected_version` is the aggregate's version the decision was based on
        (0 = no events yet on its subject); None appends unconditionally.
        """
        data, headers = encode(event, msg_id=msg_id, meta=meta)
        if expected_version is not None:
            headers[Header.EXPECTED_LAST_SUBJECT_SEQUENCE] = str(expected_version)
            headers[EXPECTED_SUBJECT] = subjects.aggregate_filter(event.aggregate, key)
        subject = subjects.aggregate_subject(event.aggregate, key, event.name)
        try:
            ack = await self.js.publish(subject, data, headers=headers, stream=self.stream)
        except APIError as exc:
            if exc.err_code == WRONG_LAST_SEQUENCE:
                raise ConcurrencyError(
                    f"{event.aggregate} {key} changed since version {expected_version}"
                ) from exc
            raise _translate(exc, event) from exc
        return int(ack.seq)

    async def append_batch(self, appends: list[Append], *, meta: Meta) -> int:
        """Append several events (of one or many aggregates) atomically: all are stored,
        in order, or none is (NATS >= 2.12 atomic batch). Each states its own expected
        version; one conflict rejects the whole batch with ConcurrencyError. Returns the
        sequence of the last event: the batch is stored contiguously, so the i-th of n
        appends (from 0) got `last - n + 1 + i`.

        A `msg_id` already recorded (a redelivery) rejects the whole batch with
        DuplicateAppendError: JetStream does not deduplicate inside atomic batches, so
        the caller appends those events one by one, where deduplication holds."""
        messages: list[tuple[str, bytes, dict[str, str]]] = []
        for item in appends:
            data, headers = encode(item.event, msg_id=item.msg_id, meta=item.meta or meta)
            if item.key is None:
                subject = subjects.creation_subject(item.event.aggregate, item.event.name)
            else:
                subject = subjects.aggregate_subject(item.event.aggregate, item.key,
                                                     item.event.name)
            if item.expected_version is not None and item.key is not None:
                headers[Header.EXPECTED_LAST_SUBJECT_SEQUENCE] = str(item.expected_version)
                headers[EXPECTED_SUBJECT] = subjects.aggregate_filter(item.event.aggregate,
                                                                      item.key)
            messages.append((subject, data, headers))
        return await publish_atomic(self.nc, messages)

    async def append_many(self, appends: list[Append], *, meta: Meta) -> list[int]:
        """Append in atomic batches of at most `CHUNK` events, in order; returns every
        append's sequence. Not atomic as a whole: a failure leaves the chunks before it
        recorded, so callers make their appends idempotent (msg ids) and, on error, redo
        them one by one (see `append_batch` on DuplicateAppendError).

        A few appends (at most `PIPELINED`: a light load, where latency counts) are
        published one by one, concurrently, where deduplication returns the recorded
        sequence of an append made before."""
        if len(appends) <= PIPELINED:
            return list(await asyncio.gather(*(self._append_one(a, meta) for a in appends)))
        sequences: list[int] = []
        for start in range(0, len(appends), CHUNK):
            chunk = appends[start:start + CHUNK]
            last = await self.append_batch(chunk, meta=meta)
            sequences.extend(range(last - len(chunk) + 1, last + 1))
        return sequences

    async def append_all(self, appends: list[Append], *, meta: Meta) -> list[int]:
        """All of `appends` or none (when several: one atomic batch, see `append_batch`);
        returns every append's sequence. For decisions whose events must not be recorded
        apart (a workflow's step and the requests of the children it starts)."""
        if len(appends) == 1:
            return [await self._append_one(appends[0], meta)]
        last = await self.append_batch(appends, meta=meta)
        return list(range(last - len(appends) + 1, last + 1))

    async def _append_one(self, item: Append, meta: Meta) -> int:
        if item.key is None:
            return await self.create(item.event, msg_id=item.msg_id, meta=item.meta or meta)
        return await self.append(item.key, item.event, expected_version=item.expected_version,
                                 msg_id=item.msg_id, meta=item.meta or meta)

    async def load(self, aggregate: str, key: str | int, *, created_at: int | None = None
                   ) -> tuple[list[Envelope], int]:
        """All events of one aggregate in order, and its version.

        For aggregates keyed by their creation sequence pass `created_at=id`: the
        creation event is read at that sequence and must be of this aggregate.
        """
        events: list[Envelope] = []
        start = 1
        if created_at is not None:
            first = await self._get(created_at)
            if first is None or first.subject.split(".")[1:3] != [aggregate, subjects.NEW]:
                raise AttuneNotFound(f"{aggregate} {key} not found")
            events.append(first)
            start = created_at + 1
        version = 0
        filter_subject = subjects.aggregate_filter(aggregate, key)
        while True:
            env = await self._get(start, filter_subject)
            if env is None:
                break
            events.append(env)
            version = env.seq
            start = env.seq + 1
        return events, version

    async def last_sequence(self) -> int:
        info = await self.js.stream_info(self.stream)
        return int(info.state.last_seq)

    async def read(self, seq: int) -> Envelope | None:
        return await self._get(seq)

    async def _get(self, seq: int, subject: str | None = None) -> Envelope | None:
        try:
            if subject is None:
                raw = await self.js.get_msg(self.stream, seq=seq, direct=True)
            else:
                raw = await self.js.get_msg(self.stream, seq=seq, subject=subject,
                                            direct=True, next=True)
        except NotFoundError:
            return None
        if raw.data is None or raw.subject is None or raw.seq is None:
            return None
        return decode_message(raw.seq, raw.subject, raw.data, raw.headers)


async def publish_atomic(nc: Client, messages: list[tuple[str, bytes, dict[str, str]]]
                         ) -> int:
    """Publish (subject, data, headers) messages to one stream as an atomic batch: all
    are stored, contiguously and in order, or none is. Returns the last one's sequence.
    Raises ConcurrencyError (an expected version failed), DuplicateAppendError (a
    `Nats-Msg-Id` was recorded before) or PayloadTooLargeError."""
    if not messages:
        raise ValueError("empty batch")
    if len(messages) > BATCH_LIMIT:
        raise PayloadTooLargeError(f"{len(messages)} events in one atomic append: the "
                                   f"limit is {BATCH_LIMIT}")
    batch_id = uuid4().hex
    *body, (last_subject, last_data, last_headers) = messages
    for number, (subject, data, headers) in enumerate(body, start=1):
        await nc.publish(subject, data, headers={
            **headers, "Nats-Batch-Id": batch_id, "Nats-Batch-Sequence": str(number)})
    reply = await nc.request(last_subject, last_data, timeout=10, headers={
        **last_headers, "Nats-Batch-Id": batch_id,
        "Nats-Batch-Sequence": str(len(messages)), "Nats-Batch-Commit": "1"})
    answer = orjson.loads(reply.data)
    error = answer.get("error")
    if error:
        if error.get("err_code") == WRONG_LAST_SEQUENCE:
            raise ConcurrencyError(f"a component changed meanwhile: {error['description']}")
        if error.get("err_code") == DUPLICATE_IN_BATCH:
            raise DuplicateAppendError("an event of the batch was recorded before")
        if error.get("err_code") == MESSAGE_TOO_LARGE:
            raise PayloadTooLargeError("an event of the batch is too large to record")
        raise APIError(**error)
    return int(answer["seq"])


async def publish_atomic_many(nc: Client, messages: list[tuple[str, bytes, dict[str, str]]]
                              ) -> None:
    """`publish_atomic` in chunks of at most `CHUNK` messages; a few (`PIPELINED`) one by
    one, concurrently, with acks (see `EventStore.append_many`)."""
    if len(messages) <= PIPELINED:
        js = nc.jetstream()
        await asyncio.gather(*(js.publish(subject, data, headers=headers)
                               for subject, data, headers in messages))
        return
    for start in range(0, len(messages), CHUNK):
        await publish_atomic(nc, messages[start:start + CHUNK])


def _translate(exc: APIError, event: Event) -> Exception:
    if exc.err_code == MESSAGE_TOO_LARGE:
        return PayloadTooLargeError(
            f"{event.type} is too large to record as one event: send smaller values")
    return exc
