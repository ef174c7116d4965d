"""Driving manual executions through the HTTP API and timing them to completion.

Completion is observed on the stream itself: a plain NATS subscription to the
executions' terminal subjects sees each `completed` event as it is appended, so the
measurement does not poll the database it is measuring.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import aiohttp
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription

from attune.bench.progress import Progress
from attune.errors import UnavailableError

ACTION = "core.noop"
TERMINAL = ("completed", "failed", "abandoned")


class CompletionWatcher:
    """When each execution reached a terminal event, and which one, by execution id."""

    def __init__(self, nc: Client) -> None:
        self.nc = nc
        self.finished: dict[int, tuple[float, str]] = {}  # id -> (when, event name)
        self._changed = asyncio.Event()
        self._subs: list[Subscription] = []

    async def start(self) -> None:
        for name in TERMINAL:
            self._subs.append(await self.nc.subscribe(f"attune.execution.*.{name}",
                                                      cb=self._on_message))

    async def stop(self) -> None:
        for sub in self._subs:
            await sub.unsubscribe()

    async def _on_message(self, msg: Msg) -> None:
        _, _, key, event = msg.subject.split(".")
        if key.isdigit():
            self.finished.setdefault(int(key), (time.perf_counter(), event))
            self._changed.set()

    async def wait_all(self, ids: Sequence[int], progress: Progress | None = None,
                       timeout: float = 600.0) -> float:
        """Wait until every id finished; returns the time the last one did."""
        deadline = time.perf_counter() + timeout
        pending = set(ids)
        while True:
            pending = {i for i in pending if i not in self.finished}
            if progress is not None:
                progress.update(len(ids) - len(pending))
            if not pending:
                return max(self.finished[i][0] for i in ids)
            left = deadline - time.perf_counter()
            if left <= 0:
                raise UnavailableError(f"{len(pending)} executions did not finish within "
                                       f"{timeout:.0f} s (first: {min(pending)})")
            self._changed.clear()
            try:
                await asyncio.wait_for(self._changed.wait(), min(left, 1.0))
            except TimeoutError:
                continue

    async def wait_one(self, execution_id: int, timeout: float = 60.0) -> float:
        deadline = time.perf_counter() + timeout
        while execution_id not in self.finished:
            if time.perf_counter() > deadline:
                raise UnavailableError(f"execution {execution_id} did not finish within "
                                       f"{timeout:.0f} s")
            self._changed.clear()
            try:
                await asyncio.wait_for(self._changed.wait(), 1.0)
            except TimeoutError:
                continue
        return self.finished[execution_id][0]

    def outcomes(self, ids: Sequence[int]) -> dict[str, int]:
        counts: dict[str, int] = {}
        for i in ids:
            event = self.finished[i][1]
            counts[event] = counts.get(event, 0) + 1
        return counts


class ApiClient:
    def __init__(self, base_url: str, *, connections: int) -> None:
        self.base_url = base_url.rstrip("/")
        self.session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=connections),
            timeout=aiohttp.ClientTimeout(total=60))
        self.token = ""

    async def close(self) -> None:
        await self.session.close()

    async def login(self, login: str, password: str) -> None:
        async with self.session.post(f"{self.base_url}/auth/login",
                                     json={"login": login, "password": password}) as resp:
            body = await resp.json()
            if resp.status != 200:
                raise UnavailableError(
                    f"logging in as {login} failed ({resp.status} {body.get('error')}): with "
                    "external servers set ATTUNE_ADMIN_PASSWORD to their admin password")
        self.token = body["data"]["access_token"]

    async def execute(self, parameters: dict[str, Any] | None = None) -> int:
        async with self.session.post(
                f"{self.base_url}/api/v1/executions/execute",
                json={"action_ref": ACTION, "parameters": parameters or {}},
                headers={"Authorization": f"Bearer {self.token}"}) as resp:
            body = await resp.json()
            if resp.status not in (201, 202):
                raise UnavailableError(f"POST /api/v1/executions/execute: {resp.status} {body}")
        return int(body["data"]["id"])


@dataclass(frozen=True)
class Saturation:
    executions: int
    concurrency: int
    seconds: float              # first request sent -> last execution completed
    outcomes: dict[str, int]

    @property
    def per_s(self) -> float:
        return self.executions / self.seconds


async def saturate(api: ApiClient, watcher: CompletionWatcher, *, executions: int,
                   concurrency: int, progress: Progress) -> tuple[Saturation, list[int]]:
    """Submit `executions` as fast as the API takes them (at most `concurrency` requests
    in flight) and wait for all of them to finish."""
    progress.phase(f"saturation: {executions} executions", executions)
    ids: list[int] = []
    queue = iter(range(executions))

    async def submitter() -> None:
        for _ in queue:
            ids.append(await api.execute())

    started = time.perf_counter()
    await asyncio.gather(*(submitter() for _ in range(min(concurrency, executions))))
    finished = await watcher.wait_all(ids, progress)
    return Saturation(executions, concurrency, finished - started, watcher.outcomes(ids)), ids


@dataclass(frozen=True)
class Latency:
    rate: float
    duration: float
    samples: list[float]        # request sent -> completed appended, seconds, sorted
    http: list[float]           # request sent -> response received, seconds, sorted
    outcomes: dict[str, int]

    def p(self, q: float, values: Sequence[float] | None = None) -> float:
        """Nearest-rank percentile, in milliseconds."""
        data = self.samples if values is None else values
        return 1000 * data[max(0, math.ceil(q / 100 * len(data)) - 1)]


async def fixed_rate(api: ApiClient, watcher: CompletionWatcher, *, rate: float,
                     duration: float, progress: Progress) -> Latency:
    """One request every 1/`rate` s for `duration` s, each timed until it completed."""
    count = max(1, round(rate * duration))
    progress.phase(f"latency: {rate:g}/s for {duration:g} s", count)
    done = 0

    async def one() -> tuple[int, float, float]:
        nonlocal done
        sent = time.perf_counter()
        execution_id = await api.execute()
        answered = time.perf_counter()
        completed = await watcher.wait_one(execution_id)
        done += 1
        progress.update(done)
        return execution_id, completed - sent, answered - sent

    tasks = []
    start = time.perf_counter()
    for i in range(count):
        delay = start + i / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one()))
    results = await asyncio.gather(*tasks)
    return Latency(rate, duration, sorted(r[1] for r in results),
                   sorted(r[2] for r in results), watcher.outcomes([r[0] for r in results]))
