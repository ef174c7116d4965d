"""Registering packs: load the directory, then append — atomically — `pack.registered`
and the `<kind>.defined` / `<kind>.deleted` events of every component that changed.
Registering identical content again appends nothing."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from uuid import uuid4

from pydantic import BaseModel

from attune.app import catalog as components
from attune.app import permissions
from attune.app.context import Context
from attune.domain import catalog
from attune.domain.action import ACTION
from attune.domain.pack import PackRegistered
from attune.domain.policy import POLICY
from attune.domain.rule import RULE
from attune.domain.runtime import RUNTIME
from attune.domain.sensor import SENSOR, SensorDef
from attune.domain.trigger import TRIGGER
from attune.errors import ConcurrencyError, PackError
from attune.eventstore.envelope import Meta
from attune.eventstore.store import Append
from attune.packs.loader import LoadedPack, load_pack
from attune.packs.sensors import load_sensors

MAX_ATTEMPTS = 5


async def register(ctx: Context, directory: str | Path, *, meta: Meta
                   ) -> tuple[LoadedPack, int]:
    """Returns what was loaded and the stream sequence to wait for."""
    # file reading and YAML parsing stay off the event loop
    loaded = await asyncio.to_thread(load_pack, directory)
    # sensors/ (attune.packs.sensors): refused with the rest of the pack
    sensors = await asyncio.to_thread(load_sensors, loaded.pack)
    # permission_sets/ (attune.app.permissions): refused with the rest of the pack,
    # appended after the pack they belong to
    sets = await permissions.load_pack_sets(loaded.pack.ref, loaded.pack.path)
    for attempt in range(MAX_ATTEMPTS):
        try:
            seq = await _append(ctx, loaded, meta, sensors)
            done = await permissions.register_pack_sets(ctx, loaded.pack.ref, sets,
                                                        meta=meta)
            return loaded, max(seq, done)
        except ConcurrencyError:
            if attempt == MAX_ATTEMPTS - 1:
                raise
    raise AssertionError("unreachable")


async def _append(ctx: Context, loaded: LoadedPack, meta: Meta,
                  sensors: Sequence[SensorDef] = ()) -> int:
    pack = loaded.pack
    history, pack_version = await ctx.store.load("pack", pack.ref)
    previous = next((e.event for e in reversed(history)
                     if isinstance(e.event, PackRegistered)), None)
    await _check_rule_references(ctx, loaded)
    await _check_sensor_triggers(ctx, loaded, sensors)
    appends: list[Append] = []
    appends += await _changes(ctx, ACTION, {a.ref: a for a in loaded.actions},
                              previous.actions if previous else [])
    appends += await _changes(ctx, TRIGGER, {t.ref: t for t in loaded.triggers},
                              previous.triggers if previous else [])
    appends += await _changes(ctx, RULE, {r.ref: r for r in loaded.rules},
                              previous.rules if previous else [])
    appends += await _changes(ctx, POLICY, {p.ref: p for p in loaded.policies},
                              previous.policies if previous else [])
    appends += await _changes(ctx, RUNTIME, {r.ref: r for r in loaded.runtimes},
                              previous.runtimes if previous else [])
    appends += await _changes(ctx, SENSOR, {s.ref: s for s in sensors},
                              previous.sensors if previous else [])
    event = PackRegistered(at=ctx.clock(), pack=pack,
                           actions=[a.ref for a in loaded.actions],
                           triggers=[t.ref for t in loaded.triggers],
                           rules=[r.ref for r in loaded.rules],
                           policies=[p.ref for p in loaded.policies],
                           runtimes=[r.ref for r in loaded.runtimes],
                           sensors=[s.ref for s in sensors])
    if not appends and previous is not None and _same(previous, event):
        return pack_version
    appends.append(Append(pack.ref, event, pack_version, uuid4().hex))
    return await ctx.store.append_batch(appends, meta=meta)


async def _check_rule_references(ctx: Context, loaded: LoadedPack) -> None:
    """A pack's rules must name triggers and actions that exist (here or registered)."""
    for kind, table, refs, own in (
            ("trigger", "triggers", {r.trigger_ref for r in loaded.rules},
             {t.ref for t in loaded.triggers}),
            ("action", "actions", {r.action_ref for r in loaded.rules},
             {a.ref for a in loaded.actions})):
        missing = refs - own
        if missing:
            found = {row["ref"] for row in await ctx.pool.fetch(
                f"SELECT ref FROM {table} WHERE ref = ANY($1::text[])", sorted(missing))}
            missing -= found
        if missing:
            rule = next(r for r in loaded.rules
                        if getattr(r, f"{kind}_ref") in missing)
            raise PackError(f"rules: {rule.ref}: {kind}_ref {getattr(rule, f'{kind}_ref')!r} "
                            f"is not registered: register the pack that defines it first")


async def _check_sensor_triggers(ctx: Context, loaded: LoadedPack,
                                 sensors: Sequence[SensorDef]) -> None:
    """A pack's sensors must emit triggers that exist (here or registered)."""
    wanted = {t for s in sensors for t in s.trigger_types} - {t.ref for t in loaded.triggers}
    if wanted:
        wanted -= {row["ref"] for row in await ctx.pool.fetch(
            "SELECT ref FROM triggers WHERE ref = ANY($1::text[])", sorted(wanted))}
    if wanted:
        sensor = next(s for s in sensors if set(s.trigger_types) & wanted)
        missing = sorted(set(sensor.trigger_types) & wanted)[0]
        raise PackError(f"sensors: {sensor.ref}: trigger type {missing!r} is not registered: "
                        "define it in triggers/ or register the pack that defines it first")


def _same(a: PackRegistered, b: PackRegistered) -> bool:
    return a.model_dump(exclude={"at"}) == b.model_dump(exclude={"at"})


async def _changes(ctx: Context, kind: catalog.Kind[Any], wanted: dict[str, BaseModel],
                   previous_refs: Sequence[str]) -> list[Append]:
    """Appends that bring the pack's components of one kind to `wanted` (by ref)."""
    gone = [ref for ref in previous_refs if ref not in wanted]
    refs = [*wanted, *gone]
    loaded = await asyncio.gather(*(components.load(ctx, kind, ref) for ref in refs))
    appends: list[Append] = []
    for ref, (state, version) in zip(refs, loaded, strict=True):
        command: catalog.Command[Any] = (
            catalog.Define(definition=wanted[ref], source="pack", keep_enabled=True)
            if ref in wanted else catalog.Delete(allow_pack=True))
        if ref not in wanted and state is None:
            continue
        events = catalog.decide(kind, state, command, ref=ref, now=ctx.clock())
        appends += [Append(ref, e, version, uuid4().hex) for e in events]
    return appends
