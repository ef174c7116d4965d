"""Sensor output: what a managed sensor's process (and a poll sensor's runs) write, and
what the sensor service says about them (started, exited, restarting...), as lines on
`attune.log.sensor.<ref>` of ATTUNE_LOGS — shared by every replica, kept a week (the
stream's limits), read by `GET /api/v1/sensors/{ref}/logs`.

One message carries the lines written within `FLUSH_SECONDS` (at most `MAX_BATCH`, and
about `MAX_MESSAGE_BYTES`): `{"lines": [{"at", "stream", "text"}]}`. A line longer than
`MAX_LINE` characters is cut.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

import orjson
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from nats.js.errors import FetchTimeoutError

import attune.log as log
from attune.eventstore.subjects import token

LOG_STREAM = "ATTUNE_LOGS"
LineStream = Literal["stdout", "stderr", "service"]
FLUSH_SECONDS = 0.2
MAX_BATCH = 500
MAX_LINE = 16 * 1024
MAX_MESSAGE_BYTES = 512 * 1024
#: A reader looks at this many messages at most (the newest lines are what it keeps).
MAX_READ_MESSAGES = 20_000

_log = log.get("sensor.logs")


def subject(sensor_ref: str) -> str:
    return f"attune.log.sensor.{token(sensor_ref)}"


@dataclass(frozen=True)
class LogLine:
    at: datetime
    stream: LineStream
    text: str

    def as_dict(self) -> dict[str, str]:
        return {"at": self.at.isoformat(), "stream": self.stream, "text": self.text}


class SensorLog:
    """Collects one sensor's lines and publishes them in the background; `close` flushes.
    Publishing failures (NATS away) are logged and the lines dropped: a sensor never
    waits for its log."""

    def __init__(self, js: JetStreamContext, sensor_ref: str) -> None:
        self.js = js
        self.sensor_ref = sensor_ref
        self.subject = subject(sensor_ref)
        self._pending: list[LogLine] = []
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._closed = False

    def write(self, stream: LineStream, text: str) -> None:
        text = text.rstrip("\r\n")
        if len(text) > MAX_LINE:
            text = text[:MAX_LINE] + " …[cut]"
        self._pending.append(LogLine(datetime.now(UTC), stream, text))
        if self._task is None and not self._closed:
            self._task = asyncio.create_task(self._flusher())
        if len(self._pending) >= MAX_BATCH:
            self._wake.set()

    def service(self, text: str) -> None:
        """A line of the sensor service about this sensor."""
        self.write("service", text)

    async def _flusher(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), FLUSH_SECONDS)
            self._wake.clear()
            await self.flush()

    async def flush(self) -> None:
        while self._pending:
            # a message stays well under the stream's 1 MiB max_msg_size
            count, size = 0, 0
            for line in self._pending[:MAX_BATCH]:
                if size >= MAX_MESSAGE_BYTES:
                    break
                count += 1
                size += len(line.text) * 4 + 64  # utf-8: at most 4 bytes a character
            batch, self._pending = self._pending[:count], self._pending[count:]
            data = orjson.dumps({"lines": [line.as_dict() for line in batch]})
            try:
                await self.js.publish(self.subject, data, stream=LOG_STREAM)
            except Exception as exc:
                _log.warning("sensor.log.publish_failed", sensor_ref=self.sensor_ref,
                             error=repr(exc), lines=len(batch))

    async def close(self) -> None:
        self._closed = True
        if self._task is not None:
            self._task.cancel()
            await asyncio.wait([self._task])
            self._task = None
        await self.flush()


async def read(js: JetStreamContext, sensor_ref: str, *, since: timedelta, limit: int,
               stream: LineStream | None = None) -> tuple[list[LogLine], bool]:
    """The newest `limit` lines written within `since` (oldest first), and whether
    older lines of that window were left out."""
    start = datetime.now(UTC) - since
    config = ConsumerConfig(deliver_policy=DeliverPolicy.BY_START_TIME,
                            opt_start_time=start, ack_policy=AckPolicy.NONE,
                            inactive_threshold=10.0, mem_storage=True)
    sub = await js.pull_subscribe(subject(sensor_ref), stream=LOG_STREAM, config=config)
    lines: list[LogLine] = []
    dropped = False
    seen = 0
    try:
        while seen < MAX_READ_MESSAGES:
            try:
                msgs = await sub.fetch(256, timeout=0.3)
            except (FetchTimeoutError, TimeoutError):
                break
            for msg in msgs:
                seen += 1
                for raw in orjson.loads(msg.data).get("lines", []):
                    if stream is not None and raw.get("stream") != stream:
                        continue
                    lines.append(LogLine(datetime.fromisoformat(raw["at"]), raw["stream"],
                                         raw["text"]))
                if len(lines) > limit:
                    dropped = True
                    del lines[:-limit]
            if msgs and msgs[-1].metadata.num_pending == 0:
                break
    finally:
        with contextlib.suppress(Exception):
            await sub.unsubscribe()
    return lines, dropped or seen >= MAX_READ_MESSAGES
