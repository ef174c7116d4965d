"""Self-service `/auth/*` routes beside login: register (when enabled), change one's
password, and trade an integration token for JWTs."""

from __future__ import annotations

from aiohttp import web

from attune.api import envelopes
from attune.api.handlers.auth import _user
from attune.api.models import TokenOut
from attune.api.models.identities import (
    ChangePasswordRequest,
    MessageOut,
    RegisterRequest,
    TokenLoginRequest,
)
from attune.api.request_log import LOGIN
from attune.api.routing import AUTHENTICATED, PUBLIC, Call, Route
from attune.app import identities, integration_tokens
from attune.errors import ForbiddenError, NotFoundError


async def register(call: Call) -> web.Response:
    if not call.ctx.settings.allow_registration:
        raise ForbiddenError("registration is disabled: an administrator creates "
                             "identities (or sets ATTUNE_ALLOW_REGISTRATION=true)")
    body = call.body_as(RegisterRequest)
    seq = await identities.create(call.ctx, body.login, body.password,
                                  display_name=body.display_name, meta=call.meta)
    await call.waiter.wait_for(seq, 5.0)
    identity = await identities.by_id(call.ctx, seq)
    if identity is None:
        raise NotFoundError("registered, but not readable yet: log in in a moment")
    call.request[LOGIN] = identity.login
    issue = call.ctx.tokens.issue
    return envelopes.single(TokenOut(
        access_token=issue(identity.id, identity.login, "access"),
        refresh_token=issue(identity.id, identity.login, "refresh"),
        expires_in=call.ctx.tokens.access_ttl, user=_user(identity)), status=201)


async def change_password(call: Call) -> web.Response:
    body = call.body_as(ChangePasswordRequest)
    seq = await identities.change_password(call.ctx, call.user, body.current_password,
                                           body.new_password, meta=call.meta)
    return envelopes.json_response(
        {"data": envelopes.dump(MessageOut(message="password changed"))},
        headers={envelopes.SEQUENCE_HEADER: str(seq)})


async def token_login(call: Call) -> web.Response:
    body = call.body_as(TokenLoginRequest)
    identity, token_id = await integration_tokens.authenticate(call.ctx, body.token)
    call.request[LOGIN] = identity.login
    issue = call.ctx.tokens.issue
    metadata = {"integration_token_id": token_id}
    return envelopes.single(TokenOut(
        access_token=issue(identity.id, identity.login, "access",
                           scope=integration_tokens.SCOPE, metadata=metadata),
        refresh_token=issue(identity.id, identity.login, "refresh",
                            scope=integration_tokens.SCOPE, metadata=metadata),
        expires_in=call.ctx.tokens.access_ttl, user=_user(identity)))


ROUTES = [
    Route("POST", "/auth/register", register,
          "Create an identity and log it in (only when ATTUNE_ALLOW_REGISTRATION is on)",
          PUBLIC, "auth", body=RegisterRequest, response=TokenOut, status=201),
    Route("POST", "/auth/change-password", change_password,
          "Change the caller's password (the current one is required)", AUTHENTICATED,
          "auth", body=ChangePasswordRequest, response=MessageOut, command=True),
    Route("POST", "/auth/token-login", token_login,
          "Trade an integration token (attune_it_...) for an access and a refresh token",
          PUBLIC, "auth", body=TokenLoginRequest, response=TokenOut),
]
