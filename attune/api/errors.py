"""The one place errors become HTTP answers: AttuneError by its code and status,
aiohttp's own 404/405/413, and anything unexpected as a 500 that is logged with its
traceback but never shows its message to the client."""

from __future__ import annotations

import asyncio

import asyncpg
import nats.errors
import nats.js.errors
from aiohttp import web
from aiohttp.typedefs import Handler

import attune.log as log
from attune.api import envelopes
from attune.api.request_log import REQUEST_ID
from attune.errors import AttuneError, UnavailableError

_log = log.get("api")

#: codes of aiohttp's own HTTP errors (raised before or around our handlers)
HTTP_CODES = {400: "BAD_REQUEST", 401: "UNAUTHORIZED", 403: "FORBIDDEN", 404: "NOT_FOUND",
              405: "METHOD_NOT_ALLOWED", 409: "CONFLICT", 413: "PAYLOAD_TOO_LARGE",
              415: "UNSUPPORTED_MEDIA_TYPE", 422: "VALIDATION_ERROR",
              429: "TOO_MANY_REQUESTS", 503: "SERVICE_UNAVAILABLE"}


NATS_DOWN = (nats.js.errors.ServiceUnavailableError, nats.errors.TimeoutError,
             nats.errors.NoRespondersError, nats.errors.ConnectionClosedError,
             nats.errors.ConnectionReconnectingError, nats.errors.NoServersError,
             nats.errors.OutboundBufferLimitError)
POSTGRES_DOWN = (asyncpg.PostgresConnectionError, asyncpg.CannotConnectNowError,
                 asyncpg.TooManyConnectionsError, asyncpg.ConnectionDoesNotExistError,
                 ConnectionError)


def infrastructure(exc: Exception) -> AttuneError | None:
    """Failures of the servers behind the API that a client can act on: retry later."""
    if isinstance(exc, NATS_DOWN):
        return UnavailableError("the event store (NATS JetStream) is not available: "
                                "retry shortly")
    if isinstance(exc, POSTGRES_DOWN):
        return UnavailableError("the read model (PostgreSQL) is not available: retry shortly")
    return None


def from_attune(exc: AttuneError) -> web.Response:
    headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
    return envelopes.error(exc.status, exc.code, exc.message, exc.details, headers)


def from_http(request: web.Request, exc: web.HTTPException) -> web.Response:
    status = exc.status
    if status == 404:
        message = (f"no route {request.method} {request.path}: the operations are listed "
                   "at /docs")
    elif status == 405:
        allowed = ", ".join(sorted(getattr(exc, "allowed_methods", ()) or ()))
        message = f"{request.method} is not allowed on {request.path} (allowed: {allowed})"
    else:
        message = exc.text or exc.reason
    headers = {k: v for k, v in exc.headers.items() if k.lower() == "allow"}
    return envelopes.error(status, HTTP_CODES.get(status, "BAD_REQUEST" if status < 500
                                                  else "INTERNAL_SERVER_ERROR"),
                           message, headers=headers or None)


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except AttuneError as exc:
        if exc.status >= 500:
            _log.warning("http.unavailable", error=exc.message)
        return from_attune(exc)
    except web.HTTPException as exc:
        if exc.status < 400:  # redirects and the like are answers, not errors
            raise
        return from_http(request, exc)
    except asyncio.CancelledError:
        raise
    except Exception as exc:
        known = infrastructure(exc)
        if known is not None:
            _log.warning("http.infrastructure", error=repr(exc), status=known.status)
            return from_attune(known)
        _log.exception("http.unhandled", method=request.method, path=request.path)
        request_id = request.get(REQUEST_ID, "")
        return envelopes.error(500, "INTERNAL_SERVER_ERROR",
                               f"internal server error (request id {request_id}); "
                               "the server log has the details")
