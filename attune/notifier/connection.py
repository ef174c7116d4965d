"""One WebSocket client: its filters, its bounded queue and how frames reach its socket.

* The hub `offer`s notifications without waiting. When the connection is idle (nothing
  queued or being read back, its socket's send buffer below `BUFFER_LIMIT`) the frames
  are written to the socket at once, one write per batch the hub handles: no task switch
  per delivery. Otherwise they go into the connection's queue, which its writer task
  empties at the pace the client reads.
* When the queue is full it is emptied and a `resync` frame goes out before whatever
  comes next: `{"type": "resync", "sequence": S, "dropped": n}` says the client has
  everything up to S; `subscribe` with `since: S` reads the dropped ones back. The
  client stays connected and keeps receiving live notifications.
* Nothing is sent twice: a notification at or below the last sequence sent is skipped.
* `subscribe` with `since: N` reads the stream back from N + 1 up to the hub's position
  at that moment, then carries on with the queue, which holds exactly what came later.
* The token's expiry closes the socket with 4401: on a timer, before each message the
  client sends and before each write.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any

import orjson
from aiohttp import WSMsgType, web

import attune.log as log
from attune.errors import AttuneError, UnauthorizedError
from attune.eventstore.store import EventStore
from attune.notifier.access import Access
from attune.notifier.filters import FilterError, parse
from attune.notifier.frames import text_frame
from attune.notifier.hub import Hub
from attune.notifier.notification import Notification
from attune.notifier.replay import MAX_REPLAY, replay

_log = log.get("notifier")

TOKEN_EXPIRED = 4401
#: The token's identity was frozen or lost its access meanwhile.
FORBIDDEN = 4403
#: How often a connection's token and identity are checked again (as the API checks
#: them per request: a deleted or frozen identity, a revoked integration token); the
#: permissions are taken afresh at the same time.
RECHECK_SECONDS = 30.0
#: Control frames (pong, errors, acknowledgements) waiting to be written; a client that
#: sends more than this without reading is closed (1008, policy violation).
CONTROL_LIMIT = 256
QUEUE_LIMIT = 1000
#: Bytes waiting in the socket's send buffer above which the client counts as slow:
#: frames then queue up (bounded) instead of piling up in memory.
BUFFER_LIMIT = 256 * 1024
#: How long a subscription waits for the notifier to reach the stream at its start.
STARTUP_WAIT = 10.0
#: How often a writer waiting for a slow client's buffer to drain looks again.
DRAIN_POLL = 0.005


class Connection:
    def __init__(self, ws: web.WebSocketResponse, transport: Any, hub: Hub,
                 store: EventStore, access: Access, client_id: str, *,
                 recheck: Callable[[], Awaitable[Access]] | None = None,
                 recheck_seconds: float = RECHECK_SECONDS,
                 queue_limit: int = QUEUE_LIMIT) -> None:
        self.ws = ws
        self.transport = transport
        self.hub = hub
        self.store = store
        self.access = access
        self.client_id = client_id
        self.queue_limit = queue_limit
        self.recheck = recheck
        self.recheck_seconds = recheck_seconds
        self.filters: set[str] = set()
        self.queue: deque[Notification] = deque()
        self.control: deque[bytes] = deque()
        #: Notifications dropped since the last `resync` was written (0: none): the
        #: queue is emptied when they are, so the gap is always before its first item.
        self.dropped = 0
        self.wake = asyncio.Event()
        self.last_sent = 0
        #: A pending read-back (since, upto); `generation` tells a running one it is stale.
        self.pending_replay: tuple[int, int] | None = None
        self.replaying = False
        self.generation = 0
        self.expires_at = float(access.claims.exp)

    # -- from the hub (synchronous, never waits) -----------------------------------------

    def offer(self, notification: Notification) -> None:
        self.offer_many([notification])

    def offer_many(self, notifications: list[Notification]) -> None:
        """`notifications` (in stream order) match one of this connection's filters."""
        may_see = self.access.may_see
        visible = [n for n in notifications if may_see(n)]
        if not visible:
            return
        if self._idle():
            last = self.last_sent
            frames = [n.frame for n in visible if n.sequence > last]
            if frames:
                self.transport.write(frames[0] if len(frames) == 1 else b"".join(frames))
                self.last_sent = max(last, visible[-1].sequence)
            return
        queue = self.queue
        for notification in visible:
            if len(queue) >= self.queue_limit:
                self.dropped += len(queue)
                queue.clear()
            queue.append(notification)
        self.wake.set()

    def _idle(self) -> bool:
        """Frames may be written right now, in order, without waiting."""
        if (self.queue or self.control or self.dropped or self.replaying
                or self.pending_replay is not None):
            return False
        transport = self.transport
        return (transport is not None and not transport.is_closing()
                and transport.get_write_buffer_size() <= BUFFER_LIMIT
                and time.time() < self.expires_at)

    # -- the connection's life -------------------------------------------------------

    async def serve(self) -> None:
        writer = asyncio.create_task(self._write_loop())
        timer = asyncio.create_task(self._watch_token())
        self.send_control({"type": "welcome", "client_id": self.client_id,
                           "message": "Connected to Attune Notifier",
                           "sequence": self.hub.position})
        try:
            async for message in self.ws:
                if self._expired():
                    await self.close(TOKEN_EXPIRED, "token expired")
                    break
                if message.type == WSMsgType.TEXT:
                    await self.handle(message.data)
                elif message.type == WSMsgType.BINARY:
                    self.error("binary frames are not understood: send JSON text frames "
                               "such as {\"type\": \"ping\"}")
                if writer.done():
                    break
        finally:
            for text in self.filters:
                self.hub.remove(self, text)
            for task in (writer, timer):
                task.cancel()
            for task in (writer, timer):
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task

    async def close(self, code: int, message: str) -> None:
        if not self.ws.closed:
            # a close reason is at most 123 bytes of UTF-8
            reason = message.encode()[:123].decode(errors="ignore").encode()
            with contextlib.suppress(Exception):
                await self.ws.close(code=code, message=reason)

    def _expired(self) -> bool:
        return time.time() >= self.expires_at

    async def _watch_token(self) -> None:
        """Close at the token's expiry (4401), or earlier when a periodic check finds
        the token or its identity no longer valid."""
        while True:
            left = self.expires_at - time.time()
            if left <= 0:
                _log.info("notifier.token_expired", client_id=self.client_id,
                          login=self.access.identity.login)
                await self.close(TOKEN_EXPIRED, "token expired")
                return
            await asyncio.sleep(min(left, self.recheck_seconds))
            if self.recheck is None or self._expired():
                continue
            try:
                self.access = await self.recheck()
            except AttuneError as exc:
                code = TOKEN_EXPIRED if isinstance(exc, UnauthorizedError) else FORBIDDEN
                _log.info("notifier.token_refused", client_id=self.client_id,
                          error=exc.message)
                await self.close(code, exc.message)
                return
            except Exception as exc:  # the read model unreachable: keep the client
                _log.warning("notifier.recheck_failed", client_id=self.client_id,
                             error=repr(exc))

    # -- client messages -------------------------------------------------------------

    async def handle(self, text: str) -> None:
        try:
            message = orjson.loads(text)
        except orjson.JSONDecodeError:
            self.error("a message must be a JSON object such as {\"type\": \"ping\"}")
            return
        if not isinstance(message, dict) or not isinstance(message.get("type"), str):
            self.error("a message must be a JSON object with a string \"type\": "
                       "subscribe, unsubscribe or ping")
            return
        kind = message["type"]
        try:
            if kind == "ping":
                self.send_control({"type": "pong"})
            elif kind == "subscribe":
                await self.subscribe(message)
            elif kind == "unsubscribe":
                self.unsubscribe(message)
            else:
                self.error(f"unknown message type {kind[:64]!r}: use subscribe, "
                           "unsubscribe or ping")
        except FilterError as exc:
            self.error(str(exc), filter=message.get("filter"))

    async def subscribe(self, message: dict[str, Any]) -> None:
        filter = parse(message.get("filter"))
        since = message.get("since")
        if since is not None and (not isinstance(since, int) or isinstance(since, bool)
                                  or since < 0):
            raise FilterError("since must be a stream sequence (an integer >= 0): the "
                              "`sequence` of the last notification you received")
        self.access.check(filter)
        try:
            await asyncio.wait_for(self.hub.started.wait(), STARTUP_WAIT)
        except TimeoutError:
            raise FilterError("the notifier is not following the event stream yet (is "
                              "NATS reachable?): subscribe again shortly") from None
        upto = self.hub.position
        if since is not None and upto - since > MAX_REPLAY:
            raise FilterError(f"since {since} is {upto - since} stream messages back, more "
                              f"than {MAX_REPLAY} can be read back: load the current "
                              "state through the API and subscribe without since")
        # from here to the hand-over below nothing awaits: the hub cannot move meanwhile
        if filter.text not in self.filters:
            self.filters.add(filter.text)
            self.hub.add(self, filter.text)
        if since is not None:
            self.queue.clear()  # all of it is at or below `upto`: read back in order
            self.dropped = 0
            self.pending_replay = (since, upto)
            self.generation += 1
        self.send_control({"type": "subscribed", "filter": filter.text, "sequence": upto})

    def unsubscribe(self, message: dict[str, Any]) -> None:
        filter = parse(message.get("filter"))
        if filter.text not in self.filters:
            raise FilterError(f"not subscribed to {filter.text!r} (subscribed: "
                              f"{', '.join(sorted(self.filters)) or 'nothing'})")
        self.filters.discard(filter.text)
        self.hub.remove(self, filter.text)
        self.send_control({"type": "unsubscribed", "filter": filter.text})

    def error(self, text: str, **extra: Any) -> None:
        self.send_control({"type": "error", "message": text,
                           **{k: v for k, v in extra.items() if v is not None}})

    def send_control(self, frame: dict[str, Any]) -> None:
        if len(self.control) >= CONTROL_LIMIT:
            asyncio.get_running_loop().create_task(
                self.close(1008, "too many messages without reading the answers"))
            return
        self.control.append(text_frame(orjson.dumps(frame)))
        self.wake.set()

    # -- the writer (everything that cannot be written at once) --------------------------

    def matches(self, notification: Notification) -> bool:
        return (not self.filters.isdisjoint(notification.filter_keys())
                and self.access.may_see(notification))

    async def _write_loop(self) -> None:
        try:
            while not self.ws.closed:
                await self._flush_control()
                if self.pending_replay is not None:
                    await self._replay(*self.pending_replay)
                    continue
                if self.dropped:
                    dropped, self.dropped = self.dropped, 0
                    await self._send(text_frame(orjson.dumps(
                        {"type": "resync", "sequence": self.last_sent, "dropped": dropped,
                         "message": "notifications were dropped because this client read "
                                    "too slowly; subscribe again with since: <sequence> "
                                    "to read them back"})))
                    continue
                if not self.queue:
                    if not self.control:
                        self.wake.clear()
                        await self.wake.wait()
                    continue
                item = self.queue.popleft()
                if item.sequence > self.last_sent:
                    self.last_sent = item.sequence
                    await self._send(item.frame)
        except (ConnectionError, RuntimeError) as exc:  # the socket went away
            _log.debug("notifier.write_stopped", client_id=self.client_id, error=repr(exc))

    async def _replay(self, since: int, upto: int) -> None:
        generation = self.generation
        self.pending_replay = None
        self.replaying = True
        self.last_sent = since
        try:
            async with contextlib.aclosing(replay(self.hub.nc, self.store, since, upto,
                                                  stream=self.hub.stream)) as notifications:
                async for notification in notifications:
                    if generation != self.generation:
                        return  # a newer `since` replaces this read-back
                    await self._flush_control()
                    if notification.sequence > self.last_sent and self.matches(notification):
                        await self._send(notification.frame)
                    self.last_sent = max(self.last_sent, notification.sequence)
        except (ConnectionError, RuntimeError):
            raise
        except Exception as exc:
            _log.warning("notifier.replay_failed", client_id=self.client_id, error=repr(exc))
            self.error(f"reading back from {since} failed ({exc.__class__.__name__}); "
                       "subscribe again with since to retry")
            return
        finally:
            self.replaying = False
        if generation == self.generation:
            self.last_sent = max(self.last_sent, upto)

    async def _flush_control(self) -> None:
        while self.control:
            await self._send(self.control.popleft())

    async def _send(self, frame: bytes) -> None:
        """Write one frame, then wait while the client's send buffer is over the limit."""
        if self._expired():
            await self.close(TOKEN_EXPIRED, "token expired")
            raise ConnectionError("token expired")
        transport = self.transport
        if transport is None or transport.is_closing():
            raise ConnectionError("the client's connection is closed")
        transport.write(frame)
        # the transport offers no public "drained" event to wait on: look again shortly
        while (transport.get_write_buffer_size() > BUFFER_LIMIT  # noqa: ASYNC110
               and not transport.is_closing()):
            await asyncio.sleep(DRAIN_POLL)
