"""Keys (secrets): list (never values), show (plaintext only with keys:decrypt on the
key), create, change, delete, and re-encrypt every key under the current encryption
key. Every handler checks the key itself against the caller's grants, so constraints
(owner: self, pack_refs, refs) hold per key."""

from __future__ import annotations

from aiohttp import web

from attune.api import envelopes
from attune.api.consistency import WRITE_WAIT_SECONDS
from attune.api.handlers import written
from attune.api.models import CommandAccepted, DeletedOut, RefPath
from attune.api.models.keys import (
    KeyCreateRequest,
    KeyListQuery,
    KeyOut,
    KeySummaryOut,
    KeyUpdateRequest,
    RotationOut,
)
from attune.api.queries import keys as reads
from attune.api.queries import visible
from attune.api.routing import Call, Permission, Route
from attune.app import keys
from attune.app.authorization import allowed, authorize
from attune.domain.key import build_ref, parse_ref
from attune.errors import NotFoundError
from attune.security.tokens import TokenType


def _summary(row: reads.KeyRow) -> KeySummaryOut:
    return KeySummaryOut(ref=row.ref, owner_type=row.owner_type, owner=row.owner,
                         name=row.name, encrypted=row.encrypted, expires_at=row.expires_at,
                         created=row.created, updated=row.updated)


def _out(call: Call, row: reads.KeyRow) -> KeyOut:
    value = row.value
    if row.encrypted:
        value = (call.ctx.sealer.open(row.value)
                 if allowed(call.user, "keys", "decrypt", row.target) else None)
    return KeyOut(**_summary(row).model_dump(), value=value)


async def _read(call: Call, ref: str) -> reads.KeyRow:
    row = await reads.find(call.ctx.pool, ref, call.ctx.clock())
    if row is None:
        raise NotFoundError(f"key {ref!r} not found: GET /api/v1/keys lists the keys")
    authorize(call.user, "keys", "read", row.target)
    return row


async def list_keys(call: Call) -> web.Response:
    query = call.query_as(KeyListQuery)
    filters = reads.Filters(owner_type=query.owner_type, owner=query.owner, q=query.q)
    now = call.ctx.clock()

    async def scan(after: str, limit: int) -> list[reads.KeyRow]:
        return await reads.scan(call.ctx.pool, filters, now, after=after, limit=limit)

    rows, total = await visible.page(
        scan, lambda r: r.ref, lambda r: allowed(call.user, "keys", "read", r.target),
        offset=query.offset, limit=query.fetch_limit, count=query.include_total)
    return envelopes.page([_summary(r) for r in rows], query, total=total)


async def get_key(call: Call) -> web.Response:
    return envelopes.single(_out(call, await _read(call, call.path_as(RefPath).ref)))


def _reader(call: Call, ref: str) -> written.Read:
    async def read() -> KeyOut | None:
        row = await reads.find(call.ctx.pool, ref, call.ctx.clock())
        return _out(call, row) if row else None
    return read


async def create_key(call: Call) -> web.Response:
    body = call.body_as(KeyCreateRequest)
    ref = (parse_ref(body.ref) if body.ref is not None
           else build_ref(str(body.owner_type), body.owner, str(body.name)))
    authorize(call.user, "keys", "create", reads.key_target(ref.ref))
    seq = await keys.create(call.ctx, ref, body.value, encrypted=body.encrypted,
                            ttl_seconds=body.ttl_seconds, meta=call.meta)
    return await written.component(call, ref.ref, seq, _reader(call, ref.ref), status=201)


async def update_key(call: Call) -> web.Response:
    ref = call.path_as(RefPath).ref
    body = call.body_as(KeyUpdateRequest)
    authorize(call.user, "keys", "update", reads.key_target(parse_ref(ref).ref))
    seq = await keys.update(call.ctx, ref, body.value, encrypted=body.encrypted,
                            ttl_seconds=body.ttl_seconds, meta=call.meta)
    return await written.component(call, ref, seq, _reader(call, ref))


async def delete_key(call: Call) -> web.Response:
    ref = call.path_as(RefPath).ref
    authorize(call.user, "keys", "delete", reads.key_target(parse_ref(ref).ref))
    seq = await keys.delete(call.ctx, ref, meta=call.meta)
    return await written.deleted(call, "key", ref, seq)


async def rotate_encryption_key(call: Call) -> web.Response:
    resealed, seq = await keys.rotate_encryption_key(call.ctx, meta=call.meta)
    if seq:
        await call.waiter.wait_for(seq, WRITE_WAIT_SECONDS)
    headers = {envelopes.SEQUENCE_HEADER: str(seq)} if seq else None
    body = RotationOut(resealed=resealed, key_id=call.ctx.sealer.key_id)
    return envelopes.json_response({"data": envelopes.dump(body)}, headers=headers)


_READ = Permission("keys", "read")
_ACCEPTED = {202: CommandAccepted}
#: actions read keys with their execution token (what their action was granted)
_CALLERS: tuple[TokenType, ...] = ("access", "execution")

ROUTES = [
    Route("GET", "/api/v1/keys", list_keys,
          "List keys the caller may read (filters: owner_type, owner, q); never values",
          _READ, "keys", query=KeyListQuery, response=KeySummaryOut, envelope="list",
          tokens=_CALLERS),
    Route("POST", "/api/v1/keys", create_key,
          "Create a key (encrypted by default; the server builds the canonical ref)",
          Permission("keys", "create"), "keys", body=KeyCreateRequest, response=KeyOut,
          status=201, alternatives=_ACCEPTED, command=True),
    Route("POST", "/api/v1/keys/rotate-encryption-key", rotate_encryption_key,
          "Re-encrypt every key under the current encryption key (after a key change, "
          "with the old one in ATTUNE_PREVIOUS_ENCRYPTION_KEYS)",
          Permission("keys", "manage"), "keys", response=RotationOut, command=True),
    Route("GET", "/api/v1/keys/{ref}", get_key,
          "Show a key; the value is plaintext with keys:decrypt, else null", _READ, "keys",
          params=RefPath, response=KeyOut, tokens=_CALLERS),
    Route("PUT", "/api/v1/keys/{ref}", update_key, "Change a key's value (and expiry)",
          Permission("keys", "update"), "keys", params=RefPath, body=KeyUpdateRequest,
          response=KeyOut, alternatives=_ACCEPTED, command=True),
    Route("DELETE", "/api/v1/keys/{ref}", delete_key, "Delete a key",
          Permission("keys", "delete"), "keys", params=RefPath, response=DeletedOut,
          envelope="raw", command=True),
]
