"""The servers a benchmark runs against: given URLs, or NATS and PostgreSQL started
for the run in a temporary directory on free ports, with the durability settings of
`attune up` (JetStream fsync every second, PostgreSQL fsync on)."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import socket
import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

from attune.embedded.datadir import DataDir
from attune.embedded.stack import EmbeddedStack
from attune.errors import BadRequestError

#: `attune up`'s default JetStream sync interval
SYNC_INTERVAL = "1s"


@dataclass(frozen=True)
class BenchServers:
    nats_url: str
    database_url: str
    #: how durable the servers are, as the report states it
    durability: str


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.asynccontextmanager
async def bench_servers(nats_url: str | None = None, database_url: str | None = None
                        ) -> AsyncIterator[BenchServers]:
    if nats_url and database_url:
        yield BenchServers(nats_url, database_url, "external servers (their own settings)")
        return
    if nats_url or database_url:
        raise BadRequestError("give both --nats-url and --database-url, or neither (then the "
                              "benchmark starts its own servers)")
    root = Path(tempfile.mkdtemp(prefix="attune-bench-"))
    stack = EmbeddedStack(DataDir(root), nats_port=free_port(), nats_monitor_port=free_port(),
                          postgres_port=free_port(), sync_interval=SYNC_INTERVAL)
    try:
        # blocking starts (initdb, readiness polls) stay off the event loop
        await asyncio.to_thread(stack.start)
        await stack.ensure_database()
        yield BenchServers(
            stack.nats_url, stack.database_url,
            f"embedded: JetStream file store, sync_interval {SYNC_INTERVAL} (as `attune up`); "
            "PostgreSQL fsync on, synchronous_commit on")
    finally:
        await asyncio.to_thread(stack.stop)
        shutil.rmtree(root, ignore_errors=True)
