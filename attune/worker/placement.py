"""Placement: which workers may run an execution, and the work subject that reaches them.

Workers advertise in their heartbeat (KV `attune_workers`) the runtimes they run with
the versions found, their labels (`ATTUNE_WORKER_LABELS`) and their *pool*: a short
digest of their label set. Subjects:

    attune.work.<runtime>                  any worker running <runtime> (durable
                                           worker-<runtime>, declared in streams.yaml)
    attune.work.<runtime>.pool.<pool>      the workers of one pool (durable
                                           worker-<runtime>-<pool>, created by them)

An action needs placement when it names labels (`placement: {labels: {...}}`) or a
runtime version constraint. The executor then picks a pool whose live, uncordoned
members satisfy it (runtime, every label, a matching version), preferring free capacity;
workers sharing a label set share the pool's queue, so one of them dying strands nothing
while another lives (when a whole pool goes away, what was placed on it waits for a worker
of that pool, or for its timeout). With no capable worker the execution waits in `scheduling` with
the reason (`execution.queued`), and is placed as soon as one appears.

Cordoned workers (KV `attune_cordons`, by the API) take no new work: they stop fetching
and the executor places nothing on them; what they run finishes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import orjson
from nats.js import JetStreamContext
from nats.js.errors import KeyNotFoundError, NoKeysError
from nats.js.kv import KeyValue

from attune.domain.action import ActionDef
from attune.domain.versions import ConstraintError, select_best
from attune.eventstore.subjects import work_subject
from attune.worker.heartbeat import BUCKET as HEARTBEATS
from attune.worker.heartbeat import key as worker_key

CORDONS = "attune_cordons"
#: The reason of an execution waiting for a capable worker starts so.
WAITING = "waiting for a capable worker: "


def pool_of(labels: dict[str, str]) -> str:
    """The pool of a label set: workers with the same labels share it."""
    canonical = ",".join(f"{k}={v}" for k, v in sorted(labels.items()))
    return hashlib.sha256(canonical.encode()).hexdigest()[:12]


def pool_subject(runtime: str, pool: str) -> str:
    return f"{work_subject(runtime)}.pool.{pool}"


def pool_durable(runtime: str, pool: str) -> str:
    return f"worker-{runtime}-{pool}"


def needed(action: ActionDef) -> bool:
    """Whether an execution of `action` must be placed (else any worker of its runtime)."""
    return bool((action.placement and action.placement.labels) or action.runtime_version)


def requirement(action: ActionDef) -> str:
    """What `action` needs, as a reason shows it."""
    parts = [f"runtime {action.runtime_ref or f'core.{action.runtime}'}"
             + (f" {action.runtime_version}" if action.runtime_version else "")]
    if action.placement and action.placement.labels:
        parts.append("labels " + ", ".join(
            f"{k}={v}" for k, v in sorted(action.placement.labels.items())))
    return " with ".join(parts)


@dataclass(frozen=True)
class Cordon:
    by: str
    reason: str
    at: str


@dataclass(frozen=True)
class WorkerInfo:
    """A worker as its last heartbeat (and the cordon list) show it."""

    name: str
    at: datetime | None
    runtimes: tuple[str, ...]
    #: Available versions per runtime ref (e.g. core.python -> ["3.11.7"]).
    runtime_versions: dict[str, list[str]]
    labels: dict[str, str]
    pool: str
    running: int
    concurrency: int | None
    cordon: Cordon | None = None

    def alive(self, now: datetime, stale: timedelta) -> bool:
        return self.at is not None and now - self.at <= stale

    def lacks(self, action: ActionDef) -> str | None:
        """Why this worker cannot run `action` (None: it can)."""
        if action.runtime not in self.runtimes:
            return f"does not run {action.runtime}"
        wanted = action.placement.labels if action.placement else {}
        missing = [f"{k}={v}" for k, v in sorted(wanted.items()) if self.labels.get(k) != v]
        if missing:
            return "lacks label " + ", ".join(missing)
        if action.runtime_version:
            ref = action.runtime_ref or f"core.{action.runtime}"
            versions = self.runtime_versions.get(ref)
            if not versions:
                return f"has no verified version of {ref}"
            try:
                if select_best(versions, action.runtime_version) is None:
                    return f"has {ref} {', '.join(versions)}"
            except ConstraintError:
                return f"cannot read constraint {action.runtime_version!r}"
        return None


def _worker(data: dict[str, Any], cordon: Cordon | None) -> WorkerInfo:
    at = data.get("at")
    labels = {str(k): str(v) for k, v in (data.get("labels") or {}).items()}
    versions = data.get("runtime_versions") or {}
    return WorkerInfo(
        name=str(data.get("worker", "")),
        at=datetime.fromisoformat(at) if isinstance(at, str) else None,
        runtimes=tuple(data.get("runtimes") or ()),
        runtime_versions={str(k): [str(v) for v in vs] for k, vs in versions.items()},
        labels=labels, pool=str(data.get("pool") or pool_of(labels)),
        running=int(data.get("running") or 0),
        concurrency=data.get("concurrency") if isinstance(data.get("concurrency"), int)
        else None,
        cordon=cordon)


async def _entries(js: JetStreamContext, bucket: str) -> dict[str, bytes]:
    kv = await js.key_value(bucket)
    try:
        keys = await kv.keys()
    except NoKeysError:
        return {}
    found: dict[str, bytes] = {}
    for name in keys:
        try:
            entry = await kv.get(name)
        except KeyNotFoundError:  # deleted or expired meanwhile
            continue
        if entry.value:
            found[name] = entry.value
    return found


async def cordons(js: JetStreamContext) -> dict[str, Cordon]:
    """Cordoned workers by heartbeat key."""
    return {k: Cordon(**orjson.loads(v)) for k, v in (await _entries(js, CORDONS)).items()}


async def workers(js: JetStreamContext) -> list[WorkerInfo]:
    """Every worker with a heartbeat in the bucket (it expires 90 s after the last)."""
    cordoned = await cordons(js)
    beats = await _entries(js, HEARTBEATS)
    return sorted((_worker(orjson.loads(v), cordoned.get(k)) for k, v in beats.items()),
                  key=lambda w: w.name)


async def set_cordon(js: JetStreamContext, worker: str, cordon: Cordon | None) -> None:
    kv = await js.key_value(CORDONS)
    if cordon is None:
        await kv.delete(worker_key(worker))  # a delete marker, also for an absent key
        return
    await kv.put(worker_key(worker), orjson.dumps(cordon.__dict__))


async def is_cordoned(kv: KeyValue, worker: str) -> bool:
    """`kv` is the bucket CORDONS (a worker asks every second: it keeps the handle)."""
    try:
        entry = await kv.get(worker_key(worker))
    except KeyNotFoundError:
        return False
    return bool(entry.value)


class NoCapableWorkerError(Exception):
    """No live, uncordoned worker can run the execution now; the message says why."""


@dataclass
class _Pool:
    capable: list[WorkerInfo] = field(default_factory=list)
    others: int = 0  # live members that cannot run it (a mixed pool)

    @property
    def spare(self) -> int:
        return sum((w.concurrency or 1) - w.running for w in self.capable)


def choose(action: ActionDef, candidates: Iterable[WorkerInfo], *, now: datetime,
           stale: timedelta) -> str:
    """The pool to send an execution of `action` to, or NoCapableWorkerError."""
    pools: dict[str, _Pool] = {}
    refusals: list[str] = []
    for worker in candidates:
        if not worker.alive(now, stale):
            continue
        pool = pools.setdefault(worker.pool, _Pool())
        why = "is cordoned" if worker.cordon else worker.lacks(action)
        if why is None:
            pool.capable.append(worker)
        else:
            pool.others += 1
            refusals.append(f"{worker.name} {why}")
    usable = [(name, p) for name, p in pools.items() if p.capable]
    if not usable:
        seen = "; ".join(refusals[:5]) + (" ..." if len(refusals) > 5 else "")
        raise NoCapableWorkerError(
            f"{WAITING}{requirement(action)} ("
            + (f"{len(refusals)} live worker(s): {seen})" if refusals else "no live worker)"))
    # pools whose every live member can run it first, then the most spare capacity
    name, _ = max(usable, key=lambda item: (item[1].others == 0, item[1].spare, item[0]))
    return name
