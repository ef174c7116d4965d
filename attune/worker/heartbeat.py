"""Worker heartbeats in the KV bucket `attune_workers`: who is alive, what it runs.
The executor's monitor ends `abandoned` the executions of a worker whose heartbeat
is older than `stale_after`."""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import Callable
from datetime import datetime

import orjson
from nats.js import JetStreamContext
from nats.js.errors import KeyNotFoundError

import attune.log as log

BUCKET = "attune_workers"
_KEY_UNSAFE = re.compile(r"[^A-Za-z0-9_=-]")
_log = log.get("heartbeat")


def key(worker: str) -> str:
    return _KEY_UNSAFE.sub("_", worker)


async def beat(js: JetStreamContext, worker: str, *, interval: float,
               info: Callable[[], dict[str, object]], stop: asyncio.Event) -> None:
    """Write the heartbeat every `interval` seconds until `stop`."""
    while not stop.is_set():
        try:
            kv = await js.key_value(BUCKET)
            await kv.put(key(worker), orjson.dumps({"worker": worker, **info()}))
        except Exception as exc:  # NATS away: the next beat will tell
            _log.warning("heartbeat.failed", error=repr(exc))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), interval)


async def last_seen(js: JetStreamContext, worker: str) -> datetime | None:
    """When `worker` last wrote its heartbeat; None if never (or expired)."""
    kv = await js.key_value(BUCKET)
    try:
        entry = await kv.get(key(worker))
    except KeyNotFoundError:
        return None
    if entry.value is None:
        return None
    at = orjson.loads(entry.value).get("at")
    return datetime.fromisoformat(at) if isinstance(at, str) else None
