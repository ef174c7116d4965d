"""`attune bench notifier`: live notifications to many WebSocket clients.

The notifier runs alone in a child process (`attune serve notifier`), so its CPU time
is its own. This process runs the projector (identities), the clients — `clients`
bare WebSocket connections subscribed to `entity_type:execution` — and the load:
`execution.requested` appended to the stream at `rate` per second (each is one
`execution_created` notification for every client).

Delivery latency runs from just before the append until a client has read the
notification's frame (same machine, same clock): it covers the JetStream append, the
notifier's consumer, mapping, fan-out and the socket. CPU per 1,000 deliveries is the
notifier process's user + system time over the measured window divided by the
deliveries in it.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import platform as host
import signal
import sys
import tempfile
import time
from array import array
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import aiohttp

from attune.app import executions, identities
from attune.app.context import Context
from attune.bench.notifier_clients import WsClient, connect
from attune.bench.platform import bench_context, ready, services
from attune.bench.progress import Progress
from attune.bench.servers import bench_servers, free_port
from attune.embedded.process import die_with_parent
from attune.errors import UnavailableError
from attune.eventstore.envelope import Meta

ACTION = "core.noop"
FILTER = "entity_type:execution"
#: seconds of load before the measured window (connections and caches warm up)
WARMUP = 1.0


@dataclass(frozen=True)
class Options:
    clients: int = 500
    rate: float = 200.0
    duration: float = 10.0
    nats_url: str | None = None
    database_url: str | None = None


class Deliveries:
    """(sequence, arrival time) of every notification any client read."""

    def __init__(self) -> None:
        self.sequences = array("q")
        self.arrivals = array("d")

    def record(self, sequence: int, at: float) -> None:
        self.sequences.append(sequence)
        self.arrivals.append(at)

    def __len__(self) -> int:
        return len(self.sequences)


async def run(options: Options, progress: Progress) -> dict[str, Any]:
    port = free_port()
    async with bench_servers(options.nats_url, options.database_url) as servers, \
            bench_context(servers, worker_concurrency=1) as (ctx, password), \
            services(ctx, ("projector",)) as running:
        await ready(ctx, running, api=False)
        admin = await _admin(ctx, password)
        token = ctx.tokens.issue(admin.id, admin.login, "access", ttl=6 * 3600)
        async with notifier_process(ctx, port) as pid:
            result = await measure(ctx, options, token, port, pid, progress)
    return {
        "machine": {"cpus": os.cpu_count(), "python": host.python_version(),
                    "system": f"{host.system()} {host.machine()}"},
        "servers": {"durability": servers.durability},
        **result,
    }


async def measure(ctx: Context, options: Options, token: str, port: int, pid: int,
                  progress: Progress) -> dict[str, Any]:
    deliveries = Deliveries()
    progress.phase(f"connecting {options.clients} clients", options.clients)
    clients: list[WsClient] = []
    try:
        for number in range(options.clients):
            client = await connect("127.0.0.1", port, token, deliveries.record)
            clients.append(client)
            client.send_text({"type": "subscribe", "filter": FILTER})
            progress.update(number + 1)
        for client in clients:
            await client.next_control("subscribed")
        action = await executions.load_action(ctx, ACTION)
        sent: dict[int, float] = {}
        warmup = max(1, int(options.rate * WARMUP))
        await _load(ctx, action, warmup, options.rate, sent, progress, "warm-up")
        first = max(sent) + 1
        await _arrived(deliveries, len(sent) * options.clients, timeout=30.0)
        cpu_before, wall_before = _cpu_seconds(pid), time.monotonic()
        own_before = time.process_time()
        count = max(1, int(options.rate * options.duration))
        load_start = time.monotonic()
        await _load(ctx, action, count, options.rate, sent, progress, "notifications")
        sent_per_s = count / max(time.monotonic() - load_start, 1e-9)
        expected = len(sent) * options.clients
        complete = await _arrived(deliveries, expected, timeout=30.0)
        cpu_after, wall_after = _cpu_seconds(pid), time.monotonic()
        own_after = time.process_time()
        resyncs = sum(1 for client in clients for frame in _drain(client)
                      if frame.get("type") == "resync")
    finally:
        for client in clients:
            client.close()
    latencies = sorted(
        1000 * (at - sent[seq])
        for seq, at in zip(deliveries.sequences, deliveries.arrivals, strict=True)
        if seq >= first and seq in sent)
    measured = len(latencies)
    cpu = None if cpu_before is None or cpu_after is None else cpu_after - cpu_before
    return {
        "setup": {"clients": options.clients, "filter": FILTER, "rate_per_s": options.rate,
                  "seconds": options.duration, "notifications": count,
                  "sent_per_s": sent_per_s,
                  "notification": f"execution_created ({ACTION})"},
        "deliveries": {"expected": count * options.clients, "measured": measured,
                       "complete": complete, "resyncs": resyncs,
                       "per_s": measured / max(wall_after - wall_before, 1e-9)},
        "latency": {"p50_ms": _quantile(latencies, 0.50), "p99_ms": _quantile(latencies, 0.99),
                    "max_ms": latencies[-1] if latencies else None},
        "cpu": {"notifier_seconds": cpu,
                "notifier_ms_per_1000_deliveries": (None if cpu is None or not measured
                                                    else 1_000_000 * cpu / measured),
                "notifier_cores_busy": (None if cpu is None
                                        else cpu / max(wall_after - wall_before, 1e-9)),
                "clients_and_load_seconds": own_after - own_before},
    }


async def _load(ctx: Context, action: Any, count: int, rate: float, sent: dict[int, float],
                progress: Progress, name: str) -> None:
    """Append `count` execution requests at `rate` per second; `sent[id]` = send time."""
    progress.phase(name, count)
    meta = Meta.new(actor="bench")
    start = time.monotonic()
    for number in range(count):
        delay = start + number / rate - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        at = time.time()
        execution_id = await executions.request(ctx, ACTION, {}, meta=meta,
                                                known_action=action)
        sent[execution_id] = at
        progress.update(number + 1)


async def _arrived(deliveries: Deliveries, expected: int, *, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while len(deliveries) < expected:
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.05)
    return True


def _drain(client: WsClient) -> list[dict[str, object]]:
    frames = []
    while not client.control.empty():
        frames.append(client.control.get_nowait())
    return frames


def _quantile(sorted_values: list[float], q: float) -> float | None:
    if not sorted_values:
        return None
    return sorted_values[min(len(sorted_values) - 1, int(q * len(sorted_values)))]


def _cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of process `pid` (Linux /proc; None elsewhere)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def _admin(ctx: Context, password: str) -> identities.Identity:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with contextlib.suppress(Exception):
            return await identities.authenticate(ctx, "admin", password)
        await asyncio.sleep(0.1)
    raise UnavailableError("the admin identity was not projected within 30 s")


@contextlib.asynccontextmanager
async def notifier_process(ctx: Context, port: int) -> AsyncIterator[int]:
    """`attune serve notifier` on `port` against the bench's servers; yields its pid."""
    settings = ctx.settings
    env = {**os.environ, "ATTUNE_NATS_URL": settings.nats_url or "",
           "ATTUNE_DATABASE_URL": settings.database_url or "",
           "ATTUNE_JWT_SECRET": settings.jwt_secret,
           "ATTUNE_ENCRYPTION_KEY": settings.encryption_key,
           "ATTUNE_API_HOST": "127.0.0.1", "ATTUNE_NOTIFIER_PORT": str(port),
           "ATTUNE_LOG_LEVEL": "warning"}
    with tempfile.TemporaryFile() as log:
        child = await asyncio.create_subprocess_exec(
            sys.executable, "-c", "from attune.cli.main import main; main()", "serve",
            "notifier", env=env, stdout=log, stderr=log, preexec_fn=die_with_parent)
        try:
            await _listening(port, child, log)
            yield child.pid
        finally:
            if child.returncode is None:
                child.send_signal(signal.SIGTERM)
                try:
                    await asyncio.wait_for(child.wait(), 10)
                except TimeoutError:
                    child.kill()
                    await child.wait()


async def _listening(port: int, child: asyncio.subprocess.Process, log: Any) -> None:
    deadline = time.monotonic() + 30
    async with aiohttp.ClientSession() as session:
        while time.monotonic() < deadline:
            if child.returncode is not None:
                log.seek(0)
                raise UnavailableError("the notifier process ended: "
                                       + log.read().decode(errors="replace")[-2000:])
            with contextlib.suppress(aiohttp.ClientError):
                async with session.get(f"http://127.0.0.1:{port}/health") as response:
                    if response.status == 200:
                        return
            await asyncio.sleep(0.1)
    raise UnavailableError("the notifier process did not listen within 30 s")
