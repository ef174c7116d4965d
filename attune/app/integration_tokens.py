"""Integration tokens: opaque `attune_it_…` secrets an identity creates for services
(its service-account mechanism). Shown once; only their SHA-256 is recorded (a random
256-bit token needs no slow hash). `POST /auth/token-login` trades one for JWTs whose
`metadata.integration_token_id` lets every request check the token is not revoked."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import uuid4

from attune.app import identities
from attune.app.context import Context
from attune.app.identities import Identity
from attune.domain.identity import IntegrationTokenCreated, IntegrationTokenRevoked
from attune.errors import NotFoundError, UnauthorizedError
from attune.eventstore.envelope import Meta

PREFIX = "attune_it_"
SCOPE = "integration_token"


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class Created:
    token_id: str
    token: str
    sequence: int


async def create(ctx: Context, identity: Identity, label: str, *,
                 ttl_seconds: int | None = None, meta: Meta) -> Created:
    token = PREFIX + secrets.token_urlsafe(32)
    token_id = uuid4().hex[:16]
    expires: datetime | None = (ctx.clock() + timedelta(seconds=ttl_seconds)
                                if ttl_seconds else None)
    event = IntegrationTokenCreated(at=ctx.clock(), login=identity.login, token_id=token_id,
                                    label=label, token_sha256=digest(token),
                                    expires_at=expires)
    seq = await identities.append(ctx, identity.login, event, meta=meta,
                                  what=f"token:{token_id}")
    return Created(token_id=token_id, token=token, sequence=seq)


async def revoke(ctx: Context, identity: Identity, token_id: str, *, meta: Meta) -> int:
    # decided on the identity's own events, not on a read model that may lag
    envelopes, _ = await ctx.store.load(identities.AGGREGATE, identity.login)
    if not any(isinstance(e.event, IntegrationTokenCreated) and e.event.token_id == token_id
               for e in envelopes):
        raise NotFoundError(f"identity {identity.id} has no integration token {token_id!r}")
    event = IntegrationTokenRevoked(at=ctx.clock(), login=identity.login, token_id=token_id)
    return await identities.append(ctx, identity.login, event, meta=meta,
                                   what=f"revoke:{token_id}")


async def authenticate(ctx: Context, token: str) -> tuple[Identity, str]:
    """The identity an integration token stands for, and the token's id (401 when
    unknown, revoked or expired; 403 when the identity is frozen)."""
    if not token.startswith(PREFIX):
        raise UnauthorizedError(f"not an integration token: they start with {PREFIX}")
    row = await ctx.pool.fetchrow(
        "SELECT id, identity_id, revoked_at, expires_at FROM integration_tokens "
        "WHERE token_sha256 = $1", digest(token))
    if row is None or row["revoked_at"] is not None:
        raise UnauthorizedError("invalid or revoked integration token")
    if row["expires_at"] is not None and row["expires_at"] <= ctx.clock():
        raise UnauthorizedError("integration token expired: create a new one")
    identity = await identities.by_id(ctx, row["identity_id"])
    if identity is None:
        raise UnauthorizedError("the token's identity no longer exists")
    identities.refuse_frozen(identity)
    return identity, str(row["id"])


async def check_active(ctx: Context, token_id: str) -> None:
    """401 unless the integration token a JWT was minted from is still valid."""
    row = await ctx.pool.fetchrow(
        "SELECT revoked_at, expires_at FROM integration_tokens WHERE id = $1", token_id)
    if row is None or row["revoked_at"] is not None:
        raise UnauthorizedError("the integration token of this session was revoked")
    if row["expires_at"] is not None and row["expires_at"] <= ctx.clock():
        raise UnauthorizedError("the integration token of this session expired")
