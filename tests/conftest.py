"""Hermetic fixtures: real NATS (JetStream) and real PostgreSQL, started here on free
loopback ports with data in temp dirs. Nothing is mocked."""

from __future__ import annotations

import asyncio
import itertools
import socket
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import asyncpg
import pytest

from attune.app.context import Context
from attune.config import Settings
from attune.embedded.nats_server import NatsServer
from attune.embedded.postgres import PostgresServer
from attune.platform import SERVICES, close_context, open_context, run_services, seed

ADMIN_PASSWORD = "admin-password-for-tests"
_db_numbers = itertools.count(1)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def pg_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PostgresServer]:
    server = PostgresServer(tmp_path_factory.mktemp("pg") / "data", free_port(), fsync=False)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def nats_server(tmp_path: Path) -> Iterator[NatsServer]:
    server = NatsServer(tmp_path / "nats", free_port(), free_port(), sync_interval="always")
    server.start()
    yield server
    server.stop()


@pytest.fixture
async def database_url(pg_server: PostgresServer) -> str:
    name = f"t{next(_db_numbers)}"
    conn = await asyncpg.connect(pg_server.url)
    try:
        await conn.execute(f"DROP DATABASE IF EXISTS {name}")
        await conn.execute(f"CREATE DATABASE {name}")
    finally:
        await conn.close()
    return pg_server.dsn(name)


@pytest.fixture
def settings(nats_server: NatsServer, database_url: str, tmp_path: Path) -> Settings:
    return Settings(nats_url=nats_server.url, database_url=database_url,
                    data_dir=tmp_path / "data", api_port=free_port(),
                    notifier_port=free_port(),
                    jwt_secret="test-jwt-secret-" + "x" * 32,
                    encryption_key="test-encryption-key-" + "y" * 32,
                    admin_password=ADMIN_PASSWORD, worker_concurrency=4)


@pytest.fixture
async def ctx(settings: Settings) -> AsyncIterator[Context]:
    context = await open_context(settings)
    yield context
    await close_context(context)


@dataclass
class RunningPlatform:
    ctx: Context
    settings: Settings
    stop: asyncio.Event
    task: asyncio.Task[None]

    @property
    def api_url(self) -> str:
        return self.settings.public_api_url


async def start_platform(ctx: Context, services: tuple[str, ...] = SERVICES
                         ) -> RunningPlatform:
    await seed(ctx, admin_password=ctx.settings.admin_password)
    seeded = await ctx.store.last_sequence()
    stop = asyncio.Event()
    task = asyncio.create_task(run_services(ctx, services, stop))
    running = RunningPlatform(ctx=ctx, settings=ctx.settings, stop=stop, task=task)
    if "projector" in services:
        await projected(ctx, seeded)
    if "api" in services:
        await eventually(lambda: _api_up(running.api_url))
    return running


async def projected(ctx: Context, seq: int) -> None:
    """Wait until every projection has applied stream sequence `seq`."""
    async def probe() -> bool:
        low = await ctx.pool.fetchval("SELECT min(position) FROM projection_positions")
        return low is not None and low >= seq
    await eventually(probe)


async def _api_up(url: str) -> bool:
    try:
        async with aiohttp.ClientSession() as session, session.get(f"{url}/health/live") as r:
            return r.status == 200
    except aiohttp.ClientError:
        return False


async def stop_platform(running: RunningPlatform) -> None:
    running.stop.set()
    await asyncio.wait_for(running.task, 30)


@pytest.fixture
async def platform(ctx: Context) -> AsyncIterator[RunningPlatform]:
    """Every service in this process, like `attune up`, on the test's servers."""
    running = await start_platform(ctx)
    yield running
    await stop_platform(running)


async def eventually(probe, *, timeout: float = 20.0, interval: float = 0.05):  # type: ignore[no-untyped-def]
    """Poll `probe()` until it returns something truthy; fail with the last value."""
    deadline = asyncio.get_running_loop().time() + timeout
    last = None
    while asyncio.get_running_loop().time() < deadline:
        last = await probe()
        if last:
            return last
        await asyncio.sleep(interval)
    raise AssertionError(f"condition not reached within {timeout} s; last value: {last!r}")
