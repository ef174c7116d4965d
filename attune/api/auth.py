"""Who is calling: the bearer token of a request, resolved to the identity it names in
the identities read model (loaded per request, so a removed or frozen identity's
tokens, and the sessions of a revoked integration token, stop working at once).

An execution token stands for its execution, not for whoever requested it (a rule, the
system, a user): the identity returned for it holds only the grants of the permission
sets its action was granted (`metadata.permission_set_refs`; `core.execution` when the
token names none), never the requester's."""

from __future__ import annotations

from aiohttp import web

from attune.app import identities, integration_tokens, permissions
from attune.app.context import Context
from attune.app.identities import Identity
from attune.errors import UnauthorizedError
from attune.security.tokens import Claims, TokenType

LOGIN_HINT = "get one from POST /auth/login"
#: the grants of an execution token that names no permission sets
DEFAULT_EXECUTION_SETS = ("core.execution",)


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
    if claims.token_type == "execution":
        return await as_execution(ctx, claims), claims
    identity = await identities.by_id(ctx, claims.sub)
    if identity is None:
        raise UnauthorizedError("the token's identity no longer exists: log in again")
    identities.refuse_frozen(identity)
    await check_session(ctx, claims)
    return identity, claims


async def check_session(ctx: Context, claims: Claims) -> None:
    """Tokens minted from an integration token die with it."""
    token_id = claims.metadata.get("integration_token_id")
    if claims.scope == integration_tokens.SCOPE or token_id is not None:
        await integration_tokens.check_active(ctx, str(token_id))


async def as_execution(ctx: Context, claims: Claims) -> Identity:
    refs = claims.metadata.get("permission_set_refs", list(DEFAULT_EXECUTION_SETS))
    if not isinstance(refs, list) or not all(isinstance(r, str) for r in refs):
        raise UnauthorizedError("invalid execution token: bad permission_set_refs")
    grants = await permissions.grants_of_sets(ctx, refs)
    return Identity(id=claims.sub, login=claims.login, display_name=claims.login,
                    permission_set_refs=list(refs), set_grants=grants)


async def authenticate(ctx: Context, request: web.Request,
                       accept: tuple[TokenType, ...] = ("access",)
                       ) -> tuple[Identity, Claims]:
    return await caller_of(ctx, bearer_token(request), accept)
