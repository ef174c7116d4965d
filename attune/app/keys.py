"""Keys (secrets): set, change, delete, rotate the encryption key, and the keystore
lookup. Values of encrypted keys are sealed here, before the event is appended, so no
stream, projection or log line ever holds their plaintext (DESIGN invariant 7)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from attune.app.context import Context
from attune.domain import key as domain
from attune.domain.key import KeyDeleted, KeyRef, KeyResealed, KeySet, StoredKey
from attune.errors import ConcurrencyError, ConflictError, NotFoundError, ValidationError
from attune.eventstore.envelope import Meta
from attune.security.crypto import is_sealed

AGGREGATE = "key"
MAX_TTL_SECONDS = 10 * 365 * 86400


async def load(ctx: Context, ref: str) -> tuple[StoredKey | None, int]:
    envelopes, version = await ctx.store.load(AGGREGATE, ref)
    state: StoredKey | None = None
    for envelope in envelopes:
        state = domain.evolve(state, envelope.event)
    return state, version


def _expiry(ctx: Context, ttl_seconds: int | None) -> datetime | None:
    if ttl_seconds is None:
        return None
    if not 1 <= ttl_seconds <= MAX_TTL_SECONDS:
        raise ValidationError(f"ttl_seconds must be between 1 and {MAX_TTL_SECONDS}")
    return ctx.clock() + timedelta(seconds=ttl_seconds)


async def _check_owner(ctx: Context, ref: KeyRef) -> None:
    if ref.owner_type == "identity" and await ctx.pool.fetchval(
            "SELECT 1 FROM identities WHERE login = $1", ref.owner) is None:
        raise ValidationError(f"no identity with login {ref.owner!r} owns keys: create it "
                              "first, or choose another owner")


async def create(ctx: Context, ref: KeyRef, value: Any, *, encrypted: bool = True,
                 ttl_seconds: int | None = None, meta: Meta) -> int:
    domain.check_value(value)
    await _check_owner(ctx, ref)
    state, version = await load(ctx, ref.ref)
    if state is not None and not state.expired(ctx.clock()):
        raise ConflictError(f"key {ref.ref!r} already exists: change it with PUT "
                            f"/api/v1/keys/{ref.ref}")
    event = _set(ctx, ref, value, encrypted, _expiry(ctx, ttl_seconds))
    try:
        return await ctx.store.append(ref.ref, event, expected_version=version,
                                      msg_id=f"key:{ref.ref}:{version}:set", meta=meta)
    except ConcurrencyError:
        raise ConflictError(f"key {ref.ref!r} was created meanwhile") from None


async def update(ctx: Context, ref: str, value: Any, *, encrypted: bool | None = None,
                 ttl_seconds: int | None = None, meta: Meta) -> int:
    domain.check_value(value)
    state, version = await load(ctx, ref)
    if state is None or state.expired(ctx.clock()):
        raise NotFoundError(f"key {ref!r} not found: create it with POST /api/v1/keys")
    keep = state.encrypted if encrypted is None else encrypted
    expires = _expiry(ctx, ttl_seconds) if ttl_seconds is not None else state.expires_at
    event = _set(ctx, domain.parse_ref(ref), value, keep, expires)
    try:
        return await ctx.store.append(ref, event, expected_version=version,
                                      msg_id=f"key:{ref}:{version}:set", meta=meta)
    except ConcurrencyError:
        raise ConflictError(f"key {ref!r} changed meanwhile: read it again and retry"
                            ) from None


def _set(ctx: Context, ref: KeyRef, value: Any, encrypted: bool,
         expires_at: datetime | None) -> KeySet:
    stored = ctx.sealer.seal(value) if encrypted else value
    return KeySet(at=ctx.clock(), ref=ref.ref, owner_type=ref.owner_type, owner=ref.owner,
                  key_name=ref.name, encrypted=encrypted, value=stored, expires_at=expires_at)


async def delete(ctx: Context, ref: str, *, meta: Meta) -> int:
    state, version = await load(ctx, ref)
    if state is None:
        raise NotFoundError(f"key {ref!r} not found")
    try:
        return await ctx.store.append(ref, KeyDeleted(at=ctx.clock(), ref=ref),
                                      expected_version=version,
                                      msg_id=f"key:{ref}:{version}:deleted", meta=meta)
    except ConcurrencyError:
        raise ConflictError(f"key {ref!r} changed meanwhile: retry") from None


async def rotate_encryption_key(ctx: Context, *, meta: Meta) -> tuple[int, int]:
    """Re-seal every encrypted key not sealed with the current encryption key, by
    appending `key.resealed` events. Returns (keys resealed, last sequence or 0).
    Idempotent: keys already under the current key are left alone."""
    rows = await ctx.pool.fetch(
        "SELECT ref FROM keys WHERE encrypted AND key_id IS DISTINCT FROM $1 ORDER BY ref",
        ctx.sealer.key_id)
    resealed = last = 0
    for row in rows:
        for _ in range(5):  # a concurrent change: reload and decide again
            state, version = await load(ctx, row["ref"])
            if state is None or not state.encrypted or not is_sealed(state.value):
                break
            value = ctx.sealer.reseal(state.value)
            if value is None:
                break
            try:
                last = await ctx.store.append(
                    row["ref"], KeyResealed(at=ctx.clock(), ref=row["ref"], value=value),
                    expected_version=version,
                    msg_id=f"key:{row['ref']}:{version}:resealed", meta=meta)
            except ConcurrencyError:
                continue
            resealed += 1
            break
    return resealed, last


async def snapshot(ctx: Context, refs: list[str] | None = None) -> dict[str, StoredKey]:
    """The keys (sealed) as the read model has them, for `keystore` lookups."""
    sql = ("SELECT ref, owner_type, owner, name, encrypted, value, expires_at FROM keys"
           + (" WHERE ref = ANY($1::text[])" if refs is not None else ""))
    rows = await ctx.pool.fetch(sql, *([refs] if refs is not None else []))
    return {r["ref"]: StoredKey(r["ref"], r["owner_type"], r["owner"], r["name"],
                                r["encrypted"], r["value"], r["expires_at"]) for r in rows}


async def lookup(ctx: Context, ref: str) -> Any:
    """The plaintext of one key, for the `keystore` namespace (404 when absent)."""
    keys = await snapshot(ctx, [ref])
    return domain.lookup(keys, ref, ctx.clock(), ctx.sealer.open)


async def keystore(ctx: Context, refs: list[str] | None = None) -> Callable[[str], Any]:
    """A `keystore` lookup over the keys as they are now (all of them, or `refs`), for
    the workflow conductor and rule templates: sync, so pure code can call it."""
    return domain.keystore(await snapshot(ctx, refs), ctx.clock(), ctx.sealer.open)
