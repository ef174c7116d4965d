"""Properties of the conductor over generated workflows (with items, joins, retries,
delays), child outcomes in any order and pause/resume/cancel at any point: it always
ends, never exceeds a with_items concurrency, keeps with_items results in item order,
and its events alone rebuild its state."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from attune.workflow import (
    Cancel,
    Pause,
    RequestChild,
    Resume,
    RetryPolicy,
    TaskDef,
    Transition,
    WithItems,
    WorkflowDef,
)
from tests.test_workflow_driver import Driver, Outcome

WHEN = st.sampled_from([None, "{{ succeeded() }}", "{{ failed() }}", "not succeeded()"])


@st.composite
def workflows(draw: st.DrawFn) -> WorkflowDef:
    count = draw(st.integers(2, 7))
    names = [f"t{i}" for i in range(count)]
    tasks: list[dict[str, Any]] = []
    for i, name in enumerate(names):
        later = names[i + 1:]
        transitions = tuple(
            Transition(when=draw(WHEN), do=tuple(draw(st.lists(st.sampled_from(later),
                                                                max_size=2, unique=True))),
                       publish={f"v{i}": "{{ result() }}"} if draw(st.booleans()) else {})
            for _ in range(draw(st.integers(0, 2) if later else st.just(0))))
        items = draw(st.none() | st.integers(0, 5))
        tasks.append({
            "name": name, "action": "core.custom", "next": transitions,
            "input": {"i": "{{ item }}"} if items is not None else {"i": i},
            "with_items": None if items is None else WithItems(
                items=f"{{{{ range({items}) }}}}", concurrency=draw(st.integers(1, 3))),
            "join": draw(st.sampled_from([None, None, "all", 1])) if i else None,
            "retry": draw(st.none() | st.builds(RetryPolicy, count=st.integers(0, 2),
                                                 delay=st.sampled_from([0.0, 5.0]))),
            "delay": draw(st.sampled_from([None, None, 3.0]))})
    inbound = dict.fromkeys(names, 0)
    for task in tasks:
        for transition in task["next"]:
            for target in transition.do:
                inbound[target] += 1
    for task in tasks:  # a join needs inbound tasks (the validator insists)
        if inbound[task["name"]] < 2:
            task["join"] = None
    return WorkflowDef(tasks=tuple(TaskDef(**task) for task in tasks))


CONTROLS = st.dictionaries(st.integers(0, 30), st.sampled_from(["pause", "resume", "cancel"]),
                           max_size=4)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(workflows(), st.lists(st.booleans(), min_size=1, max_size=20),
       st.lists(st.integers(0, 10), min_size=1, max_size=20), CONTROLS)
def test_any_workflow_ends_within_its_limits_and_replays(
        definition: WorkflowDef, outcomes: list[bool], picks: list[int],
        controls: dict[int, str]) -> None:
    calls = [0]

    def custom(request: RequestChild) -> Outcome:
        calls[0] += 1
        ok = outcomes[calls[0] % len(outcomes)]
        return ("succeeded" if ok else "failed"), request.parameters["i"]

    driver = Driver(definition, actions={"core.custom": custom})
    in_flight: dict[tuple[str, int], int] = {}
    for step in range(10_000):
        if driver.finished is not None:
            break
        for request in driver.in_flight:
            key = (request.child.task, request.child.run)
            in_flight[key] = max(in_flight.get(key, 0),
                                 sum(1 for r in driver.in_flight
                                     if (r.child.task, r.child.run) == key))
        control = controls.get(step)
        if control is not None:
            driver.command({"pause": Pause(), "resume": Resume(), "cancel": Cancel()}[control])
            continue
        driver.in_flight.rotate(-picks[step % len(picks)] % max(1, len(driver.in_flight)))
        if not driver.step():
            assert driver.state.status == "paused", "the workflow stalled before it finished"
            driver.command(Resume())
    assert driver.finished is not None
    driver.check_replay()
    for (task, _run), most in in_flight.items():
        spec = definition.task(task).with_items
        assert most <= (spec.concurrency if spec is not None else 1)  # type: ignore[operator]
    for run in driver.state.runs.values():
        if run.items is not None and run.status == "succeeded":
            assert run.results == run.items
