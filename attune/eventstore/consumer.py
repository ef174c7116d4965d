"""Durable pull consumers that ack after the effect is committed (invariant 4).

The handler runs once per message; the runner acks when it returns, naks with a
delay when it raises (redelivery, bounded by the consumer's max_deliver), and
keeps long handlers alive with in-progress acks. Up to `concurrency` messages
are handled at once. Fetch errors (NATS restarting) back off and retry forever.

`BatchConsumer` hands each fetched batch to one handler call instead, so a hot path
can decide for many messages at once and record the outcome in a few atomic
appends; the batch is acked (or naked) as a whole.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from nats.aio.client import Client
from nats.aio.msg import Msg

import attune.log as log
from attune.eventstore.pull import PullStream

Handler = Callable[[Msg], Awaitable[None]]
BatchHandler = Callable[[list[Msg]], Awaitable[None]]
_log = log.get("consumer")


class DurableConsumer:
    def __init__(self, nc: Client, *, stream: str, durable: str, handler: Handler,
                 concurrency: int = 64, fetch_timeout: float = 1.0,
                 progress_every: float = 15.0, nak_delay: float = 1.0) -> None:
        self.nc = nc
        self.stream = stream
        self.durable = durable
        self.handler = handler
        self.concurrency = concurrency
        self.fetch_timeout = fetch_timeout
        self.progress_every = progress_every
        self.nak_delay = nak_delay
        self._tasks: set[asyncio.Task[None]] = set()

    async def run(self, stop: asyncio.Event) -> None:
        backoff = 0.2
        sub = None
        try:
            while not stop.is_set():
                try:
                    if sub is None:
                        sub = PullStream(self.nc, stream=self.stream, consumer=self.durable)
                        await sub.start()
                    free = self._free_slots()
                    if free == 0:
                        await self._wait_for_slot(stop)
                        continue
                    msgs = await sub.take(free, timeout=self.fetch_timeout, stop=stop)
                    backoff = 0.2
                except asyncio.CancelledError:
                    raise
                except Exception as exc:
                    _log.warning("consumer.fetch_failed", durable=self.durable, error=repr(exc))
                    if sub is not None:
                        with contextlib.suppress(Exception):
                            await sub.stop()
                    sub = None
                    with contextlib.suppress(asyncio.TimeoutError):
                        await asyncio.wait_for(stop.wait(), backoff)
                    backoff = min(backoff * 2, 5.0)
                    continue
                self._dispatch(msgs)
        finally:
            if self._tasks:
                await asyncio.gather(*self._tasks, return_exceptions=True)
            if sub is not None:
                with contextlib.suppress(Exception):
                    await sub.stop()

    def _dispatch(self, msgs: list[Msg]) -> None:
        for msg in msgs:
            self._spawn(self._handle(msg))

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _free_slots(self) -> int:
        return self.concurrency - len(self._tasks)

    async def _wait_for_slot(self, stop: asyncio.Event) -> None:
        if self._tasks:
            await asyncio.wait(self._tasks, return_when=asyncio.FIRST_COMPLETED, timeout=1.0)
        elif not stop.is_set():
            await asyncio.sleep(0.01)

    async def _handle(self, msg: Msg) -> None:
        keepalive = asyncio.create_task(self._keep_alive(msg))
        try:
            await self.handler(msg)
        except asyncio.CancelledError:
            with contextlib.suppress(Exception):
                await msg.nak()
            raise
        except Exception as exc:
            _log.error("consumer.handler_failed", durable=self.durable, subject=msg.subject,
                       error=repr(exc), exc_info=exc)
            with contextlib.suppress(Exception):
                await msg.nak(delay=self.nak_delay)
        else:
            with contextlib.suppress(Exception):
                await msg.ack()
        finally:
            keepalive.cancel()

    async def _keep_alive(self, *msgs: Msg) -> None:
        while True:
            await asyncio.sleep(self.progress_every)
            for msg in msgs:
                with contextlib.suppress(Exception):
                    await msg.in_progress()


class BatchConsumer(DurableConsumer):
    """Up to `batches` batches of up to `batch_size` messages in flight, each handled by
    one call of `handler`."""

    def __init__(self, nc: Client, *, stream: str, durable: str, handler: BatchHandler,
                 batch_size: int = 256, batches: int = 2, **options: Any) -> None:
        super().__init__(nc, stream=stream, durable=durable, handler=_unused,
                         concurrency=batches, **options)
        self.batch_handler = handler
        self.batch_size = batch_size

    def _free_slots(self) -> int:
        return self.batch_size if len(self._tasks) < self.concurrency else 0

    def _dispatch(self, msgs: list[Msg]) -> None:
        if msgs:
            self._spawn(self._handle_batch(msgs))

    async def _handle_batch(self, msgs: list[Msg]) -> None:
        keepalive = asyncio.create_task(self._keep_alive(*msgs))
        try:
            await self.batch_handler(msgs)
        except asyncio.CancelledError:
            await _settle(msgs, ok=False)
            raise
        except Exception as exc:
            _log.error("consumer.batch_failed", durable=self.durable, size=len(msgs),
                       error=repr(exc), exc_info=exc)
            await _settle(msgs, ok=False, delay=self.nak_delay)
        else:
            await _settle(msgs, ok=True)
        finally:
            keepalive.cancel()


async def _settle(msgs: list[Msg], *, ok: bool, delay: float | None = None) -> None:
    for msg in msgs:
        with contextlib.suppress(Exception):
            await (msg.ack() if ok else msg.nak(delay=delay))


async def _unused(msg: Msg) -> None:
    raise AssertionError("a batch consumer handles batches")
