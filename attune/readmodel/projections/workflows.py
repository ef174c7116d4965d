"""The workflow read models (projections/015_workflows.sql): each workflow's children
(from `execution.requested` events that carry `workflow_task`) and its pending timers
(from the workflow events that set and clear them)."""

from __future__ import annotations

from attune.domain.execution import ExecutionRequested
from attune.eventstore.envelope import Envelope
from attune.readmodel.projection import Statement
from attune.workflow.events import (
    ChildFinished,
    RetryDue,
    TaskDelayed,
    TaskStarted,
    WorkflowCancelRequested,
    WorkflowFailing,
    WorkflowFinished,
)
from attune.workflow.state import delay_timer, retry_timer

_CHILD = """
INSERT INTO workflow_children (execution_id, parent, task, run, item, attempt, is_workflow)
VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (execution_id) DO NOTHING"""
_TIMER = """
INSERT INTO workflow_timers (execution_id, timer, due) VALUES ($1, $2, $3)
ON CONFLICT (execution_id, timer) DO UPDATE SET due = $3"""
_TIMER_DONE = "DELETE FROM workflow_timers WHERE execution_id = $1 AND timer = $2"
_TIMERS_DROPPED = "DELETE FROM workflow_timers WHERE execution_id = $1"


class WorkflowsProjection:
    name = "workflows"
    tables = ("workflow_children", "workflow_timers")

    def apply(self, envelope: Envelope) -> list[Statement]:
        event = envelope.event
        match event:
            case ExecutionRequested(workflow_task=dict() as key, parent=int() as parent):
                return [Statement(_CHILD, (envelope.seq, parent, key["task"], key["run"],
                                           key.get("item"), key.get("attempt", 1),
                                           event.action.workflow is not None))]
            case TaskDelayed():
                return [Statement(_TIMER, (envelope.aggregate_id, event.timer, event.until))]
            case TaskStarted():
                return [Statement(_TIMER_DONE, (envelope.aggregate_id,
                                                delay_timer(event.task, event.run)))]
            case ChildFinished(retry_at=retry_at) if retry_at is not None:
                return [Statement(_TIMER, (envelope.aggregate_id, retry_timer(event.child),
                                           retry_at))]
            case RetryDue():
                return [Statement(_TIMER_DONE, (envelope.aggregate_id,
                                                retry_timer(event.child)))]
            case WorkflowFailing() | WorkflowCancelRequested() | WorkflowFinished():
                return [Statement(_TIMERS_DROPPED, (envelope.aggregate_id,))]
            case _:
                return []
