"""Read your writes (DESIGN invariant 6): wait until the projections reach a stream
sequence.

The projector announces each committed batch on the PostgreSQL channel
`attune_projections` with the batch's last sequence. One connection LISTENs for
it; `wait_for(seq)` returns as soon as that sequence is announced. While someone
waits, the position is also re-read from `projection_positions` every few hundred
milliseconds, so a notification lost with a dropped connection delays no one for long.
"""

from __future__ import annotations

import asyncio
import contextlib

import asyncpg

import attune.log as log
from attune.readmodel.projector import NOTIFY_CHANNEL

POLL_SECONDS = 0.25
#: longest a command waits for its effect to reach the read model before answering 202
WRITE_WAIT_SECONDS = 5.0
#: longest a read waits for the sequence a client names in X-Attune-After-Sequence
READ_WAIT_SECONDS = 5.0
_log = log.get("api.consistency")

POSITION_SQL = "SELECT coalesce(min(position), 0) FROM projection_positions"


class ProjectionWaiter:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool
        self.position = 0
        self.listening = False
        self._changed = asyncio.Event()
        self._waiting = 0

    def advance(self, position: int) -> None:
        if position > self.position:
            self.position = position
            changed, self._changed = self._changed, asyncio.Event()
            changed.set()

    async def wait_for(self, seq: int, timeout: float) -> bool:
        """True once the projections have applied `seq`, False after `timeout` seconds."""
        if self.position >= seq:
            return True
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        self._waiting += 1
        try:
            while self.position < seq:
                remaining = deadline - loop.time()
                if remaining <= 0:
                    return False
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._changed.wait(), remaining)
            return True
        finally:
            self._waiting -= 1

    async def run(self, stop: asyncio.Event) -> None:
        """Keep one LISTEN connection until `stop`; reconnect after any failure."""
        backoff = 0.2
        while not stop.is_set():
            try:
                async with self.pool.acquire() as conn:
                    await self._listen(conn, stop)
                backoff = 0.2
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                _log.warning("consistency.listen_failed", error=repr(exc))
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), backoff)
                backoff = min(backoff * 2, 5.0)
            finally:
                self.listening = False

    async def _listen(self, conn: asyncpg.pool.PoolConnectionProxy, stop: asyncio.Event) -> None:
        await conn.add_listener(NOTIFY_CHANNEL, self._on_notify)
        try:
            self.advance(int(await conn.fetchval(POSITION_SQL)))
            self.listening = True
            while not stop.is_set() and not conn.is_closed():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), POLL_SECONDS)
                if self._waiting:
                    self.advance(int(await conn.fetchval(POSITION_SQL)))
        finally:
            if not conn.is_closed():
                await conn.remove_listener(NOTIFY_CHANNEL, self._on_notify)

    def _on_notify(self, conn: object, pid: int, channel: str, payload: object) -> None:
        try:
            self.advance(int(str(payload)))
        except ValueError:
            _log.warning("consistency.bad_payload", payload=str(payload)[:64])
