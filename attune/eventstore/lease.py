"""Leases for singletons (invariant 9): a key in the JetStream KV bucket `attune_leases`,
created by its holder and renewed with compare-and-set on its revision. The bucket's
TTL (30 s) expires the key of a holder that died, and another replica takes over.

    lease = Lease(js, "monitor", owner=worker_name)
    while running:
        if await lease.hold():      # acquire or renew; False when someone else holds it
            do_the_singleton_work()
        await asyncio.sleep(RENEW_EVERY)
"""

from __future__ import annotations

import contextlib

from nats.js import JetStreamContext
from nats.js.errors import KeyNotFoundError, KeyValueError, KeyWrongLastSequenceError
from nats.js.kv import KeyValue

import attune.log as log

BUCKET = "attune_leases"
#: Renew well within the bucket's 30 s TTL.
RENEW_EVERY = 5.0

_log = log.get("lease")


class Lease:
    def __init__(self, js: JetStreamContext, name: str, *, owner: str) -> None:
        self.js = js
        self.name = name
        self.owner = owner
        self.revision: int | None = None
        self._kv: KeyValue | None = None

    @property
    def held(self) -> bool:
        return self.revision is not None

    async def _bucket(self) -> KeyValue:
        if self._kv is None:
            self._kv = await self.js.key_value(BUCKET)
        return self._kv

    async def hold(self) -> bool:
        """Acquire the lease or renew it; False when another owner holds it (or NATS is
        unreachable — then nobody can renew, and the lease lapses for everyone)."""
        try:
            kv = await self._bucket()
            if self.revision is not None:
                try:
                    self.revision = await kv.update(self.name, self.owner.encode(),
                                                    last=self.revision)
                    return True
                except KeyWrongLastSequenceError:
                    _log.warning("lease.lost", lease=self.name, owner=self.owner)
                    self.revision = None
            try:
                self.revision = await kv.create(self.name, self.owner.encode())
            except KeyWrongLastSequenceError:
                return await self._reclaim(kv)
            _log.info("lease.acquired", lease=self.name, owner=self.owner)
            return True
        except (KeyValueError, OSError, TimeoutError) as exc:
            _log.warning("lease.unavailable", lease=self.name, error=repr(exc))
            self.revision = None
            return False

    async def _reclaim(self, kv: KeyValue) -> bool:
        """The key exists: ours from before a restart (same owner) or someone else's."""
        try:
            entry = await kv.get(self.name)
        except KeyNotFoundError:
            return False
        if entry.value is not None and entry.value.decode() == self.owner:
            self.revision = await kv.update(self.name, self.owner.encode(), last=entry.revision)
            return True
        return False

    async def release(self) -> None:
        if self.revision is None:
            return
        with contextlib.suppress(Exception):
            kv = await self._bucket()
            await kv.delete(self.name, last=self.revision)
        self.revision = None
