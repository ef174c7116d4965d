"""Admission of executions under a policy — the pure state machine.

One `Admission` per (action, parameter group): which executions hold a slot
(`running`), which wait (`queue`, kept in request order: ids are stream sequences),
and when recent admissions happened (`admitted_at`, for the rate window). The
executor keeps it in a KV key updated with compare-and-set, so several executors
never over-admit.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

import orjson
from pydantic import BaseModel, ConfigDict, Field

from attune.domain.policy import PolicyDef


class Admission(BaseModel):
    model_config = ConfigDict(frozen=True)

    #: Whose slots these are (the monitor re-reads the policy by it).
    action_ref: str = ""
    running: list[int] = Field(default_factory=list)
    queue: list[int] = Field(default_factory=list)
    admitted_at: list[datetime] = Field(default_factory=list)


@dataclass(frozen=True)
class Verdict:
    outcome: Literal["admit", "queue", "reject"]
    reason: str = ""


def group_key(policy: PolicyDef, action_ref: str, parameters: dict[str, Any]) -> str:
    """KV key of the admission an execution belongs to (KV-safe characters only)."""
    names = policy.concurrency.parameters if policy.concurrency else []
    group = orjson.dumps({n: parameters.get(n) for n in names}, option=orjson.OPT_SORT_KEYS)
    digest = hashlib.sha256(action_ref.encode() + b"\0" + group).hexdigest()[:32]
    return f"adm.{digest}"


def _window(state: Admission, policy: PolicyDef, now: datetime) -> list[datetime]:
    if policy.rate_limit is None:
        return []
    start = now - timedelta(seconds=policy.rate_limit.window_seconds)
    return [t for t in state.admitted_at if t > start]


Full = tuple[Literal["concurrency", "rate"], str]


def _room(state: Admission, policy: PolicyDef, now: datetime) -> Full | None:
    """None when one more execution may start now, else which limit is reached and why."""
    if policy.concurrency and len(state.running) >= policy.concurrency.limit:
        return "concurrency", (f"concurrency limit {policy.concurrency.limit} of policy "
                               f"{policy.ref} reached")
    if policy.rate_limit and len(_window(state, policy, now)) >= policy.rate_limit.max_executions:
        limit = policy.rate_limit
        return "rate", (f"rate limit {limit.max_executions} per {limit.window_seconds} s of "
                        f"policy {policy.ref} reached")
    return None


def request(state: Admission, policy: PolicyDef, execution_id: int, now: datetime
            ) -> tuple[Admission, Verdict]:
    """An execution asks for a slot. Idempotent: asking again gives the same answer."""
    if execution_id in state.running:
        return state, Verdict("admit")
    full = _room(state, policy, now)
    if execution_id in state.queue:
        return state, Verdict("queue", full[1] if full else "waiting in line")
    ahead = [i for i in state.queue if i < execution_id]
    if full is None and not ahead:
        return _admit(state, policy, execution_id, now), Verdict("admit")
    if full and full[0] == "concurrency" and policy.concurrency \
            and policy.concurrency.method == "cancel":
        return state, Verdict("reject", full[1])
    reason = full[1] if full else f"{len(ahead)} earlier executions wait first"
    queue = sorted([*state.queue, execution_id])
    return state.model_copy(update={"queue": queue}), Verdict("queue", reason)


def release(state: Admission, execution_id: int) -> Admission:
    """An execution ended (or was cancelled while waiting): free its slot or place."""
    return state.model_copy(update={
        "running": [i for i in state.running if i != execution_id],
        "queue": [i for i in state.queue if i != execution_id]})


def admit_waiting(state: Admission, policy: PolicyDef, now: datetime
                  ) -> tuple[Admission, list[int]]:
    """Admit from the head of the queue while there is room; returns who got in."""
    admitted: list[int] = []
    while state.queue and _room(state, policy, now) is None:
        head = state.queue[0]
        state = _admit(state.model_copy(update={"queue": state.queue[1:]}), policy, head, now)
        admitted.append(head)
    return state, admitted


def admit_all(state: Admission) -> Admission:
    """No policy any more: everyone waiting goes ahead."""
    return state.model_copy(update={"running": [*state.running, *state.queue], "queue": []})


def _admit(state: Admission, policy: PolicyDef, execution_id: int, now: datetime
           ) -> Admission:
    return state.model_copy(update={
        "running": [*state.running, execution_id],
        "admitted_at": [*_window(state, policy, now), now]})
