"""The audit read models: `audit_changes` (every event of ATTUNE_EVENTS, run by the
projector with the other projections) and `audit_requests` (the request records of
ATTUNE_AUDIT, run by `attune.app.audit.AuditRecorder` on that stream). Neither copies an
event body: a change row names the event type, the aggregate and who did it."""

from __future__ import annotations

from attune.domain.audit import RESOURCE_OF, RequestsAudited
from attune.eventstore.envelope import Envelope
from attune.readmodel.projection import Statement

#: records per batch message at most (request ids: 2 x (seq x 1000 + index) + 1)
BATCH_SLOTS = 1000

_CHANGE = """
INSERT INTO audit_changes (id, at, request_id, actor, category, event_type, resource_ref)
VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (id) DO NOTHING"""
_REQUEST = """
INSERT INTO audit_requests (id, at, request_id, actor, actor_id, token_type, category,
    event_type, action, resource_ref, outcome, status, duration_ms)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) ON CONFLICT (id) DO NOTHING"""


def change_id(seq: int) -> int:
    return 2 * seq


def request_id(seq: int, index: int) -> int:
    return 2 * (seq * BATCH_SLOTS + index) + 1


class AuditChangesProjection:
    name = "audit_changes"
    tables = ("audit_changes",)

    def apply(self, envelope: Envelope) -> list[Statement]:
        aggregate = envelope.subject.split(".")[1]
        ref = str(envelope.aggregate_id) if envelope.key == "new" else envelope.ref
        return [Statement(_CHANGE, (
            change_id(envelope.seq), envelope.event.at, envelope.meta.correlation_id or None,
            envelope.meta.actor, RESOURCE_OF.get(aggregate, aggregate), envelope.event.type,
            ref))]


class AuditRequestsProjection:
    name = "audit_requests"
    tables = ("audit_requests",)

    def apply(self, envelope: Envelope) -> list[Statement]:
        if not isinstance(envelope.event, RequestsAudited):
            return []
        return [Statement(_REQUEST, (
            request_id(envelope.seq, i), r.at, r.request_id, r.actor,
            r.actor_id, r.token_type, r.resource or "api", f"{r.method} {r.route}", r.action,
            r.resource_ref, r.outcome, r.status, r.duration_ms))
            for i, r in enumerate(envelope.event.records[:BATCH_SLOTS])]
