"""An execution's output: read it (from an offset), or follow it live as server-sent
events until the execution has ended."""

from __future__ import annotations

import orjson
from aiohttp import web

from attune.api import envelopes
from attune.api.models.workers import LogOut, LogPath, LogQuery
from attune.api.queries import logs as reads
from attune.api.routing import Call, Permission, Route

EVENT_STREAM = "text/event-stream"


def _wants_events(call: Call, query: LogQuery) -> bool:
    return query.follow or EVENT_STREAM in call.request.headers.get("Accept", "")


def _resume_offset(call: Call, offset: int) -> int:
    """A reconnecting EventSource sends the id of the last event it got: our offset."""
    last = call.request.headers.get("Last-Event-ID", "")
    return int(last) if last.isdigit() else offset


async def execution_logs(call: Call) -> web.StreamResponse:
    path, query = call.path_as(LogPath), call.query_as(LogQuery)
    if not _wants_events(call, query):
        return envelopes.single(await reads.read(call.ctx, path.id, path.stream, query.offset))
    events = reads.follow(call.ctx, path.id, path.stream, _resume_offset(call, query.offset))
    first = await anext(events)  # errors (404) before the 200 is sent
    response = web.StreamResponse(headers={"Content-Type": EVENT_STREAM,
                                           "Cache-Control": "no-cache",
                                           "X-Accel-Buffering": "no"})
    await response.prepare(call.request)
    try:
        item: tuple[str, dict[str, object]] | None = first
        while item is not None:
            name, data = item
            if name == "idle":
                await response.write(b": waiting\n\n")  # keeps proxies from timing out
            else:
                # the id is where a reconnection resumes (Last-Event-ID)
                await response.write(f"event: {name}\nid: {data['next_offset']}\ndata: "
                                     .encode()
                                     + orjson.dumps(data) + b"\n\n")
            item = await anext(events, None)
    except (ConnectionResetError, ConnectionError):
        pass  # the client went away
    finally:
        await events.aclose()
    return response


ROUTES = [
    Route("GET", "/api/v1/executions/{id}/logs/{stream}", execution_logs,
          "An execution's stdout or stderr as stored so far (from `offset`), or, with "
          "`follow=true` or `Accept: text/event-stream`, followed live as server-sent "
          "events (`chunk` {offset, next_offset, content}, then `end` {next_offset, written, "
          "truncated, "
          "status}) until the execution has ended",
          Permission("executions", "read"), "executions", params=LogPath, query=LogQuery,
          response=LogOut),
]
