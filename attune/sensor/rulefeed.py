"""The sensor's view of the rules: the `rules` read model at start, then the rule events
of the stream from exactly the position that read model had applied.

The rows and the projection's position are read in one repeatable-read transaction, so
the stream picks up right after the snapshot — nothing missed, nothing applied twice.
A lagging (or stopped) projector only makes the catch-up longer. The stream is read with
an ephemeral consumer on `attune.rule.>` (`attune.eventstore.follow`, as the executor's
rule book follows it); when it breaks (NATS restarting) it is recreated after the last
event seen.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

from nats.aio.client import Client

import attune.log as log
from attune.domain import catalog
from attune.domain.rule import RULE, RuleDef
from attune.eventstore import follow
from attune.eventstore.envelope import Envelope, decode_message
from attune.eventstore.store import EVENTS_STREAM
from attune.readmodel.db import Pool

_log = log.get("sensor.rules")
RULE_SUBJECTS = "attune.rule.>"


@dataclass(frozen=True)
class RuleView:
    definition: RuleDef
    source: catalog.Source
    #: When this incarnation of the rule was created.
    created: datetime
    #: Its last change (creation, update, enabling...): where a timer's schedule starts.
    updated: datetime

    @property
    def ref(self) -> str:
        return self.definition.ref


#: Called with a rule's ref, its view before the event and after it (None: none/deleted).
OnChange = Callable[[str, RuleView | None, RuleView | None], Awaitable[None]]


class RuleFeed:
    def __init__(self, nc: Client, pool: Pool, *, stream: str = EVENTS_STREAM) -> None:
        self.nc = nc
        self.pool = pool
        self.stream = stream
        self.rules: dict[str, RuleView] = {}
        self.position = 0

    async def snapshot(self) -> dict[str, RuleView]:
        """Load every rule from the read model and remember its stream position."""
        async with self.pool.acquire() as conn, conn.transaction(
                isolation="repeatable_read", readonly=True):
            position = await conn.fetchval(
                "SELECT position FROM projection_positions WHERE name = 'rules'")
            rows = await conn.fetch("SELECT definition, source, created, updated FROM rules")
        self.position = int(position or 0)
        self.rules = {}
        for row in rows:
            definition = RuleDef.model_validate(row["definition"])
            self.rules[definition.ref] = RuleView(definition, row["source"], row["created"],
                                                  row["updated"])
        return dict(self.rules)

    def apply(self, envelope: Envelope) -> RuleView | None:
        """Fold one rule event into the view; returns the rule's new view (None: gone)."""
        ref, event = envelope.ref, envelope.event
        current = self.rules.get(ref)
        self.position = envelope.seq
        if not isinstance(event, RULE.defined | RULE.enabled | RULE.disabled | RULE.deleted):
            return current
        before = None if current is None else catalog.Component(current.definition,
                                                                current.source)
        after = catalog.evolve(RULE, before, event)
        view: RuleView | None = None
        if after is not None:
            created = current.created if current is not None else event.at
            if isinstance(event, RULE.defined) and event.created:
                created = event.at
            view = RuleView(after.definition, after.source, created, event.at)
        if view is None:
            self.rules.pop(ref, None)
        else:
            self.rules[ref] = view
        return view

    async def follow(self, stop: asyncio.Event, on_change: OnChange) -> None:
        """Apply rule events after `position` until `stop`, calling `on_change` for each."""
        backoff = 0.2
        while not stop.is_set():
            try:
                await self._consume(stop, on_change)
                backoff = 0.2
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                _log.warning("sensor.rules.restart", error=repr(exc), position=self.position)
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(stop.wait(), backoff)
                backoff = min(backoff * 2, 5.0)

    async def _consume(self, stop: asyncio.Event, on_change: OnChange) -> None:
        async with contextlib.aclosing(follow.batches(
                self.nc, [RULE_SUBJECTS], self.position + 1, stop, size=100,
                stream=self.stream)) as found:
            async for msgs in found:
                for msg in msgs:
                    seq = msg.metadata.sequence.stream
                    if seq <= self.position:
                        continue
                    try:
                        envelope = decode_message(seq, msg.subject, msg.data, msg.headers)
                    except Exception as exc:  # an event type this version does not know
                        _log.error("sensor.rules.undecodable", seq=seq, subject=msg.subject,
                                   error=repr(exc))
                        self.position = seq
                        continue
                    before = self.rules.get(envelope.ref)
                    await on_change(envelope.ref, before, self.apply(envelope))
