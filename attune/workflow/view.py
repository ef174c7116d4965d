"""A readable summary of a workflow's state, for `GET /executions/{id}` of a workflow
and `attune execution get --tree`: its status and each task run with its children.

This walks every run and unit, so it is for reads, not for the conductor's hot path.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from attune.workflow.state import Run, WorkflowState


def run_summary(run: Run) -> dict[str, Any]:
    shown: dict[str, Any] = {"task": run.task, "run": run.run, "status": run.status,
                             "via": f"{run.via[0]}#{run.via[1]}" if run.via else None}
    if run.items is not None:
        counts = Counter(run.unit_status)
        shown["items"] = {"total": len(run.items), "children": run.units,
                          "concurrency": run.concurrency, **dict(sorted(counts.items()))}
    if run.units:
        shown["attempts"] = max(run.attempts)
    if run.error is not None:
        shown["error"] = run.error
    return shown


def summary(state: WorkflowState) -> dict[str, Any]:
    """{status, error, tasks: [run summaries in start order], in_flight, timers}."""
    return {
        "status": state.status,
        "error": state.error,
        "tasks": [run_summary(run) for run in state.runs.values()],
        "in_flight": [child.model_dump() for child in state.in_flight],
        "timers": sorted(state.timers),
    }
