"""The envelope: an event plus what the wire says about it (DESIGN invariant 2).

Body = the event model as JSON. Headers carry the idempotency key, the event
type and schema version, correlation and causation ids and the acting identity.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import uuid4

import orjson

from attune.domain.events import Event, decode
from attune.eventstore.subjects import untoken

MSG_ID = "Nats-Msg-Id"
TYPE = "Attune-Type"
SCHEMA = "Attune-Schema"
CORRELATION = "Attune-Correlation-Id"
CAUSATION = "Attune-Causation-Id"
ACTOR = "Attune-Actor"


@dataclass(frozen=True, slots=True)
class Meta:
    """Who and what caused an append."""

    correlation_id: str
    causation_id: str | None = None
    actor: str | None = None

    @staticmethod
    def new(actor: str | None = None) -> Meta:
        return Meta(correlation_id=uuid4().hex, actor=actor)

    def caused_by(self, envelope: Envelope) -> Meta:
        """Meta for an event emitted in reaction to `envelope`."""
        return Meta(correlation_id=envelope.meta.correlation_id,
                    causation_id=envelope.msg_id, actor=envelope.meta.actor)


@dataclass(frozen=True, slots=True)
class Envelope:
    seq: int
    subject: str
    msg_id: str
    event: Event
    meta: Meta

    @property
    def key(self) -> str:
        """The aggregate key token of the subject (`new` for creation events)."""
        return self.subject.split(".")[2]

    @property
    def ref(self) -> str:
        """The aggregate key as written (a ref such as `core.echo`, a login...)."""
        return untoken(self.key)

    @property
    def aggregate_id(self) -> int:
        """Numeric id of aggregates keyed by their creation sequence."""
        key = self.key
        return self.seq if key == "new" else int(key)

    @property
    def at(self) -> datetime:
        return self.event.at


def encode(event: Event, *, msg_id: str, meta: Meta) -> tuple[bytes, dict[str, str]]:
    headers = {MSG_ID: msg_id, TYPE: event.type, SCHEMA: str(event.schema_version),
               CORRELATION: meta.correlation_id}
    if meta.causation_id:
        headers[CAUSATION] = meta.causation_id
    if meta.actor:
        headers[ACTOR] = meta.actor
    return orjson.dumps(event.model_dump(mode="json")), headers


def decode_message(seq: int, subject: str, data: bytes, headers: dict[str, str] | None
                   ) -> Envelope:
    h = headers or {}
    event = decode(h[TYPE], data)
    meta = Meta(correlation_id=h.get(CORRELATION, ""), causation_id=h.get(CAUSATION),
                actor=h.get(ACTOR))
    return Envelope(seq=seq, subject=subject, msg_id=h.get(MSG_ID, ""), event=event, meta=meta)
