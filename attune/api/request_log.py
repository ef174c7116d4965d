"""One structured log line per request (method, path, status, duration, request id).

The request id comes from `X-Request-Id` when the client sends a sane one, else it
is generated; it is echoed in the answer, bound to every log line written while the
request runs, and becomes the correlation id of the events the request appends.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from uuid import uuid4

from aiohttp import web
from aiohttp.typedefs import Handler

import attune.log as log

REQUEST_ID_HEADER = "X-Request-Id"
REQUEST_ID = web.RequestKey("request_id", str)
#: who the request acts for, once known (logged with the request)
LOGIN = web.RequestKey("login", str)
#: the caller's token type and identity id, once known (for the audit record)
TOKEN_TYPE = web.RequestKey("token_type", str)
IDENTITY_ID = web.RequestKey("identity_id", int)
#: takes every finished request (request, status, duration in ms): the audit trail
Observer = Callable[[web.Request, int, float], None]
AUDIT_OBSERVER: web.AppKey[Observer] = web.AppKey("audit_observer")
# echoed into headers and logs: refuse anything that could forge a line or a header
_SANE_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
_log = log.get("api")


def request_id_of(request: web.Request) -> str:
    given = request.headers.get(REQUEST_ID_HEADER, "")
    return given if _SANE_ID.match(given) else uuid4().hex


@web.middleware
async def request_log_middleware(request: web.Request, handler: Handler
                                 ) -> web.StreamResponse:
    request_id = request_id_of(request)
    request[REQUEST_ID] = request_id
    started = time.perf_counter()
    status = 500
    with log.bound(request_id=request_id):
        try:
            response = await handler(request)
            status = response.status
            response.headers[REQUEST_ID_HEADER] = request_id
            return response
        finally:
            duration_ms = round((time.perf_counter() - started) * 1000, 2)
            _log.info("http.request", method=request.method, path=request.path,
                      status=status, duration_ms=duration_ms, identity=request.get(LOGIN))
            observer = request.app.get(AUDIT_OBSERVER)
            if observer is not None:
                observer(request, status, duration_ms)
