"""Inquiry and workflow events become notifications on their channels
(`inquiry_created`, `inquiry_responded`, `inquiry_timeout`,
`workflow_execution_status_changed`), readable by whoever may read inquiries or
executions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from attune.domain.inquiry import InquiryCreated, InquiryResponded, InquiryTimedOut
from attune.domain.params import ParamSpec
from attune.eventstore.envelope import Envelope, Meta
from attune.notifier.mapping import Mapper
from attune.workflow.events import (
    WorkflowFailing,
    WorkflowFinished,
    WorkflowPaused,
    WorkflowResumed,
)

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def envelope(seq: int, subject: str, event: Any) -> Envelope:
    return Envelope(seq=seq, subject=subject, msg_id=f"m{seq}", event=event, meta=Meta.new())


async def test_inquiry_notifications() -> None:
    mapper = Mapper(None)  # type: ignore[arg-type]  (these mappers read no stream)
    created = InquiryCreated(at=T0, execution_id=7, workflow_execution_id=5, prompt="Go?",
                             response_schema={"go": ParamSpec(type="boolean")},
                             assigned_to="ops", timeout_at=T0 + timedelta(hours=1))
    [note] = await mapper.map(envelope(11, "attune.inquiry.new.created", created))
    assert (note.notification_type, note.entity_type, note.entity_id, note.resource) == (
        "inquiry_created", "inquiry", 11, "inquiries")
    assert note.payload["prompt"] == "Go?" and note.payload["assigned_to"] == "ops"
    assert note.payload["response_schema"] == {"go": {"type": "boolean", "required": False,
                                                      "secret": False}}
    [answered] = await mapper.map(envelope(
        12, "attune.inquiry.11.responded", InquiryResponded(at=T0, response={"go": True},
                                                            by="ops")))
    assert (answered.notification_type, answered.entity_id) == ("inquiry_responded", 11)
    assert answered.payload == {"id": 11, "status": "responded", "responded_by": "ops",
                                "response": {"go": True}}
    [late] = await mapper.map(envelope(13, "attune.inquiry.11.timed_out",
                                       InquiryTimedOut(at=T0)))
    assert (late.notification_type, late.payload["status"]) == ("inquiry_timeout", "timeout")


async def test_workflow_status_notifications() -> None:
    mapper = Mapper(None)  # type: ignore[arg-type]
    statuses = []
    for seq, name, event in [(20, "paused", WorkflowPaused(at=T0)),
                             (21, "resumed", WorkflowResumed(at=T0)),
                             (22, "failing", WorkflowFailing(at=T0, error="boom")),
                             (23, "finished", WorkflowFinished(at=T0, status="failed"))]:
        [note] = await mapper.map(envelope(seq, f"attune.workflow.5.{name}", event))
        assert note.notification_type == "workflow_execution_status_changed"
        assert (note.entity_id, note.resource) == (5, "executions")
        statuses.append(note.payload["status"])
    assert statuses == ["paused", "running", "failing", "failed"]
