"""Turns a Route into an aiohttp handler. The order is the contract every route gets:
authenticate, authorize (the one check point), parse path/query/body, honour
X-Attune-After-Sequence on reads, then run the handler."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from uuid import uuid4

from aiohttp import web
from pydantic import BaseModel

from attune.api import row_access
from attune.api.auth import authenticate
from attune.api.consistency import READ_WAIT_SECONDS, ProjectionWaiter
from attune.api.parsing import model_from, parse_json, query_dict, read_body
from attune.api.request_log import IDENTITY_ID, LOGIN, REQUEST_ID, TOKEN_TYPE
from attune.api.routing import PUBLIC, Call, Permission, Route
from attune.app.authorization import authorize
from attune.app.context import Context
from attune.errors import BadRequestError, UnavailableError, ValidationError
from attune.eventstore.envelope import Meta

CONTEXT = web.AppKey("context", Context)
WAITER = web.AppKey("waiter", ProjectionWaiter)

AFTER_SEQUENCE_HEADER = "X-Attune-After-Sequence"

AiohttpHandler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def endpoint(route: Route) -> AiohttpHandler:
    async def handle(request: web.Request) -> web.StreamResponse:
        ctx = request.app[CONTEXT]
        waiter = request.app[WAITER]
        identity = claims = None
        if route.guard != PUBLIC:
            identity, claims = await authenticate(ctx, request, route.accepted_tokens)
            request[LOGIN] = identity.login
            request[TOKEN_TYPE], request[IDENTITY_ID] = claims.token_type, identity.id
            if isinstance(route.guard, Permission):
                authorize(identity, route.guard.resource, route.guard.action,
                          token_type=claims.token_type)
        path = _path(route, request)
        query = _query(route, request)
        body = await _body(route, request, ctx.settings.max_body_bytes)
        if identity is not None and claims is not None and isinstance(route.guard, Permission):
            # the object the request names, against the grants' constraints
            row_access.check_request(identity, route.guard.resource, route.guard.action,
                                     route.path, path, body, claims.token_type)
        if request.method == "GET":
            await wait_after_sequence(request, waiter)
        meta = Meta(correlation_id=request.get(REQUEST_ID) or uuid4().hex,
                    actor=identity.login if identity else None)
        response = await route.handler(Call(request=request, ctx=ctx, waiter=waiter,
                                            meta=meta, identity=identity, claims=claims,
                                            body=body, query=query, path=path))
        if (identity is not None and claims is not None and route.envelope == "list"
                and isinstance(route.guard, Permission)):
            # lists show only what the caller may read
            return row_access.filter_list(identity, route.guard.resource, response,
                                          claims.token_type)
        return response

    handle.__name__ = route.operation_id
    return handle


def _path(route: Route, request: web.Request) -> BaseModel | None:
    if route.params is None:
        return None
    return model_from(route.params, dict(request.match_info), "path")


def _query(route: Route, request: web.Request) -> BaseModel | None:
    if route.query is None:
        if request.query:
            names = ", ".join(sorted(set(request.query.keys())))
            raise ValidationError(f"invalid query string: this operation takes no query "
                                  f"parameters (got {names})",
                                  details=[{"field": n, "in": "query",
                                            "message": "unknown query parameter"}
                                           for n in sorted(set(request.query.keys()))])
        return None
    return model_from(route.query, query_dict(request.query), "query")


async def _body(route: Route, request: web.Request, limit: int) -> BaseModel | None:
    if route.body is None:
        return None
    return model_from(route.body, parse_json(await read_body(request, limit)), "body")


async def wait_after_sequence(request: web.Request, waiter: ProjectionWaiter) -> None:
    raw = request.headers.get(AFTER_SEQUENCE_HEADER)
    if raw is None:
        return
    try:
        seq = int(raw.strip())
    except ValueError:
        seq = -1
    if seq < 0:
        raise BadRequestError(f"{AFTER_SEQUENCE_HEADER} must be a non-negative integer "
                              f"(a value of X-Attune-Sequence), got {raw[:40]!r}")
    if not await waiter.wait_for(seq, READ_WAIT_SECONDS):
        raise UnavailableError(
            f"read model not caught up: projections are at sequence {waiter.position}, "
            f"{AFTER_SEQUENCE_HEADER} asks for {seq}; retry shortly (is the projector "
            "running?)")
