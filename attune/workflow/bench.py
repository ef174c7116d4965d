"""Micro-benchmarks of the conductor alone (no servers): what one transition costs,
and whether that cost stays flat as a with_items task grows. `attune bench
workflows` reports these next to its end-to-end numbers.

    chain(200)                 a sequence of 200 noop tasks: cost per task transition
    with_items(10_000, 50)     one task over 10,000 noop items, 50 in flight
    linearity(1_000, 10_000)   per-item cost at both sizes and their ratio (≈1 = linear)

Times are per decision (one child result in, its events and effects out).

Each feeds child results straight back (first requested, first finished) and
times only the conductor's `start`/`decide` calls.
"""

from __future__ import annotations

import statistics
import time
from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from attune.workflow.commands import ChildEnded, Decision, FinishWorkflow, RequestChild
from attune.workflow.conductor import decide, start
from attune.workflow.model import TaskDef, Transition, WithItems, WorkflowDef

_NOW = datetime(2026, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class ConductorTiming:
    label: str
    #: child results fed back (each one a task or item transition)
    transitions: int
    events: int
    seconds: float
    p50_us: float
    p99_us: float
    #: mean of the fastest 95 % of decisions: steadier than the mean on a busy machine
    #: (preemption and collector pauses land in the slowest few)
    trimmed_us: float
    status: str

    @property
    def per_transition_us(self) -> float:
        return self.seconds * 1e6 / max(1, self.transitions)


def chain_workflow(tasks: int) -> WorkflowDef:
    return WorkflowDef(ref="bench.chain", tasks=tuple(
        TaskDef(name=f"t{i}", action="core.noop", input={"message": "{{ index_of([1], 1) }}"},
                next=(Transition(when="{{ succeeded() }}", do=(f"t{i + 1}",)),)
                if i + 1 < tasks else ())
        for i in range(tasks)))


def items_workflow(items: int, concurrency: int) -> WorkflowDef:
    return WorkflowDef(ref="bench.items", parameters={}, tasks=(
        TaskDef(name="each", action="core.noop", input={"n": "{{ item }}"},
                with_items=WithItems(items=f"{{{{ range({items}) }}}}",
                                     concurrency=concurrency),
                next=(Transition(when="{{ succeeded() }}",
                                 publish={"count": "{{ length(result()) }}"}),)),))


def drive(definition: WorkflowDef, label: str) -> ConductorTiming:
    samples: list[int] = []
    in_flight: deque[RequestChild] = deque()
    events = 0
    finished: FinishWorkflow | None = None

    def take(decision: Decision) -> None:
        nonlocal events, finished
        events += len(decision.events)
        for effect in decision.effects:
            if isinstance(effect, RequestChild):
                in_flight.append(effect)
            elif isinstance(effect, FinishWorkflow):
                finished = effect

    began = time.perf_counter_ns()
    state, decision = start(definition, {}, now=_NOW)
    samples.append(time.perf_counter_ns() - began)
    take(decision)
    result: dict[str, Any] = {"ok": True}
    while in_flight:
        request = in_flight.popleft()
        command = ChildEnded(child=request.child, status="succeeded", result=result)
        began = time.perf_counter_ns()
        decision = decide(state, command, now=_NOW)
        samples.append(time.perf_counter_ns() - began)
        take(decision)
    samples.sort()
    kept = samples[:max(1, int(len(samples) * 0.95))]
    return ConductorTiming(
        label=label, transitions=len(samples) - 1, events=events, seconds=sum(samples) / 1e9,
        p50_us=statistics.median(samples) / 1e3,
        p99_us=samples[min(len(samples) - 1, int(len(samples) * 0.99))] / 1e3,
        trimmed_us=statistics.fmean(kept) / 1e3,
        status=finished.status if finished else "unfinished")


def chain(tasks: int = 200) -> ConductorTiming:
    return drive(chain_workflow(tasks), f"chain of {tasks} noop tasks")


def with_items(items: int, concurrency: int = 50) -> ConductorTiming:
    return drive(items_workflow(items, concurrency),
                 f"with_items over {items} noop items ({concurrency} in flight)")


def linearity(small: int = 1_000, large: int = 10_000, concurrency: int = 50
              ) -> tuple[ConductorTiming, ConductorTiming, float]:
    """Both timings and the ratio of their per-item cost (trimmed means, large / small);
    1.0 is linear."""
    first, second = with_items(small, concurrency), with_items(large, concurrency)
    return first, second, second.trimmed_us / first.trimmed_us
