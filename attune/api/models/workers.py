"""Workers (who runs actions, where executions may go) and action output (logs)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from attune.api.models.base import Query, Request, Response

# -- logs ---------------------------------------------------------------------------------


class LogPath(Query):
    id: int = Field(ge=1, le=2**63 - 1, description="execution id")
    stream: Literal["stdout", "stderr"] = Field(description="stdout or stderr")


class LogQuery(Query):
    offset: int = Field(default=0, ge=0, le=2**62,
                        description="byte offset to start from (the `next_offset` of a "
                                    "previous read continues it)")
    follow: bool = Field(default=False,
                         description="stream as server-sent events (`chunk` events, then "
                                     "one `end`) until the execution has ended; also chosen "
                                     "by `Accept: text/event-stream`")


class LogOut(Response):
    execution_id: int
    stream: Literal["stdout", "stderr"]
    offset: int = Field(description="byte offset of `content`")
    next_offset: int = Field(description="where a next read continues")
    content: str = Field(description="the output from `offset` (UTF-8, invalid bytes "
                                     "replaced)")
    complete: bool = Field(description="the action ended and this is all of its output")
    written: int | None = Field(description="bytes the action wrote, once it ended")
    truncated: bool = Field(description="the action wrote more than the per-stream cap; "
                                        "the rest was dropped")
    status: str = Field(description="the execution's status when read")


# -- workers ------------------------------------------------------------------------------


class WorkerPath(Query):
    name: str = Field(min_length=1, max_length=255, description="worker name")


class WorkerOut(Response):
    name: str
    alive: bool = Field(description="its heartbeat is recent")
    cordoned: bool = Field(description="takes no new executions")
    cordoned_by: str | None = None
    cordon_reason: str | None = None
    runtimes: dict[str, str | None] = Field(
        description="runtime -> version it offers (None when not found)")
    labels: dict[str, str]
    running: int
    concurrency: int | None = None
    last_seen: datetime | None


class CordonRequest(Request):
    reason: str = Field(default="", max_length=500,
                        description="why (shown by `attune worker list`)")
