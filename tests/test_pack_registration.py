"""Pack registration appends, atomically, only what changed (real NATS + PostgreSQL)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from attune.app import packs
from attune.eventstore.envelope import Meta
from attune.readmodel.projections import ALL
from attune.readmodel.projector import Projector
from tests.conftest import projected


def write_pack(root: Path, actions: dict[str, str]) -> Path:
    (root / "actions").mkdir(parents=True, exist_ok=True)
    (root / "pack.yaml").write_text("ref: demo\nlabel: Demo\nversion: 1.0.0\n")
    for name, label in actions.items():
        (root / "actions" / f"{name}.sh").write_text("#!/bin/sh\necho ok\n")
        (root / "actions" / f"{name}.yaml").write_text(
            f"name: {name}\nlabel: {label}\nrunner_type: shell\nentry_point: {name}.sh\n")
    return root


async def test_reregistration_appends_only_changes(ctx, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    root = write_pack(tmp_path / "demo", {"a": "A", "b": "B"})
    _, first = await packs.register(ctx, root, meta=Meta.new())
    _, again = await packs.register(ctx, root, meta=Meta.new())
    assert again == first  # identical content: nothing appended

    (root / "actions" / "b.yaml").unlink()
    write_pack(root, {"a": "A2", "c": "C"})
    _, third = await packs.register(ctx, root, meta=Meta.new())
    types = []
    for seq in range(first + 1, third + 1):
        envelope = await ctx.store.read(seq)
        assert envelope is not None
        types.append((envelope.event.type, envelope.ref))
    assert sorted(types) == sorted([("action.defined", "demo.a"), ("action.defined", "demo.c"),
                                    ("action.deleted", "demo.b"), ("pack.registered", "demo")])

    stop = asyncio.Event()
    task = asyncio.create_task(Projector(ctx.nc, ctx.pool, ALL).run(stop))
    try:
        await projected(ctx, third)
    finally:
        stop.set()
        await task
    rows = await ctx.pool.fetch("SELECT ref, label, version FROM actions WHERE pack_ref='demo' "
                                "ORDER BY ref")
    assert [(r["ref"], r["label"]) for r in rows] == [("demo.a", "A2"), ("demo.c", "C")]
    assert all(first < r["version"] <= third for r in rows)
