"""The `inquiries` read model (projections/016_inquiries.sql): one row per inquiry."""

from __future__ import annotations

from attune.domain.inquiry import (
    InquiryCancelled,
    InquiryCreated,
    InquiryResponded,
    InquiryTimedOut,
)
from attune.eventstore.envelope import Envelope
from attune.readmodel.projection import Statement

_CREATE = """
INSERT INTO inquiries (id, execution_id, workflow_execution_id, prompt, response_schema,
                       assigned_to, status, timeout_at, created, updated, version)
VALUES ($1, $2, $3, $4, $5, $6, 'pending', $7, $8, $8, $1) ON CONFLICT (id) DO NOTHING"""
_RESPONDED = """
UPDATE inquiries SET status = 'responded', response = $2, responded_by = $3, updated = $4,
    version = $5 WHERE id = $1"""
_STATUS = "UPDATE inquiries SET status = $2, updated = $3, version = $4 WHERE id = $1"


class InquiriesProjection:
    name = "inquiries"
    tables = ("inquiries",)

    def apply(self, envelope: Envelope) -> list[Statement]:
        event = envelope.event
        match event:
            case InquiryCreated():
                schema = {k: v.model_dump(mode="json", exclude_none=True)
                          for k, v in event.response_schema.items()}
                return [Statement(_CREATE, (
                    envelope.seq, event.execution_id, event.workflow_execution_id,
                    event.prompt, schema, event.assigned_to,
                    event.timeout_at, event.at))]
            case InquiryResponded():
                return [Statement(_RESPONDED, (
                    envelope.aggregate_id, event.response, event.by,
                    event.at, envelope.seq))]
            case InquiryTimedOut():
                return [Statement(_STATUS, (envelope.aggregate_id, "timeout", event.at,
                                            envelope.seq))]
            case InquiryCancelled():
                return [Statement(_STATUS, (envelope.aggregate_id, "cancelled", event.at,
                                            envelope.seq))]
            case _:
                return []
