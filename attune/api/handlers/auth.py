"""`/auth/*` (not versioned, as in the original): log in, refresh, who am I."""

from __future__ import annotations

from aiohttp import web

from attune.api import envelopes
from attune.api.auth import caller_of
from attune.api.models import LoginRequest, RefreshRequest, TokenOut, UserOut
from attune.api.request_log import LOGIN
from attune.api.routing import AUTHENTICATED, PUBLIC, Call, Route
from attune.app import identities
from attune.app.context import Context
from attune.app.identities import Identity


def _user(identity: Identity) -> UserOut:
    return UserOut(id=identity.id, login=identity.login, display_name=identity.display_name)


def _tokens(ctx: Context, identity: Identity) -> TokenOut:
    issue = ctx.tokens.issue
    return TokenOut(access_token=issue(identity.id, identity.login, "access"),
                    refresh_token=issue(identity.id, identity.login, "refresh"),
                    expires_in=ctx.tokens.access_ttl, user=_user(identity))


async def login(call: Call) -> web.Response:
    body = call.body_as(LoginRequest)
    identity = await identities.authenticate(call.ctx, body.login, body.password)
    call.request[LOGIN] = identity.login
    return envelopes.single(_tokens(call.ctx, identity))


async def refresh(call: Call) -> web.Response:
    body = call.body_as(RefreshRequest)
    # the same checks as every request: frozen identities and revoked integration
    # tokens get no new tokens
    identity, claims = await caller_of(call.ctx, body.refresh_token, ("refresh",))
    call.request[LOGIN] = identity.login
    if claims.metadata.get("integration_token_id"):
        issue = call.ctx.tokens.issue
        return envelopes.single(TokenOut(
            access_token=issue(identity.id, identity.login, "access", scope=claims.scope,
                               metadata=claims.metadata),
            refresh_token=issue(identity.id, identity.login, "refresh", scope=claims.scope,
                                metadata=claims.metadata),
            expires_in=call.ctx.tokens.access_ttl, user=_user(identity)))
    return envelopes.single(_tokens(call.ctx, identity))


async def me(call: Call) -> web.Response:
    return envelopes.single(_user(call.user))


ROUTES = [
    Route("POST", "/auth/login", login, "Log in with login and password", PUBLIC, "auth",
          body=LoginRequest, response=TokenOut),
    Route("POST", "/auth/refresh", refresh, "Trade a refresh token for a new token pair",
          PUBLIC, "auth", body=RefreshRequest, response=TokenOut),
    Route("GET", "/auth/me", me, "The identity of the access token", AUTHENTICATED, "auth",
          response=UserOut),
]
