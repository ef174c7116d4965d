"""Notifications of workflows and inquiries (channels `workflow_execution_status_changed`,
`inquiry_created`, `inquiry_responded`, `inquiry_timeout`), added to `mapping.MAPPERS`.

A workflow's status changes are the conductor's own (`workflow.started`, `paused`,
`resumed`, `failing`, `cancel_requested`, `finished`); each says its new status. An
inquiry's notifications carry what a responder needs (prompt, schema, assignee,
deadline) — never the response of someone else's inquiry beyond its fields."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from attune.domain.inquiry import InquiryCreated, InquiryResponded, InquiryTimedOut
from attune.eventstore.envelope import Envelope
from attune.notifier.channels import CHANNELS
from attune.notifier.notification import Notification

if TYPE_CHECKING:
    from attune.notifier.mapping import MapFn, Mapper

#: The workflow status each conductor event leads to.
WORKFLOW_STATUS = {"started": "running", "pause_requested": "pausing", "paused": "paused",
                   "resumed": "running", "failing": "failing",
                   "cancel_requested": "canceling"}


def _notification(kind: str, entity_id: int, envelope: Envelope,
                  payload: dict[str, Any]) -> Notification:
    channel = CHANNELS[kind]
    return Notification(notification_type=kind, entity_type=channel.entity_type,
                        entity_id=entity_id, payload=payload, timestamp=envelope.event.at,
                        sequence=envelope.seq, resource=channel.resource)


async def workflow_status_changed(mapper: Mapper, envelope: Envelope) -> list[Notification]:
    name = envelope.event.name
    status = getattr(envelope.event, "status", None) or WORKFLOW_STATUS[name]
    execution_id = envelope.aggregate_id
    payload: dict[str, Any] = {"id": execution_id, "execution_id": execution_id,
                               "status": status, "event": name}
    error = getattr(envelope.event, "error", None)
    if error:
        payload["error"] = error
    return [_notification("workflow_execution_status_changed", execution_id, envelope,
                          payload)]


async def inquiry_created(mapper: Mapper, envelope: Envelope) -> list[Notification]:
    event = envelope.event
    assert isinstance(event, InquiryCreated)
    payload = {"id": envelope.seq, "execution_id": event.execution_id,
               "workflow_execution_id": event.workflow_execution_id, "prompt": event.prompt,
               "response_schema": {k: v.model_dump(mode="json", exclude_none=True)
                                   for k, v in event.response_schema.items()},
               "assigned_to": event.assigned_to, "status": "pending",
               "timeout_at": event.timeout_at.isoformat()}
    return [_notification("inquiry_created", envelope.seq, envelope, payload)]


async def inquiry_ended(mapper: Mapper, envelope: Envelope) -> list[Notification]:
    event = envelope.event
    inquiry_id = envelope.aggregate_id
    if isinstance(event, InquiryResponded):
        return [_notification("inquiry_responded", inquiry_id, envelope, {
            "id": inquiry_id, "status": "responded", "responded_by": event.by,
            "response": event.response})]
    assert isinstance(event, InquiryTimedOut)
    return [_notification("inquiry_timeout", inquiry_id, envelope,
                          {"id": inquiry_id, "status": "timeout"})]


WORKFLOW_MAPPERS: dict[str, MapFn] = {
    **{f"workflow.{name}": workflow_status_changed
       for name in (*WORKFLOW_STATUS, "finished")},
    "inquiry.created": inquiry_created,
    "inquiry.responded": inquiry_ended,
    "inquiry.timed_out": inquiry_ended,
}
