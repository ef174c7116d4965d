"""Commands on catalogue components (actions, triggers, rules): load from the stream,
decide with `attune.domain.catalog`, append with the version decided on."""

from __future__ import annotations

from typing import TypeVar
from uuid import uuid4

from pydantic import BaseModel

from attune.app.context import Context
from attune.domain import catalog
from attune.errors import ConcurrencyError
from attune.eventstore.envelope import Meta

MAX_ATTEMPTS = 5
D = TypeVar("D", bound=BaseModel)


async def load(ctx: Context, kind: catalog.Kind[D], ref: str
                ) -> tuple[catalog.Component[D] | None, int]:
    envelopes, version = await ctx.store.load(kind.name, ref)
    return catalog.replay(kind, [e.event for e in envelopes]), version


async def execute(ctx: Context, kind: catalog.Kind[D], ref: str,
                  command: catalog.Command[D], *, meta: Meta
                  ) -> tuple[catalog.Component[D] | None, int]:
    """Apply one command to component `ref`; returns its new state and the sequence
    of the last event appended (its current version when nothing changed)."""
    for attempt in range(MAX_ATTEMPTS):
        state, version = await load(ctx, kind, ref)
        events = catalog.decide(kind, state, command, ref=ref, now=ctx.clock())
        try:
            for event in events:
                # the version check guards against races; the id only has to be unique
                version = await ctx.store.append(ref, event, expected_version=version,
                                                 msg_id=uuid4().hex, meta=meta)
                state = catalog.evolve(kind, state, event)
        except ConcurrencyError:
            if attempt == MAX_ATTEMPTS - 1:
                raise
            continue
        return state, version
    raise AssertionError("unreachable")
