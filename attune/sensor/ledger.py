"""The last tick each rule's timer fired, in the KV bucket `attune_timers` (no TTL).

Written after the tick's event is appended, by the lease holder, with compare-and-set
on the revision it read. A restart (or the replica taking a lease over) reads it, so a
timer neither fires a tick twice nor forgets a date-time timer already fired — also days
later, long after JetStream's 2 h duplicate window has forgotten the event's msg id.

An entry belongs to one incarnation of a rule (`rule_created`): a rule deleted and
created again under the same ref starts afresh.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from datetime import datetime

import orjson
from nats.js.errors import KeyNotFoundError, KeyWrongLastSequenceError
from nats.js.kv import KeyValue

from attune.errors import ConcurrencyError

TIMERS_BUCKET = "attune_timers"


@dataclass(frozen=True)
class TimerRecord:
    rule_created: datetime
    #: Scheduled time of the last tick fired.
    last: datetime
    #: Ticks fired by this incarnation of the rule.
    count: int


class Ledger:
    def __init__(self, kv: KeyValue) -> None:
        self.kv = kv

    async def read(self, key: str) -> tuple[TimerRecord | None, int]:
        """The record and its revision (0 when there is none)."""
        try:
            entry = await self.kv.get(key)
        except KeyNotFoundError:  # also deleted keys
            return None, 0
        if not entry.value:
            return None, int(entry.revision or 0)
        doc = orjson.loads(entry.value)
        record = TimerRecord(rule_created=datetime.fromisoformat(doc["rule_created"]),
                             last=datetime.fromisoformat(doc["last"]), count=int(doc["count"]))
        return record, int(entry.revision or 0)

    async def write(self, key: str, record: TimerRecord, *, revision: int) -> int:
        """Store `record` if the entry is still at `revision`; returns the new revision.
        ConcurrencyError when someone else wrote meanwhile."""
        value = orjson.dumps({"rule_created": record.rule_created.isoformat(),
                              "last": record.last.isoformat(), "count": record.count})
        try:
            if revision == 0:
                return int(await self.kv.create(key, value))
            return int(await self.kv.update(key, value, last=revision))
        except KeyWrongLastSequenceError as exc:
            raise ConcurrencyError(f"timer state {key} changed since revision {revision}"
                                   ) from exc

    async def forget(self, key: str, *, rule_created: datetime) -> None:
        """Drop the entry of a deleted rule — only if it is that incarnation's (a replica
        reading the stream late must not erase the state of the rule created again)."""
        record, revision = await self.read(key)
        if record is not None and record.rule_created == rule_created:
            with contextlib.suppress(KeyWrongLastSequenceError):
                await self.kv.delete(key, last=revision)
