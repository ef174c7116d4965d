"""Reading back what a client missed: the stream from `since + 1` up to a known
position, mapped to notifications in order by a mapper of its own (whose caches start
empty, so an execution begun before `since` is loaded once to know its old status)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncGenerator

import nats.errors
from nats.aio.client import Client
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from nats.js.errors import FetchTimeoutError

import attune.log as log
from attune.eventstore.store import EVENTS_STREAM, EventStore
from attune.notifier.mapping import Mapper
from attune.notifier.notification import Notification

#: The most stream messages one `since` may ask to read back; further behind, a client
#: loads the current state through the API and subscribes afresh.
MAX_REPLAY = 200_000
FETCH = 500
_log = log.get("notifier")


async def replay(nc: Client, store: EventStore, since: int, upto: int, *,
                 stream: str = EVENTS_STREAM) -> AsyncGenerator[Notification, None]:
    """Notifications of the stream messages `since + 1 .. upto`, in order."""
    if upto <= since:
        return
    mapper = Mapper(store, cache_size=10_000)
    config = ConsumerConfig(
        deliver_policy=DeliverPolicy.BY_START_SEQUENCE, opt_start_seq=since + 1,
        ack_policy=AckPolicy.NONE, inactive_threshold=30.0, max_waiting=1, mem_storage=True)
    sub = await nc.jetstream().pull_subscribe("attune.>", stream=stream, config=config)
    try:
        position, idle = since, 0
        while position < upto:
            try:
                msgs = await sub.fetch(min(FETCH, upto - position), timeout=1.0)
            except (TimeoutError, FetchTimeoutError):
                idle += 1
                if idle >= 5:  # the rest of the range is not in the stream (deleted)
                    return
                continue
            idle = 0
            for msg in msgs:
                seq = msg.metadata.sequence.stream
                if seq <= position:
                    continue
                if seq > upto:
                    return
                position = seq
                try:
                    notifications = await mapper.map_message(seq, msg.subject, msg.data,
                                                             msg.headers)
                except (nats.errors.Error, OSError):
                    raise
                except Exception as exc:  # as the hub does: skip what cannot be mapped
                    _log.error("notifier.replay_unmappable", seq=seq, error=repr(exc))
                    continue
                for notification in notifications:
                    yield notification
    finally:
        with contextlib.suppress(Exception):
            await sub.unsubscribe()
