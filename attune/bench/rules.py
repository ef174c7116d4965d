"""`attune bench rules`: the rule pipeline under many rules.

A generated set of packs gives `triggers` triggers with `rules / triggers` enabled rules
each; rule k of a trigger matches events whose payload has `slot == k` (array-form
condition) and renders templated parameters for `core.noop`, so every event matches
exactly one rule of its trigger. Two measurements:

(b) webhook -> execution `running`: one trigger's webhook is posted to at a fixed
    rate through the real HTTP endpoint (api, executor, worker and projector run in
    this process); each sample runs from the POST until the stream stored the
    execution's `execution.started` (its JetStream timestamp; same machine, same clock).
(a) throughput of ONE executor process (no other service in the process): events
    are appended straight to the stream, pipelined, as the API would write them; the
    clock runs from the first append until every expected enforcement is resolved
    (`enforcement.processed`/`disabled`, counted once per enforcement on the stream).

(b) runs first so that the executions (a) requests — nobody works on them in (a) —
never reach a worker during (b).
"""

from __future__ import annotations

import asyncio
import math
import os
import platform as host
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import uuid4

import aiohttp
from nats.aio.msg import Msg
from nats.js.api import DeliverPolicy

from attune.app import packs, webhooks
from attune.app.context import Context
from attune.bench.platform import bench_context, ready, services
from attune.bench.progress import Progress
from attune.bench.servers import bench_servers
from attune.domain.trigger_event import EventCreated
from attune.errors import UnavailableError
from attune.eventstore import subjects
from attune.eventstore.envelope import Meta, decode_message, encode

ACTION = "core.noop"
#: triggers per generated pack (a pack is registered in one atomic batch)
TRIGGERS_PER_PACK = 10
RESOLVED = ("processed", "disabled")


@dataclass(frozen=True)
class Options:
    rules: int = 1000
    triggers: int = 100
    events: int = 20000
    rate: float = 100.0
    duration: float = 10.0
    worker_concurrency: int = 16
    nats_url: str | None = None
    database_url: str | None = None

    @property
    def rules_per_trigger(self) -> int:
        return max(1, self.rules // self.triggers)

    @property
    def rules_per_trigger_total(self) -> int:
        """The rules actually generated (a multiple of the triggers)."""
        return self.rules_per_trigger * self.triggers


def trigger_ref(index: int) -> str:
    return f"bench{index // TRIGGERS_PER_PACK}.t{index % TRIGGERS_PER_PACK}"


def write_packs(root: Path, *, triggers: int, rules_per_trigger: int) -> list[Path]:
    """Packs of TRIGGERS_PER_PACK triggers, each trigger with `rules_per_trigger` rules."""
    dirs: list[Path] = []
    for first in range(0, triggers, TRIGGERS_PER_PACK):
        pack = root / f"bench{first // TRIGGERS_PER_PACK}"
        (pack / "triggers").mkdir(parents=True)
        (pack / "rules").mkdir()
        (pack / "pack.yaml").write_text(f"ref: {pack.name}\nversion: 1.0.0\n")
        for t in range(first, min(first + TRIGGERS_PER_PACK, triggers)):
            name = f"t{t % TRIGGERS_PER_PACK}"
            (pack / "triggers" / f"{name}.yaml").write_text(
                f"name: {name}\ndescription: bench trigger\n")
            for k in range(rules_per_trigger):
                (pack / "rules" / f"{name}_r{k}.yaml").write_text(
                    f"name: {name}_r{k}\ntrigger_ref: {pack.name}.{name}\n"
                    f"action_ref: {ACTION}\n"
                    f"conditions:\n  - {{field: slot, operator: equals, value: {k}}}\n"
                    "action_params:\n"
                    "  message: \"event {{ event.id }} slot {{ event.payload.slot }} "
                    "rule {{ system.rule.ref }}\"\n")
        dirs.append(pack)
    return dirs


async def setup(ctx: Context, options: Options, progress: Progress) -> str:
    """Register the packs, wait until projected, switch trigger 0's webhook on;
    returns its key."""
    packs_count = math.ceil(options.triggers / TRIGGERS_PER_PACK)
    progress.phase(f"register {options.rules_per_trigger_total} rules, "
                   f"{options.triggers} triggers", packs_count)
    meta = Meta.new(actor="bench")
    with tempfile.TemporaryDirectory(prefix="attune-bench-rules-") as root:
        for i, directory in enumerate(write_packs(
                Path(root), triggers=options.triggers,
                rules_per_trigger=options.rules_per_trigger)):
            await packs.register(ctx, directory, meta=meta)
            progress.update(i + 1)
    hook = trigger_ref(0)
    await _until(lambda: ctx.pool.fetchval(
        "SELECT count(*) = $1 FROM rules WHERE ref LIKE 'bench%' AND enabled",
        options.rules_per_trigger_total), "the rules were not projected")
    await webhooks.enable(ctx, hook, meta=meta)
    await _until(lambda: ctx.pool.fetchval(
        "SELECT key IS NOT NULL FROM webhooks WHERE trigger_ref = $1 AND enabled", hook),
        "the webhook was not projected")
    sealed = await ctx.pool.fetchval("SELECT key FROM webhooks WHERE trigger_ref = $1", hook)
    return str(ctx.sealer.open(sealed))


async def _until(probe: Any, what: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if await probe():
            return
        await asyncio.sleep(0.05)
    raise UnavailableError(what)


# -- (b) webhook -> running ------------------------------------------------------------

class StartWatcher:
    """Which execution each event requested, and when its `execution.started` was
    stored, read from an ordered consumer on the executions' subjects."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.execution_of: dict[int, int] = {}   # event id -> execution id
        self.started: dict[int, float] = {}      # execution id -> stored at (epoch s)
        self.changed = asyncio.Event()
        self._sub: Any = None

    async def start(self) -> None:
        self._sub = await self.ctx.store.js.subscribe(
            "attune.execution.>", cb=self._on_message, ordered_consumer=True,
            deliver_policy=DeliverPolicy.NEW)

    async def stop(self) -> None:
        if self._sub is not None:
            await self._sub.unsubscribe()

    async def _on_message(self, msg: Msg) -> None:
        seq = msg.metadata.sequence.stream
        if msg.subject.endswith(".new.requested"):
            event = decode_message(seq, msg.subject, msg.data, msg.headers).event
            event_id = getattr(event, "event_id", None)
            if event_id is not None:
                self.execution_of[int(event_id)] = seq
        elif msg.subject.endswith(".started"):
            key = msg.subject.split(".")[2]
            if key.isdigit():
                self.started.setdefault(int(key), msg.metadata.timestamp.timestamp())
        self.changed.set()

    async def wait(self, event_id: int, timeout: float = 60.0) -> float:
        deadline = time.monotonic() + timeout
        while True:
            execution = self.execution_of.get(event_id)
            if execution is not None and execution in self.started:
                return self.started[execution]
            left = deadline - time.monotonic()
            if left <= 0:
                raise UnavailableError(f"event {event_id}: no execution started within "
                                       f"{timeout:.0f} s")
            self.changed.clear()
            try:
                await asyncio.wait_for(self.changed.wait(), min(left, 1.0))
            except TimeoutError:
                continue


def percentile(sorted_values: Sequence[float], q: float) -> float:
    """Nearest rank, in milliseconds."""
    return 1000 * sorted_values[max(0, math.ceil(q / 100 * len(sorted_values)) - 1)]


async def webhook_latency(ctx: Context, key: str, options: Options, progress: Progress
                          ) -> dict[str, Any]:
    count = max(1, round(options.rate * options.duration))
    progress.phase(f"webhook -> running at {options.rate:g}/s", count)
    url = f"{ctx.settings.public_api_url.rstrip('/')}{webhooks.path_of(key)}"
    watcher = StartWatcher(ctx)
    await watcher.start()
    done = 0
    http: list[float] = []

    async def one(session: aiohttp.ClientSession, i: int) -> float:
        nonlocal done
        sent = time.time()
        async with session.post(url, json={"slot": i % options.rules_per_trigger,
                                           "n": i}) as resp:
            body = await resp.json()
            if resp.status != 202:
                raise UnavailableError(f"POST {webhooks.WEBHOOK_PATH}: {resp.status} {body}")
        http.append(time.time() - sent)
        started = await watcher.wait(int(body["data"]["event_id"]))
        done += 1
        progress.update(done)
        return started - sent

    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60)) as session:
            tasks = []
            begin = time.perf_counter()
            for i in range(count):
                delay = begin + i / options.rate - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
                tasks.append(asyncio.create_task(one(session, i)))
            samples = sorted(await asyncio.gather(*tasks))
    finally:
        await watcher.stop()
    http.sort()
    return {"rate_per_s": options.rate, "duration_s": options.duration, "events": count,
            "p50_ms": round(percentile(samples, 50), 2),
            "p99_ms": round(percentile(samples, 99), 2),
            "max_ms": round(1000 * samples[-1], 2),
            "http_p50_ms": round(percentile(http, 50), 2),
            "http_p99_ms": round(percentile(http, 99), 2)}


# -- (a) events/s through one executor -------------------------------------------------

class ResolutionCounter:
    """Enforcements resolved, once each (a redelivered resolution is stored once but
    a plain subscription sees every publish)."""

    def __init__(self) -> None:
        self.resolved: set[str] = set()
        self.outcomes: dict[str, int] = {}
        self.last = 0.0
        self.changed = asyncio.Event()

    async def on_message(self, msg: Msg) -> None:
        _, _, key, name = msg.subject.split(".")
        if key not in self.resolved:
            self.resolved.add(key)
            self.outcomes[name] = self.outcomes.get(name, 0) + 1
            self.last = time.perf_counter()
            self.changed.set()


async def throughput(ctx: Context, options: Options, progress: Progress) -> dict[str, Any]:
    counter = ResolutionCounter()
    subs = [await ctx.nc.subscribe(f"attune.enforcement.*.{name}", cb=counter.on_message)
            for name in RESOLVED]
    try:
        async with services(ctx, ("executor",)) as running:
            await ready(ctx, running, api=False)
            await asyncio.sleep(0.5)  # the rule book loaded and the consumers bound
            progress.phase(f"append {options.events} events", options.events)
            started, cpu_started = time.perf_counter(), time.process_time()
            await _append_events(ctx, options, progress)
            appended = time.perf_counter() - started
            expected = options.events  # each event matches exactly one rule
            progress.phase("enforce", expected)
            deadline = time.monotonic() + max(120.0, options.events / 100)
            while len(counter.resolved) < expected:
                if running.done():
                    running.result()
                if time.monotonic() > deadline:
                    raise UnavailableError(f"only {len(counter.resolved)} of {expected} "
                                           "enforcements resolved in time")
                counter.changed.clear()
                progress.update(len(counter.resolved))
                try:
                    await asyncio.wait_for(counter.changed.wait(), 1.0)
                except TimeoutError:
                    continue
            progress.update(expected)
            seconds = counter.last - started
            # CPU this process used (executor and appender): on a shared machine the
            # wall clock also counts time the process waited for a core
            cpu = time.process_time() - cpu_started
    finally:
        for sub in subs:
            await sub.unsubscribe()
    return {"events": options.events, "enforcements": expected,
            "outcomes": counter.outcomes,
            "append_seconds": round(appended, 3),
            "appends_per_s": round(options.events / appended, 1),
            "seconds": round(seconds, 3),
            "events_per_s": round(options.events / seconds, 1),
            "enforcements_per_s": round(expected / seconds, 1),
            "cpu_seconds": round(cpu, 3),
            "events_per_cpu_s": round(options.events / cpu, 1)}


async def _append_events(ctx: Context, options: Options, progress: Progress) -> None:
    """`event.created` messages exactly as `attune.app.events.create` writes them, published
    with acks pipelined (JetStream's async publish)."""
    js = ctx.nc.jetstream(publish_async_max_pending=4000)
    subject = subjects.creation_subject("event", "created")
    meta = Meta.new(actor="bench")
    run = uuid4().hex[:8]
    futures = []
    for i in range(options.events):
        t = i % options.triggers
        event = EventCreated(at=ctx.clock(), trigger_ref=trigger_ref(t),
                             payload={"slot": (i // options.triggers)
                                      % options.rules_per_trigger, "n": i},
                             source="api")
        data, headers = encode(event, msg_id=f"bench:{run}:{i}", meta=meta)
        futures.append(await js.publish_async(subject, data, headers=headers))
        if i % 500 == 499:
            progress.update(i + 1 - js.publish_async_pending())
    await js.publish_async_completed()
    failed = [f.exception() for f in futures if f.exception() is not None]
    if failed:
        raise UnavailableError(f"{len(failed)} appends failed, first: {failed[0]!r}")
    progress.update(options.events)


async def run(options: Options, progress: Progress) -> dict[str, Any]:
    async with bench_servers(options.nats_url, options.database_url) as servers, \
            bench_context(servers, worker_concurrency=options.worker_concurrency) as (ctx, _):
        async with services(ctx, ("api", "executor", "worker", "projector")) as running:
            await ready(ctx, running, api=True)
            key = await setup(ctx, options, progress)
            latency = await webhook_latency(ctx, key, options, progress)
        rate = await throughput(ctx, options, progress)
    return {
        "machine": {"cpus": os.cpu_count(), "python": host.python_version(),
                    "system": f"{host.system()} {host.machine()}"},
        "servers": {"durability": servers.durability},
        "rules": {"rules": options.rules_per_trigger_total, "triggers": options.triggers,
                  "rules_per_trigger": options.rules_per_trigger,
                  "matches_per_event": 1, "action": f"{ACTION} (shell)"},
        "throughput": rate,
        "webhook_latency": latency,
    }
