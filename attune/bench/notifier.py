"""`attune bench notifier`: live notifications to many WebSocket clients.

The notifier runs alone in a child process (`attune serve notifier`), so its CPU time
is its own; the clients — `clients` bare WebSocket connections subscribed to
`entity_type:execution` — run in another (`notifier_clients.main`). This process runs
the projector (identities) and the load: `execution.requested` appended to the stream at
`rate` per second (each is one `execution_created` notification for every client).

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
                    "system": f"{host.system()} {host.machine()}",
                    # other work on the machine shows in the latencies: say how much
                    "load_average_1min": os.getloadavg()[0]},
        "servers": {"durability": servers.durability},
        **result,
    }


async def measure(ctx: Context, options: Options, token: str, port: int, pid: int,
                  progress: Progress) -> dict[str, Any]:
    progress.phase(f"connecting {options.clients} clients", 1)
    async with clients_process(port, token, options.clients) as clients:
        progress.update(1)
        action = await executions.load_action(ctx, ACTION)
        sent: dict[int, float] = {}
        warmup = max(1, int(options.rate * WARMUP))
        await _load(ctx, action, warmup, options.rate, sent, progress, "warm-up")
        first = max(sent) + 1
        await asyncio.sleep(0.5)  # the warm-up's deliveries stay out of the CPU window
        cpu_before, clients_before = _cpu_seconds(pid), _cpu_seconds(clients.pid)
        wall_before = time.monotonic()
        count = max(1, int(options.rate * options.duration))
        await _load(ctx, action, count, options.rate, sent, progress, "notifications")
        sent_per_s = count / max(time.monotonic() - wall_before, 1e-9)
        received, resyncs, clients_after, sequences, arrivals = await clients.finish(
            len(sent) * options.clients)
        cpu_after = _cpu_seconds(pid)
        wall_after = time.monotonic()
    latencies = sorted(1000 * (at - sent[seq])
                       for seq, at in zip(sequences, arrivals, strict=True)
                       if seq >= first and seq in sent)
    measured = len(latencies)
    cpu = None if cpu_before is None or cpu_after is None else cpu_after - cpu_before
    clients_cpu = None if clients_before is None else clients_after - clients_before
    window = max(wall_after - wall_before, 1e-9)
    return {
        "setup": {"clients": options.clients, "filter": FILTER, "rate_per_s": options.rate,
                  "seconds": options.duration, "notifications": count,
                  "sent_per_s": sent_per_s,
                  "notification": f"execution_created ({ACTION})"},
        "deliveries": {"expected": count * options.clients, "measured": measured,
                       "complete": received >= len(sent) * options.clients,
                       "resyncs": resyncs, "per_s": measured / window},
        "latency": {"p50_ms": _quantile(latencies, 0.50), "p99_ms": _quantile(latencies, 0.99),
                    "max_ms": latencies[-1] if latencies else None},
        "cpu": {"notifier_seconds": cpu,
                "notifier_ms_per_1000_deliveries": (None if cpu is None or not measured
                                                    else 1_000_000 * cpu / measured),
                "notifier_cores_busy": None if cpu is None else cpu / window,
                "clients_seconds": clients_cpu},
    }


class ClientsProcess:
    def __init__(self, process: asyncio.subprocess.Process, output: str) -> None:
        self.process = process
        self.output = output

    @property
    def pid(self) -> int:
        return self.process.pid

    async def line(self, timeout: float) -> str:
        assert self.process.stdout is not None
        raw = await asyncio.wait_for(self.process.stdout.readline(), timeout)
        if not raw:
            raise UnavailableError("the clients process ended early (see its error above)")
        return raw.decode().strip()

    async def finish(self, expected: int
                     ) -> tuple[int, int, float, array[int], array[float]]:
        """Wait until the clients read `expected` notifications (at most 60 s); their
        count, resyncs, the process's CPU seconds and the (sequence, arrival) pairs."""
        assert self.process.stdin is not None
        self.process.stdin.write(f"expect {expected}\n".encode())
        await self.process.stdin.drain()
        _, received, resyncs, cpu = (await self.line(90)).split()
        sequences, arrivals = await asyncio.to_thread(_read_pairs, self.output, int(received))
        return int(received), int(resyncs), float(cpu), sequences, arrivals


def _read_pairs(path: str, count: int) -> tuple[array[int], array[float]]:
    sequences, arrivals = array("q"), array("d")
    with open(path, "rb") as data:
        sequences.fromfile(data, count)
        arrivals.fromfile(data, count)
    return sequences, arrivals


@contextlib.asynccontextmanager
async def clients_process(port: int, token: str, count: int
                          ) -> AsyncIterator[ClientsProcess]:
    """The clients in a process of their own (`notifier_clients.main`), connected and
    subscribed."""
    with tempfile.TemporaryDirectory(prefix="attune-bench-clients-") as tmp:
        output = os.path.join(tmp, "deliveries")
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-c", "from attune.bench.notifier_clients import main; main()",
            "127.0.0.1", str(port), str(count), FILTER, output,
            env={**os.environ, "ATTUNE_BENCH_TOKEN": token}, stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE, preexec_fn=die_with_parent)
        clients = ClientsProcess(process, output)
        try:
            if await clients.line(120) != "ready":
                raise UnavailableError("the clients process did not get ready")
            yield clients
        finally:
            if process.returncode is None:
                process.kill()
            await process.wait()


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
