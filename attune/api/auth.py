"""Who is calling: the bearer access token of a request, resolved to the identity it
names in the identities read model (loaded per request, so a removed or frozen
identity's tokens stop working at once)."""

from __future__ import annotations

from aiohttp import web

from attune.app import identities
from attune.app.context import Context
from attune.app.identities import Identity
from attune.errors import UnauthorizedError
from attune.security.tokens import Claims, TokenType

LOGIN_HINT = "get one from POST /auth/login"


def bearer_token(request: web.Request) -> str:
    header = request.headers.get("Authorization")
    if not header:
        raise UnauthorizedError(
            f"missing Authorization header: send 'Authorization: Bearer <access token>' "
            f"({LOGIN_HINT})")
    scheme, _, token = header.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise UnauthorizedError(
            f"Authorization header must be 'Bearer <access token>' ({LOGIN_HINT})")
    return token


async def identity_of(ctx: Context, token: str) -> Identity:
    """The identity an access token stands for; 401 for anything else."""
    identity, _ = await caller_of(ctx, token, ("access",))
    return identity


async def caller_of(ctx: Context, token: str, accept: tuple[TokenType, ...]
                    ) -> tuple[Identity, Claims]:
    """The identity a token of one of the `accept`ed types stands for, and its claims
    (a sensor token's `metadata.trigger_types` narrows what it may do)."""
    claims = ctx.tokens.verify(token, expect=accept)
    identity = await identities.by_id(ctx, claims.sub)
    if identity is None:
        raise UnauthorizedError("the token's identity no longer exists: log in again")
    identities.refuse_frozen(identity)
    return identity, claims


async def authenticate(ctx: Context, request: web.Request,
                       accept: tuple[TokenType, ...] = ("access",)
                       ) -> tuple[Identity, Claims]:
    return await caller_of(ctx, bearer_token(request), accept)
