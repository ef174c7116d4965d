from __future__ import annotations

from attune.domain.execution import (
    ExecutionAbandoned,
    ExecutionCancelled,
    ExecutionCancelRequested,
    ExecutionCompleted,
    ExecutionFailed,
    ExecutionQueued,
    ExecutionRequested,
    ExecutionScheduled,
    ExecutionStarted,
    ExecutionTimedOut,
    Status,
)
from attune.eventstore.envelope import Envelope
from attune.readmodel.projection import Statement

_INSERT = """
INSERT INTO executions (id, action_ref, status, parameters, env_vars, timeout_seconds,
                        requested_by, parent, enforcement, rule_ref, trigger_ref, event_id,
                        rerun_of, version, created, updated)
VALUES ($1, $2, 'requested', $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $1, $13, $13)
ON CONFLICT (id) DO NOTHING"""
_STATUS = """
UPDATE executions SET status = $2, version = $3, updated = $4, waiting_reason = NULL
WHERE id = $1"""
_QUEUED = """
UPDATE executions SET status = 'scheduling', waiting_reason = $2, version = $3, updated = $4
WHERE id = $1"""
_STARTED = """
UPDATE executions SET status = 'running', worker = $2, version = $3, updated = $4,
    started_at = $4 WHERE id = $1"""
_FINISHED = """
UPDATE executions SET status = $2, result = $3, version = $4, updated = $5, finished_at = $5,
    waiting_reason = NULL
WHERE id = $1"""


class ExecutionsProjection:
    name = "executions"
    tables = ("executions",)

    def apply(self, envelope: Envelope) -> list[Statement]:
        seq = envelope.seq
        match envelope.event:
            case ExecutionRequested() as e:
                return [Statement(_INSERT, (seq, e.action.ref, e.parameters, e.env_vars,
                                            e.timeout_seconds, e.requested_by, e.parent,
                                            e.enforcement, e.rule_ref, e.trigger_ref,
                                            e.event_id, e.rerun_of, e.at))]
            case ExecutionQueued() as e:
                return [Statement(_QUEUED, (envelope.aggregate_id, e.reason, seq, e.at))]
            case ExecutionScheduled() as e:
                return [Statement(_STATUS, (envelope.aggregate_id, Status.SCHEDULED.value, seq,
                                            e.at))]
            case ExecutionStarted() as e:
                return [Statement(_STARTED, (envelope.aggregate_id, e.worker, seq, e.at))]
            case ExecutionCompleted() | ExecutionFailed() as e:
                status = Status.COMPLETED if isinstance(e, ExecutionCompleted) else Status.FAILED
                return [Statement(_FINISHED, (envelope.aggregate_id, status.value,
                                              e.outcome.model_dump(mode="json"), seq, e.at))]
            case ExecutionCancelRequested() as e:
                return [Statement(_STATUS, (envelope.aggregate_id, Status.CANCELING.value, seq,
                                            e.at))]
            case ExecutionCancelled() as e:
                result = (e.outcome.model_dump(mode="json") if e.outcome
                          else {"error": f"cancelled by {e.by}" if e.by else "cancelled"})
                return [Statement(_FINISHED, (envelope.aggregate_id, Status.CANCELLED.value,
                                              result, seq, e.at))]
            case ExecutionTimedOut() as e:
                result = (e.outcome.model_dump(mode="json") if e.outcome
                          else {"error": e.reason})
                return [Statement(_FINISHED, (envelope.aggregate_id, Status.TIMEOUT.value,
                                              result, seq, e.at))]
            case ExecutionAbandoned() as e:
                return [Statement(_FINISHED, (envelope.aggregate_id, Status.ABANDONED.value,
                                              {"error": e.reason}, seq, e.at))]
            case _:
                return []
