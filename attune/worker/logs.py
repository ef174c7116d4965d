"""Live action output: the stream ATTUNE_LOGS, written by workers, read by the API.

Each execution's stdout and stderr go, while the action runs, as chunks of at most
`CHUNK` bytes to `attune.log.<execution_id>.<stdout|stderr>`. A chunk's header
`Attune-Log-Offset` is the byte offset of its first byte, so a reader can start
anywhere. The last chunk (empty when there is nothing more) is the end marker: header
`Attune-Log-End` = the bytes the action wrote, `Attune-Log-Truncated` when that exceeded
the cap and the rest was dropped. A stream the action wrote nothing to has no message at
all (two publishes fewer per quiet execution). Without an end marker a stream is still
being written, or was empty, or its worker died: readers then go by the execution's status.

Output is capped per stream (`Settings.output_cap_bytes`, default 10 MB): what the
action writes beyond it is counted but neither kept nor published.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Literal

from nats.js import JetStreamContext
from nats.js.api import DeliverPolicy
from nats.js.errors import NotFoundError

import attune.log as log
from attune.errors import UnavailableError

LOG_STREAM = "ATTUNE_LOGS"
Stream = Literal["stdout", "stderr"]
STREAMS: tuple[Stream, ...] = ("stdout", "stderr")
OFFSET_HEADER = "Attune-Log-Offset"
END_HEADER = "Attune-Log-End"
TRUNCATED_HEADER = "Attune-Log-Truncated"
#: Bytes per published chunk (well below the stream's max_msg_size).
CHUNK = 64 * 1024
#: A writer publishes what it has at least this often: "live" means within 100 ms.
FLUSH_SECONDS = 0.1
DEFAULT_CAP = 10 * 1024 * 1024
PUBLISH_ATTEMPTS = 3

_log = log.get("logs")


def subject(execution_id: int, stream: Stream) -> str:
    return f"attune.log.{execution_id}.{stream}"


# -- writing ----------------------------------------------------------------------------


@dataclass
class _Pending:
    kept: bytearray = field(default_factory=bytearray)  # everything kept, up to the cap
    published: int = 0  # bytes of `kept` already published
    written: int = 0    # bytes the action wrote (also beyond the cap)


class LogWriter:
    """Publishes one execution's output in order, in the background, while it runs.

    `write` never blocks the reading of the action's pipes; a flusher task publishes
    every `FLUSH_SECONDS`. Publishing failures (NATS away) are logged and skipped: the
    execution's result still carries the beginning of its output."""

    def __init__(self, js: JetStreamContext | None, execution_id: int, *,
                 cap: int = DEFAULT_CAP) -> None:
        self.js = js
        self.execution_id = execution_id
        self.cap = cap
        self.streams: dict[Stream, _Pending] = {s: _Pending() for s in STREAMS}
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def write(self, stream: Stream, data: bytes) -> None:
        pending = self.streams[stream]
        room = self.cap - len(pending.kept)
        if room > 0:
            pending.kept += data[:room]
        pending.written += len(data)
        if len(pending.kept) - pending.published >= CHUNK:
            self._wake.set()

    def kept(self, stream: Stream) -> bytes:
        return bytes(self.streams[stream].kept)

    def written(self, stream: Stream) -> int:
        return self.streams[stream].written

    def truncated(self, stream: Stream) -> bool:
        return self.streams[stream].written > self.cap

    def start(self) -> None:
        if self.js is not None and self._task is None:
            self._task = asyncio.create_task(self._flush_forever())

    async def close(self) -> None:
        """Publish the rest, the last chunk carrying the end marker (before the outcome
        is appended, so a reader that sees the execution ended finds all of it)."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self.js is not None:
            await asyncio.gather(*(self._flush(stream, final=True) for stream in STREAMS))

    async def _flush_forever(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), FLUSH_SECONDS)
            self._wake.clear()
            for stream in STREAMS:
                await self._flush(stream, final=False)

    async def _flush(self, stream: Stream, *, final: bool) -> None:
        pending = self.streams[stream]
        if pending.written == 0:
            return  # nothing to tell: readers learn the end from the execution's status
        while pending.published < len(pending.kept) or final:
            start = pending.published
            chunk = bytes(pending.kept[start:start + CHUNK])
            headers = {OFFSET_HEADER: str(start),
                       "Nats-Msg-Id": f"log:{self.execution_id}:{stream}:{start}"}
            last = final and start + len(chunk) == len(pending.kept)
            if last:
                headers.update({END_HEADER: str(pending.written),
                                TRUNCATED_HEADER: "true" if self.truncated(stream) else "false",
                                "Nats-Msg-Id": f"log:{self.execution_id}:{stream}:end"})
            await self._publish(stream, chunk, headers)
            pending.published = start + len(chunk)
            if last:
                return

    async def _publish(self, stream: Stream, data: bytes, headers: dict[str, str]) -> None:
        assert self.js is not None
        for attempt in range(1, PUBLISH_ATTEMPTS + 1):
            try:
                # a retry of a chunk the server did store is dropped by its Nats-Msg-Id
                await self.js.publish(subject(self.execution_id, stream), data,
                                      stream=LOG_STREAM, headers=dict(headers))
                return
            except Exception as exc:  # live output is best effort; the outcome is not
                _log.warning("logs.publish_failed", execution_id=self.execution_id,
                             stream=stream, attempt=attempt, error=repr(exc))


async def capture(reader: asyncio.StreamReader, stream: Stream, writer: LogWriter) -> None:
    """Copy a child's pipe into `writer` until the child closes it."""
    while chunk := await reader.read(CHUNK):
        writer.write(stream, chunk)


# -- reading ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Piece:
    """Output from `offset` on; `end` is set by the end marker."""

    offset: int
    data: bytes
    end: LogEnd | None = None


@dataclass(frozen=True)
class LogEnd:
    written: int
    truncated: bool


#: What `pieces(idle=...)` yields when nothing came for a while.
IDLE = Piece(offset=-1, data=b"")


@dataclass(frozen=True)
class LogRead:
    offset: int
    data: bytes
    end: LogEnd | None

    @property
    def next_offset(self) -> int:
        return self.offset + len(self.data)


async def _last_seq(js: JetStreamContext, execution_id: int, stream: Stream) -> int | None:
    try:
        last = await js.get_last_msg(LOG_STREAM, subject(execution_id, stream), direct=True)
    except NotFoundError:
        return None
    return last.seq


def _piece(headers: dict[str, str] | None, data: bytes) -> Piece | None:
    headers = headers or {}
    if OFFSET_HEADER not in headers:
        return None
    end = (LogEnd(written=int(headers[END_HEADER]),
                  truncated=headers.get(TRUNCATED_HEADER) == "true")
           if END_HEADER in headers else None)
    return Piece(offset=int(headers[OFFSET_HEADER]), data=data, end=end)


async def pieces(js: JetStreamContext, execution_id: int, stream: Stream, *,
                 until_seq: int | None = None, idle: float | None = None
                 ) -> AsyncIterator[Piece]:
    """The chunks of one stream in order, from the first. With `until_seq` it stops
    after that stream sequence; with `idle` it yields an empty Piece whenever nothing
    came for that long (a follower's chance to look at the execution)."""
    sub = await js.subscribe(subject(execution_id, stream), stream=LOG_STREAM,
                             ordered_consumer=True, deliver_policy=DeliverPolicy.ALL)
    try:
        while True:
            try:
                msg = await sub.next_msg(timeout=idle if idle is not None else 5.0)
            except TimeoutError:
                if idle is None:
                    raise
                yield IDLE
                continue
            piece = _piece(msg.headers, msg.data)
            if piece is not None:
                yield piece
            if piece is not None and piece.end is not None:
                return
            if until_seq is not None and msg.metadata.sequence.stream >= until_seq:
                return
    finally:
        with contextlib.suppress(Exception):
            await sub.unsubscribe()


def from_offset(piece: Piece, offset: int) -> bytes:
    """The part of `piece` at or after `offset`."""
    if piece.offset + len(piece.data) <= offset:
        return b""
    return piece.data[max(0, offset - piece.offset):]


async def read(js: JetStreamContext, execution_id: int, stream: Stream, *,
               offset: int = 0) -> LogRead:
    """What is stored now, from `offset` (bytes) on."""
    last = await _last_seq(js, execution_id, stream)
    if last is None:
        return LogRead(offset=offset, data=b"", end=None)
    parts: list[bytes] = []
    position = offset
    end: LogEnd | None = None
    try:
        async for piece in pieces(js, execution_id, stream, until_seq=last):
            part = from_offset(piece, position)
            parts.append(part)
            position += len(part)
            end = piece.end or end
    except TimeoutError:
        raise UnavailableError(f"reading the {stream} of execution {execution_id} from "
                               f"{LOG_STREAM} timed out: try again") from None
    return LogRead(offset=offset, data=b"".join(parts), end=end)
