"""Who connects: `Authorization: Bearer <jwt>`, or for browsers (which cannot set headers
on a WebSocket) the subprotocols `attune.v1` + `attune.jwt.<jwt>`. A token in the query
string is refused (it would end up in logs and browser history). Access, execution and
sensor tokens are accepted; refresh tokens are not."""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web

from attune.api.auth import bearer_token, caller_of
from attune.app.context import Context
from attune.app.identities import Identity
from attune.errors import UnauthorizedError
from attune.security.tokens import Claims, TokenType

PROTOCOL = "attune.v1"
TOKEN_PROTOCOL = "attune.jwt."
ACCEPTED: tuple[TokenType, ...] = ("access", "execution", "sensor")
_QUERY_TOKENS = {"token", "access_token", "jwt", "auth", "authorization", "bearer"}


@dataclass(frozen=True)
class Caller:
    identity: Identity
    claims: Claims
    token: str


def token_of(request: web.Request) -> str:
    if _QUERY_TOKENS & {key.lower() for key in request.query}:
        raise UnauthorizedError(
            "tokens in the query string are refused: send 'Authorization: Bearer <token>' "
            f"or the subprotocols '{PROTOCOL}' and '{TOKEN_PROTOCOL}<token>'")
    if request.headers.get("Authorization"):
        return bearer_token(request)
    offered = [p.strip() for p in request.headers.get("Sec-WebSocket-Protocol", "").split(",")]
    tokens = [p[len(TOKEN_PROTOCOL):] for p in offered if p.startswith(TOKEN_PROTOCOL)]
    if tokens:
        if PROTOCOL not in offered:
            raise UnauthorizedError(f"a token sent as subprotocol needs the subprotocol "
                                    f"'{PROTOCOL}' too")
        if len(tokens) > 1 or not tokens[0]:
            raise UnauthorizedError(f"send exactly one '{TOKEN_PROTOCOL}<token>' subprotocol")
        return tokens[0]
    raise UnauthorizedError(
        "no token: send 'Authorization: Bearer <access token>' or the subprotocols "
        f"'{PROTOCOL}' and '{TOKEN_PROTOCOL}<access token>' (get a token from "
        "POST /auth/login)")


async def authenticate(ctx: Context, request: web.Request) -> Caller:
    return await check(ctx, token_of(request))


async def check(ctx: Context, token: str) -> Caller:
    """As the API checks a token: signature, expiry, type, the identity still there and
    not frozen, an integration token not revoked."""
    identity, claims = await caller_of(ctx, token, ACCEPTED)
    return Caller(identity, claims, token)
