from __future__ import annotations

from attune.domain.execution import (
    ExecutionAbandoned,
    ExecutionCompleted,
    ExecutionFailed,
    ExecutionRequested,
    ExecutionScheduled,
    ExecutionStarted,
    Status,
)
from attune.eventstore.envelope import Envelope
from attune.readmodel.projection import Statement

_INSERT = """
INSERT INTO executions (id, action_ref, status, parameters, env_vars, timeout_seconds,
                        requested_by, parent, enforcement, rule_ref, trigger_ref, event_id,
                        version, created, updated)
VALUES ($1, $2, 'requested', $3, $4, $5, $6, $7, $8, $9, $10, $11, $1, $12, $12)
ON CONFLICT (id) DO NOTHING"""
_STATUS = "UPDATE executions SET status = $2, version = $3, updated = $4 WHERE id = $1"
_STARTED = """
UPDATE executions SET status = 'running', worker = $2, version = $3, updated = $4,
    started_at = $4 WHERE id = $1"""
_FINISHED = """
UPDATE executions SET status = $2, result = $3, version = $4, updated = $5, finished_at = $5
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
                                            e.event_id, e.at))]
            case ExecutionScheduled() as e:
                return [Statement(_STATUS, (envelope.aggregate_id, Status.SCHEDULED.value, seq,
                                            e.at))]
            case ExecutionStarted() as e:
                return [Statement(_STARTED, (envelope.aggregate_id, e.worker, seq, e.at))]
            case ExecutionCompleted() | ExecutionFailed() as e:
                status = Status.COMPLETED if isinstance(e, ExecutionCompleted) else Status.FAILED
                return [Statement(_FINISHED, (envelope.aggregate_id, status.value,
                                              e.outcome.model_dump(mode="json"), seq, e.at))]
            case ExecutionAbandoned() as e:
                return [Statement(_FINISHED, (envelope.aggregate_id, Status.ABANDONED.value,
                                              {"error": e.reason}, seq, e.at))]
            case _:
                return []
