"""An execution's output from the log stream (attune/worker/logs.py): what is there
now from an offset, or followed live until the execution has ended."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Any

from attune.api.models.workers import LogOut
from attune.api.queries import executions as reads
from attune.app.context import Context
from attune.domain.execution import Status
from attune.worker import logs
from attune.worker.logs import IDLE, Stream

#: Nothing came for this long: look whether the execution ended without an end marker
#: (its worker was lost, or it never ran).
IDLE_SECONDS = 1.0


def _text(data: bytes) -> str:
    return data.decode(errors="replace")


async def read(ctx: Context, execution_id: int, stream: Stream, offset: int) -> LogOut:
    execution = await reads.get(ctx.pool, execution_id)  # 404 for an unknown id
    found = await logs.read(ctx.store.js, execution_id, stream, offset=offset)
    return LogOut(execution_id=execution_id, stream=stream, offset=offset,
                  next_offset=found.next_offset, content=_text(found.data),
                  complete=found.end is not None or execution.status.terminal,
                  written=found.end.written if found.end else None,
                  truncated=found.end.truncated if found.end else False,
                  status=execution.status.value)


async def _status(ctx: Context, execution_id: int) -> Status:
    return (await reads.get(ctx.pool, execution_id)).status


async def follow(ctx: Context, execution_id: int, stream: Stream, offset: int
                 ) -> AsyncGenerator[tuple[str, dict[str, Any]], None]:
    """("chunk", {offset, next_offset, content}) as output comes, ("idle", {}) while none does, and
    finally ("end", {next_offset, written, truncated, status})."""
    await reads.get(ctx.pool, execution_id)  # 404 before the stream starts
    position = offset
    async for piece in logs.pieces(ctx.store.js, execution_id, stream, idle=IDLE_SECONDS):
        if piece is IDLE:
            status = await _status(ctx, execution_id)
            if status.terminal:  # ended, and no end marker came: there is no more
                yield "end", {"next_offset": position, "written": None, "truncated": False,
                              "status": status.value}
                return
            yield "idle", {}
            continue
        part = logs.from_offset(piece, position)
        if part:
            yield "chunk", {"offset": position, "next_offset": position + len(part),
                            "content": _text(part)}
            position += len(part)
        if piece.end is not None:
            yield "end", {"next_offset": position, "written": piece.end.written,
                          "truncated": piece.end.truncated,
                          "status": (await _status(ctx, execution_id)).value}
            return
