"""The notification types (channels) of the original and what each concerns: its entity
type and the API resource a recipient must be allowed to read. Types whose events do not
exist yet (workflows, inquiries, artifacts, work queues) are listed already, so clients
may subscribe to them; the work that adds their events adds their mapping (`mapping`)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Channel:
    entity_type: str
    resource: str


CHANNELS: dict[str, Channel] = {
    "execution_created": Channel("execution", "executions"),
    "execution_status_changed": Channel("execution", "executions"),
    "workflow_execution_status_changed": Channel("workflow_execution", "executions"),
    "inquiry_created": Channel("inquiry", "inquiries"),
    "inquiry_responded": Channel("inquiry", "inquiries"),
    "inquiry_timeout": Channel("inquiry", "inquiries"),
    "event_created": Channel("event", "events"),
    "enforcement_created": Channel("enforcement", "enforcements"),
    "enforcement_status_changed": Channel("enforcement", "enforcements"),
    "artifact_created": Channel("artifact", "artifacts"),
    "artifact_updated": Channel("artifact", "artifacts"),
    "work_queue_created": Channel("work_queue", "queues"),
    "work_queue_updated": Channel("work_queue", "queues"),
    "work_queue_item_created": Channel("work_queue_item", "queue_items"),
    "work_queue_item_updated": Channel("work_queue_item", "queue_items"),
    "rule_lifecycle_changed": Channel("rule", "rules"),
}

#: entity type -> the resource its notifications need read permission on
ENTITY_RESOURCES: dict[str, str] = {c.entity_type: c.resource for c in CHANNELS.values()}

#: What the `all` filter needs (as the original): read on each of these.
ALL_RESOURCES = ("events", "enforcements", "executions", "rules")
