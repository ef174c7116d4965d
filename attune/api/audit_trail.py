"""The API's side of the audit trail: one `RequestRecord` per finished request, handed
to the `RequestAuditor` (which publishes them in batches, off the request path).

A record names the route template (`/api/v1/keys/{ref}`), the ref or id in the path,
the caller, its token type, the route's `resource:action`, the status and outcome —
never a body, a query string or a secret path segment (a webhook's key)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Sequence
from datetime import UTC, datetime

from aiohttp import web

from attune.api.request_log import (
    AUDIT_OBSERVER,
    IDENTITY_ID,
    LOGIN,
    REQUEST_ID,
    TOKEN_TYPE,
)
from attune.api.routing import Permission, Route
from attune.app.audit import RequestAuditor
from attune.app.context import Context
from attune.domain.audit import RequestRecord, outcome_of

#: path placeholders that name the object of a request (the first one present wins)
OBJECT_PLACEHOLDERS = ("ref", "id", "request_id", "login", "token_id")
AUDITOR = web.AppKey("request_auditor", RequestAuditor)


def observer(routes: Sequence[Route], auditor: RequestAuditor
             ) -> Callable[[web.Request, int, float], None]:
    by_route = {(r.method, r.path): r for r in routes}

    def observe(request: web.Request, status: int, duration_ms: float) -> None:
        info = request.match_info
        template = info.route.resource.canonical if info.route.resource else None
        route = by_route.get((request.method, template)) if template else None
        guard = route.guard if route is not None else None
        ref = next((info[name] for name in OBJECT_PLACEHOLDERS if name in info), None)
        auditor.record(RequestRecord(
            at=datetime.now(UTC), request_id=request.get(REQUEST_ID, ""),
            method=request.method, route=route.path if route else "(no route)",
            status=status, outcome=outcome_of(status), duration_ms=duration_ms,
            actor=request.get(LOGIN), actor_id=request.get(IDENTITY_ID),
            token_type=request.get(TOKEN_TYPE),
            resource=guard.resource if isinstance(guard, Permission) else
            ("auth" if route is not None and route.path.startswith("/auth") else None),
            action=guard.action if isinstance(guard, Permission) else None,
            resource_ref=ref[:255] if ref else None))
    return observe


def install(app: web.Application, ctx: Context, routes: Sequence[Route]) -> None:
    """Record every request of `app` (its auditor runs as long as the app)."""
    auditor = RequestAuditor(ctx)
    app[AUDITOR] = auditor
    app[AUDIT_OBSERVER] = observer(routes, auditor)

    async def running(app: web.Application) -> AsyncIterator[None]:
        stop = asyncio.Event()
        task = asyncio.create_task(auditor.run(stop))
        yield
        stop.set()  # the auditor flushes what is left before it ends
        with contextlib.suppress(asyncio.CancelledError, TimeoutError):
            await asyncio.wait_for(task, 5)

    app.cleanup_ctx.append(running)
