"""A fake executor loop for conductor tests: it carries out the effects of each
decision (children "run" through plain Python handlers, timers fire when the fake
clock reaches them) and feeds the results back — no servers, no mocks of NATS.

Every run also checks that the events alone rebuild the same state (each one
round-tripped through its JSON form, as the stream would store it).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import yaml

from attune.domain.events import event_class
from attune.workflow import (
    CancelTimers,
    ChildEnded,
    Decision,
    FinishWorkflow,
    RequestChild,
    ScheduleTimer,
    SignalChildren,
    TimerFired,
    WorkflowCommand,
    WorkflowDef,
    decide,
    parse_workflow,
    replay,
    start,
    validate_workflow,
)

T0 = datetime(2026, 1, 1, tzinfo=UTC)
Outcome = tuple[str, Any]
Handler = Callable[[RequestChild], Outcome]


def noop(request: RequestChild) -> Outcome:
    return "succeeded", {"ok": True}


def echo(request: RequestChild) -> Outcome:
    return "succeeded", {"stdout": request.parameters.get("message")}


def fail(request: RequestChild) -> Outcome:
    return "failed", {"error": "boom"}


DEFAULT_ACTIONS: dict[str, Handler] = {"core.noop": noop, "core.echo": echo, "core.fail": fail}


def workflow(text: str) -> WorkflowDef:
    definition = parse_workflow(yaml.safe_load(text))
    report = validate_workflow(definition, known_actions=set(DEFAULT_ACTIONS) | {
        "core.custom", "core.flaky", "core.slow", "core.sleep", "core.double",
        "examples.leaf", "examples.middle"})
    assert report.ok, report.errors
    return definition


class Driver:
    def __init__(self, definition: WorkflowDef | str, parameters: dict[str, Any] | None = None,
                 *, actions: dict[str, Handler] | None = None, lifo: bool = False,
                 keystore: Callable[[str], Any] | None = None,
                 config: dict[str, Any] | None = None) -> None:
        if isinstance(definition, str):
            definition = workflow(definition)
        self.actions = {**DEFAULT_ACTIONS, **(actions or {})}
        self.lifo = lifo
        self.now = T0
        self.keystore = keystore
        self.events: list[Any] = []
        self.in_flight: deque[RequestChild] = deque()
        self.requested: list[RequestChild] = []
        self.timers: dict[str, datetime] = {}
        self.signals: list[SignalChildren] = []
        self.finished: FinishWorkflow | None = None
        self.max_in_flight: dict[str, int] = {}
        self.state, decision = start(definition, parameters or {}, now=self.now,
                                     config=config, system={"execution_id": 7},
                                     keystore=keystore)
        self.apply(decision)

    # -- the fake executor -------------------------------------------------------------

    def apply(self, decision: Decision) -> Decision:
        self.events.extend(decision.events)
        for effect in decision.effects:
            match effect:
                case RequestChild():
                    self.in_flight.append(effect)
                    self.requested.append(effect)
                    task = effect.child.task
                    count = sum(1 for r in self.in_flight if r.child.task == task)
                    self.max_in_flight[task] = max(self.max_in_flight.get(task, 0), count)
                case ScheduleTimer():
                    self.timers[effect.timer] = effect.due
                case CancelTimers():
                    for timer in effect.timers:
                        self.timers.pop(timer, None)
                case SignalChildren():
                    self.signals.append(effect)
                    if effect.signal == "cancel":
                        for request in [r for r in self.in_flight if r.child in effect.children]:
                            self.in_flight.remove(request)
                            self.apply(self.send(ChildEnded(child=request.child,
                                                            status="cancelled")))
                case FinishWorkflow():
                    assert self.finished is None, "finished twice"
                    self.finished = effect
        return decision

    def send(self, command: WorkflowCommand) -> Decision:
        return decide(self.state, command, now=self.now, keystore=self.keystore)

    def command(self, command: WorkflowCommand) -> Decision:
        return self.apply(self.send(command))

    def step(self) -> bool:
        """Finish one in-flight child (or fire the next timer); whether anything ran."""
        if self.in_flight:
            request = self.in_flight.pop() if self.lifo else self.in_flight.popleft()
            status, result = self.actions[request.action](request)
            self.apply(self.send(ChildEnded(child=request.child, status=status, result=result)))
            return True
        if self.timers:
            timer, due = min(self.timers.items(), key=lambda kv: kv[1])
            del self.timers[timer]
            self.now = max(self.now, due)
            self.apply(self.send(TimerFired(timer=timer)))
            return True
        return False

    def run(self, limit: int = 100_000) -> FinishWorkflow | None:
        for _ in range(limit):
            if self.finished is not None or not self.step():
                break
        self.check_replay()
        return self.finished

    # -- what happened -----------------------------------------------------------------

    def order(self) -> list[str]:
        """Tasks in the order their children were requested (items as task[i])."""
        return [r.child.task if r.child.item is None else f"{r.child.task}[{r.child.item}]"
                for r in self.requested]

    def tasks_started(self) -> list[str]:
        return [e.task for e in self.events if e.type == "workflow.task_started"]

    def check_replay(self) -> None:
        decoded = [event_class(e.type).model_validate_json(e.model_dump_json())
                   for e in self.events]
        assert replay(decoded).snapshot() == self.state.snapshot()


def later(driver: Driver, seconds: float) -> None:
    driver.now += timedelta(seconds=seconds)
