"""The fan-out: ONE JetStream consumer per notifier process reads ATTUNE_EVENTS from the
live end, maps each event once (`mapping.Mapper`) and hands the notification to every
connection with a matching filter. Handing over is a non-blocking put into the
connection's own bounded queue, so a slow client never delays the others.

`position` is the sequence of the last stream message handled. It moves and the
notifications of a fetched batch are handed over in one step of the event loop, which is what lets a
`since` subscription switch from replay to live without gap or duplicate: whatever is at
or below `position` when it subscribes is replayed from the stream, the rest arrives
live (see `connection`).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import Protocol

import nats.errors
from nats.aio.client import Client
from nats.js.api import ConsumerConfig, DeliverPolicy

import attune.log as log
from attune.eventstore.store import EVENTS_STREAM, EventStore
from attune.notifier.mapping import Mapper
from attune.notifier.notification import Notification

_log = log.get("notifier")
BATCH = 256
#: Silence after which the consumer is checked against the stream: when the stream has
#: moved on without it (its server restarted and lost the ephemeral consumer), it is
#: created again after the last message handled.
STALL_SECONDS = 5.0


class StalledError(Exception):
    """The consumer delivers nothing while the stream grows."""


class Subscriber(Protocol):
    def offer_many(self, notifications: list[Notification]) -> None: ...


class Hub:
    def __init__(self, nc: Client, store: EventStore, *, stream: str = EVENTS_STREAM) -> None:
        self.nc = nc
        self.stream = stream
        self.mapper = Mapper(store)
        self.position = 0
        #: filter text -> connections subscribed with it
        self.index: dict[str, set[Subscriber]] = {}
        self.started = asyncio.Event()
        self.delivered = 0

    # -- subscriptions -------------------------------------------------------------

    def add(self, subscriber: Subscriber, filter_text: str) -> None:
        self.index.setdefault(filter_text, set()).add(subscriber)

    def remove(self, subscriber: Subscriber, filter_text: str) -> None:
        subscribers = self.index.get(filter_text)
        if subscribers is not None:
            subscribers.discard(subscriber)
            if not subscribers:
                del self.index[filter_text]

    def fan_out(self, *notifications: Notification) -> None:
        """Hand `notifications` (in stream order) to every subscriber with a matching
        filter: each gets its share in one call."""
        index = self.index
        shares: dict[Subscriber, list[Notification]] = {}
        for notification in notifications:
            targets: set[Subscriber] = set()
            for key in notification.filter_keys():
                subscribers = index.get(key)
                if subscribers:
                    targets |= subscribers
            for subscriber in targets:
                share = shares.get(subscriber)
                if share is None:
                    shares[subscriber] = [notification]
                else:
                    share.append(notification)
            self.delivered += len(targets)
        for subscriber, share in shares.items():
            try:
                subscriber.offer_many(share)
            except Exception as exc:  # one broken connection never costs the others
                _log.warning("notifier.offer_failed", error=repr(exc))

    # -- the consumer --------------------------------------------------------------

    async def run(self, stop: asyncio.Event) -> None:
        """Follow the stream from its end (as it is now) until `stop`; after a failure
        (NATS restarting) carry on right after the last message handled."""
        backoff = 0.2
        while not stop.is_set():
            try:
                if not self.started.is_set():
                    info = await self.nc.jetstream().stream_info(self.stream)
                    self.position = info.state.last_seq
                    self.started.set()
                    _log.info("notifier.following", stream=self.stream,
                              position=self.position)
                await self._consume(stop)
                backoff = 0.2
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                _log.warning("notifier.restart", error=repr(exc), position=self.position)
                # a batch mapped in part may have moved the caches past `position`
                self.mapper = Mapper(self.mapper.store)
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(stop.wait(), backoff)
                backoff = min(backoff * 2, 5.0)

    async def _consume(self, stop: asyncio.Event) -> None:
        # A push consumer delivers each message as soon as it is stored (a pull `fetch`
        # of a batch would hold the first message back while it waits for more);
        # ordered: nats-py recreates it after a gap, from the last message seen.
        config = ConsumerConfig(deliver_policy=DeliverPolicy.BY_START_SEQUENCE,
                                opt_start_seq=self.position + 1, mem_storage=True)
        sub = await self.nc.jetstream().subscribe(
            "attune.>", stream=self.stream, config=config, ordered_consumer=True,
            idle_heartbeat=5.0)
        quiet_since = time.monotonic()
        try:
            while not stop.is_set():
                try:
                    first = await sub.next_msg(timeout=0.5)
                except nats.errors.TimeoutError:
                    if time.monotonic() - quiet_since > STALL_SECONDS:
                        await self._check_not_stalled()
                        quiet_since = time.monotonic()
                    continue
                quiet_since = time.monotonic()
                # with whatever else has arrived meanwhile: one hand-over per batch
                msgs = [first] + [await sub.next_msg() for _ in range(
                    min(sub.pending_msgs, BATCH - 1))]
                batch: list[Notification] = []
                last = self.position
                for msg in msgs:
                    seq = msg.metadata.sequence.stream
                    if seq <= last:
                        continue
                    last = seq
                    batch.extend(await self._map(seq, msg.subject, msg.data, msg.headers))
                # no await from here on: position and hand-over are one step
                self.position = last
                if batch:
                    self.fan_out(*batch)
        finally:
            with contextlib.suppress(Exception):
                await sub.unsubscribe()

    async def _check_not_stalled(self) -> None:
        info = await self.nc.jetstream().stream_info(self.stream)
        if info.state.last_seq > self.position:
            raise StalledError(f"the stream is at {info.state.last_seq}, the consumer "
                               f"delivered nothing after {self.position}")

    async def _map(self, seq: int, subject: str, data: bytes,
                   headers: dict[str, str] | None) -> list[Notification]:
        try:
            return await self.mapper.map_message(seq, subject, data, headers)
        except (nats.errors.Error, OSError):
            raise  # the stream is unreachable: start again after `position`
        except Exception as exc:  # a bug, odd history, an unknown event: skip, never stall
            _log.exception("notifier.unmappable", seq=seq, subject=subject, error=repr(exc))
            return []
