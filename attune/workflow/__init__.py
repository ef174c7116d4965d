"""Workflows: the canonical model, the parser and validator, and the conductor — a pure
event-sourced state machine the executor drives (see README.md beside this file)."""

from __future__ import annotations

from attune.workflow.commands import (
    Cancel,
    CancelTimers,
    ChildEnded,
    Decision,
    FinishWorkflow,
    Pause,
    RequestChild,
    Rerun,
    Resume,
    ScheduleTimer,
    SignalChildren,
    TimerFired,
    WorkflowCommand,
    status_of_execution,
)
from attune.workflow.conductor import decide, start
from attune.workflow.events import ChildKey, WorkflowEvent
from attune.workflow.model import Backoff, RetryPolicy, TaskDef, Transition, WithItems, WorkflowDef
from attune.workflow.parse import parse_action_workflow, parse_workflow
from attune.workflow.problems import Problem, WorkflowDefinitionError
from attune.workflow.state import WorkflowState, evolve, replay
from attune.workflow.validate import ValidationReport, validate_workflow

__all__ = [
    "Backoff", "Cancel", "CancelTimers", "ChildEnded", "ChildKey", "Decision", "FinishWorkflow",
    "Pause", "Problem", "RequestChild", "Rerun", "Resume", "RetryPolicy", "ScheduleTimer",
    "SignalChildren", "TaskDef", "TimerFired", "Transition", "ValidationReport", "WithItems",
    "WorkflowCommand", "WorkflowDef", "WorkflowDefinitionError", "WorkflowEvent",
    "WorkflowState", "decide", "evolve", "parse_action_workflow", "parse_workflow", "replay",
    "start", "status_of_execution", "validate_workflow",
]
