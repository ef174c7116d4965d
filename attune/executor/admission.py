"""Keeping admissions (attune/domain/admission.py) in the KV bucket `attune_admission`:
each key is read, decided on and written back with compare-and-set on its revision,
so any number of executors admit exactly as the policy says."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable
from typing import TypeVar

from nats.js.errors import KeyNotFoundError, KeyWrongLastSequenceError
from nats.js.kv import KeyValue

from attune.app.context import Context
from attune.domain.admission import Admission
from attune.domain.policy import PolicyDef, effective
from attune.errors import ConcurrencyError

BUCKET = "attune_admission"
MAX_ATTEMPTS = 100
T = TypeVar("T")


class Admissions:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self._kv: KeyValue | None = None

    async def bucket(self) -> KeyValue:
        if self._kv is None:
            self._kv = await self.ctx.store.js.key_value(BUCKET)
        return self._kv

    async def policy_for(self, action_ref: str) -> PolicyDef | None:
        rows = await self.ctx.pool.fetch(
            "SELECT definition FROM policies WHERE enabled AND "
            "(action_ref = $1 OR target_pack_ref = $2)", action_ref,
            action_ref.partition(".")[0])
        return effective([PolicyDef.model_validate(r["definition"]) for r in rows], action_ref)

    async def update(self, key: str, decide: Callable[[Admission], tuple[Admission, T]]) -> T:
        """Apply `decide` to the admission at `key` atomically (retrying on conflicts)."""
        kv = await self.bucket()
        for _ in range(MAX_ATTEMPTS):
            try:
                entry = await kv.get(key)
                state = Admission.model_validate_json(entry.value or b"{}")
                revision: int | None = entry.revision
            except KeyNotFoundError:
                state, revision = Admission(), None
            new, result = decide(state)
            if new == state:
                return result
            data = new.model_dump_json().encode()
            try:
                if revision is None:
                    await kv.create(key, data)
                else:
                    await kv.update(key, data, last=revision)
            except KeyWrongLastSequenceError:
                await asyncio.sleep(random.uniform(0, 0.01))
                continue
            return result
        raise ConcurrencyError(f"admission {key} is too contended: gave up after "
                               f"{MAX_ATTEMPTS} attempts")

    async def read(self, key: str) -> Admission:
        kv = await self.bucket()
        try:
            entry = await kv.get(key)
        except KeyNotFoundError:
            return Admission()
        return Admission.model_validate_json(entry.value or b"{}")

    async def keys(self) -> list[str]:
        kv = await self.bucket()
        try:
            return [k for k in await kv.keys() if k.startswith("adm.")]
        except Exception:  # nats-py raises NoKeysError on an empty bucket
            return []
