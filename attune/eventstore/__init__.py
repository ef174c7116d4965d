"""JetStream adapter: the append-only event store, consumers and stream declarations."""

from attune.eventstore.envelope import Envelope, Meta
from attune.eventstore.store import EventStore

__all__ = ["Envelope", "EventStore", "Meta"]
