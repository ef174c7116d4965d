"""Registering packs: load the directory, append `pack.registered`."""

from __future__ import annotations

import asyncio
from pathlib import Path

from attune.app.context import Context
from attune.domain.pack import PackRegistered
from attune.eventstore.envelope import Meta
from attune.packs.loader import load_pack


async def register(ctx: Context, directory: str | Path, *, meta: Meta
                   ) -> tuple[PackRegistered, int]:
    """Returns the event and its stream sequence. Re-registering replaces the pack's
    actions; registering identical content again appends nothing new."""
    # file reading and YAML parsing stay off the event loop
    pack, actions = await asyncio.to_thread(load_pack, directory)
    event = PackRegistered(at=ctx.clock(), pack=pack, actions=actions)
    _, version = await ctx.store.load("pack", pack.ref)
    if version:
        current = await ctx.store.read(version)
        if (current is not None and isinstance(current.event, PackRegistered)
                and current.event.pack == pack and current.event.actions == actions):
            return current.event, version
    seq = await ctx.store.append(pack.ref, event, expected_version=version,
                                 msg_id=f"pack:{pack.ref}:{version}", meta=meta)
    return event, seq
