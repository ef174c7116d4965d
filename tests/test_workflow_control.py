"""Pause, resume, cancel and rerun at the conductor level, plus the conductor's
guarantees: duplicate inputs are ignored and events alone rebuild the state."""

from __future__ import annotations

import pytest

from attune.errors import InvalidTransitionError, ValidationError
from attune.workflow import (
    Cancel,
    ChildEnded,
    Pause,
    RequestChild,
    Rerun,
    Resume,
    TimerFired,
    start,
)
from tests.test_workflow_driver import T0, Driver, Outcome, workflow

CHAIN = """
    version: "1.0"
    tasks:
      - {name: a, action: core.noop, next: [{do: b}]}
      - {name: b, action: core.noop, next: [{do: c}]}
      - {name: c, action: core.noop}
"""


def test_pause_lets_running_children_finish_then_resume_continues() -> None:
    driver = Driver(CHAIN)
    driver.command(Pause(by="ops"))
    assert driver.state.status == "pausing"
    assert driver.signals[-1].signal == "pause"
    assert [c.task for c in driver.signals[-1].children] == ["a"]
    driver.step()  # a finishes while pausing: b is reached but not requested
    assert driver.state.status == "paused"
    assert driver.order() == ["a"] and not driver.in_flight
    assert not driver.step()  # nothing moves while paused
    driver.command(Resume())
    assert driver.state.status == "running"
    finished = driver.run()
    assert driver.order() == ["a", "b", "c"]
    assert finished is not None and finished.status == "succeeded"


def test_pause_and_resume_are_ignored_when_they_do_not_apply() -> None:
    driver = Driver(CHAIN)
    assert driver.command(Resume()).events == []
    driver.command(Pause())
    assert driver.command(Pause()).events == []
    driver.run()
    assert driver.command(Pause()).events == []  # paused with nothing in flight
    assert driver.state.status == "paused"


def test_cancel_allow_finish_waits_for_running_children_and_starts_nothing() -> None:
    driver = Driver(CHAIN)
    driver.command(Cancel(by="ops"))
    assert driver.state.status == "canceling"
    assert not driver.signals  # allow_finish: children are not cancelled
    finished = driver.run()
    assert driver.order() == ["a"]
    assert finished is not None and finished.status == "cancelled"
    assert driver.state.task_view["a"]["status"] == "succeeded"


def test_cancel_running_cancels_children_and_pending_timers() -> None:
    driver = Driver("""
        version: "1.0"
        cancellation_policy: cancel_running
        tasks:
          - {name: fork, action: core.noop, next: [{do: [slow, later]}]}
          - {name: slow, action: core.noop}
          - {name: later, action: core.noop, delay: 60}
        output_map: {slow: "{{ task.slow.status }}"}
    """)
    driver.step()
    assert list(driver.timers) == ["delay:later:1"] and len(driver.in_flight) == 1
    driver.command(Cancel())
    assert driver.signals[-1].signal == "cancel"
    assert not driver.timers  # dropped with a CancelTimers effect
    finished = driver.run()
    assert finished is not None and finished.status == "cancelled"
    assert finished.output == {"slow": "cancelled"}
    assert driver.order() == ["fork", "slow"]


def test_cancel_while_paused_ends_at_once() -> None:
    driver = Driver(CHAIN)
    driver.command(Pause())
    driver.step()
    driver.command(Cancel())
    assert driver.finished is not None and driver.finished.status == "cancelled"
    driver.check_replay()


def test_rerun_from_the_failed_task_keeps_succeeded_tasks_and_items() -> None:
    broken = {"2": True}

    def sometimes(request: RequestChild) -> Outcome:
        if broken.get(str(request.parameters["n"])):
            return "failed", {"n": request.parameters["n"]}
        return "succeeded", request.parameters["n"] * 10

    driver = Driver("""
        version: "1.0"
        tasks:
          - {name: prepare, action: core.noop, next: [{do: each}]}
          - name: each
            action: core.custom
            with_items: "{{ range(4) }}"
            concurrency: 4
            input: {n: "{{ item }}"}
            next: [{when: "{{ succeeded() }}", publish: {all: "{{ result() }}"}, do: report}]
          - {name: report, action: core.noop}
        output_map: {all: "{{ all }}"}
    """, actions={"core.custom": sometimes})
    finished = driver.run()
    assert finished is not None and finished.status == "failed"
    assert driver.order() == ["prepare", "each[0]", "each[1]", "each[2]", "each[3]"]
    with pytest.raises(ValidationError):
        driver.command(Rerun(tasks=("nope",)))

    broken.clear()
    driver.finished = None
    driver.command(Rerun(by="ops"))
    assert driver.state.status == "running"
    finished = driver.run()
    # prepare is not run again, and of the items only the failed one
    assert driver.order()[5:] == ["each[2]", "report"]
    assert driver.requested[5].child.attempt == 2
    assert finished is not None and finished.status == "succeeded"
    assert finished.output == {"all": [0, 10, 20, 30]}


def test_rerun_of_a_running_workflow_is_refused() -> None:
    driver = Driver(CHAIN)
    with pytest.raises(InvalidTransitionError, match="only a finished workflow"):
        driver.command(Rerun())


def test_duplicate_and_stale_inputs_change_nothing() -> None:
    driver = Driver(CHAIN)
    request = driver.in_flight[0]
    driver.step()
    version = driver.state.version
    assert driver.send(ChildEnded(child=request.child, status="failed")).events == []
    assert driver.send(TimerFired(timer="retry:a:1:0:2")).events == []
    assert driver.state.version == version
    driver.run()
    assert driver.send(ChildEnded(child=request.child, status="succeeded")).events == []


def test_start_validates_parameters_and_vars() -> None:
    definition = workflow("""
        version: "1.0"
        parameters: {n: {type: integer, required: true}}
        vars: {half: "{{ parameters.n / 2 }}", bad: "{{ parameters.n.x }}"}
        tasks: [{name: a, action: core.noop}]
    """)
    with pytest.raises(ValidationError, match="n: expected integer"):
        start(definition, {"n": "3"}, now=T0)
    with pytest.raises(ValidationError, match=r"vars\.bad"):
        start(definition, {"n": 3}, now=T0)


def test_each_event_is_small_whatever_the_workflow_size() -> None:
    driver = Driver("""
        version: "1.0"
        tasks:
          - name: each
            action: core.noop
            with_items: "{{ range(2000) }}"
            concurrency: 50
    """)
    driver.run()
    sizes = [len(e.model_dump_json()) for e in driver.events[2:]]  # after start + items
    assert max(sizes) < 400


def test_rerun_of_a_named_succeeded_task_runs_it_and_what_follows_again() -> None:
    driver = Driver(CHAIN)
    driver.run()
    driver.finished = None
    driver.command(Rerun(tasks=("b",)))
    finished = driver.run()
    assert driver.order() == ["a", "b", "c", "b", "c"]
    assert finished is not None and finished.status == "succeeded"
    assert driver.state.task_view["c"]["run"] == 2


def test_pause_during_with_items_holds_the_remaining_items() -> None:
    driver = Driver("""
        version: "1.0"
        tasks:
          - {name: each, action: core.noop, with_items: "{{ range(5) }}", concurrency: 2}
    """)
    driver.command(Pause())
    driver.step()
    assert driver.state.status == "pausing"  # one child still in flight
    driver.step()
    assert driver.state.status == "paused" and driver.order() == ["each[0]", "each[1]"]
    driver.command(Resume())
    assert len(driver.in_flight) == 2
    finished = driver.run()
    assert driver.order() == [f"each[{i}]" for i in range(5)]
    assert finished is not None and finished.status == "succeeded"


def test_abandoned_and_cancelled_children_count_as_unhandled_failures() -> None:
    for status, function in (("abandoned", "failed"), ("cancelled", "cancelled")):
        driver = Driver(f"""
            version: "1.0"
            tasks:
              - name: lost
                action: core.custom
                next: [{{when: "{{{{ {function}() }}}}", publish: {{seen: "{status}"}}}}]
              - {{name: lost2, action: core.custom}}
            output_map: {{seen: "{{{{ seen }}}}"}}
        """, actions={"core.custom": lambda r, s=status: (s, None)})
        finished = driver.run()
        assert finished is not None and finished.status == "failed"  # lost2 unhandled
        assert driver.state.task_view["lost"]["status"] == status
        assert driver.state.vars["seen"] == status


def test_a_loop_of_routing_tasks_is_stopped(monkeypatch: pytest.MonkeyPatch) -> None:
    from attune.workflow import step

    monkeypatch.setattr(step, "MAX_STARTS_PER_DECISION", 50)
    driver = Driver("""
        version: "1.0"
        tasks:
          - {name: init, next: [{do: spin}]}
          - {name: spin, next: [{when: "{{ true }}", do: spin}]}
    """)
    assert driver.finished is not None and driver.finished.status == "failed"
    assert "more than 50 task starts" in (driver.finished.error or "")
    driver.check_replay()


def test_retry_timers_are_dropped_when_the_workflow_fails() -> None:
    driver = Driver("""
        version: "1.0"
        tasks:
          - {name: fork, action: core.noop, next: [{do: [flaky, bad]}]}
          - {name: flaky, action: core.fail, retry: {count: 3, delay: 10}}
          - {name: bad, action: core.fail}
    """)
    driver.step()  # fork
    driver.step()  # flaky fails: a retry timer
    assert list(driver.timers) == ["retry:flaky:1:0:2"]
    driver.step()  # bad fails, unhandled: the timer goes
    assert not driver.timers
    assert driver.finished is not None and driver.finished.status == "failed"
    assert driver.state.task_view["flaky"]["status"] == "cancelled"
    driver.check_replay()


def test_rerun_routes_tasks_that_finished_while_the_workflow_was_failing() -> None:
    broken = [True]
    driver = Driver("""
        version: "1.0"
        tasks:
          - {name: fork, action: core.noop, next: [{do: [bad, slow]}]}
          - {name: bad, action: core.custom, next: [{when: "{{ succeeded() }}", do: next}]}
          - {name: next, action: core.noop}
          - {name: slow, action: core.noop, next: [{do: after_slow}]}
          - {name: after_slow, action: core.noop}
    """, actions={"core.custom": lambda r: ("failed" if broken[0] else "succeeded", None)})
    finished = driver.run()
    assert finished is not None and finished.status == "failed"
    assert driver.order() == ["fork", "bad", "slow"]
    broken[0] = False
    driver.finished = None
    driver.command(Rerun())
    finished = driver.run()
    assert driver.order()[3:] == ["bad", "after_slow", "next"]
    assert finished is not None and finished.status == "succeeded"


def test_rerun_resumes_items_a_failure_held_back() -> None:
    broken = [True]
    driver = Driver("""
        version: "1.0"
        tasks:
          - {name: fork, action: core.noop, next: [{do: [bad, each]}]}
          - {name: bad, action: core.custom}
          - {name: each, action: core.noop, with_items: "{{ range(3) }}"}
    """, actions={"core.custom": lambda r: ("failed" if broken[0] else "succeeded", None)})
    finished = driver.run()
    assert finished is not None and finished.status == "failed"
    assert driver.order() == ["fork", "bad", "each[0]"]  # each[1] and each[2] held back
    broken[0] = False
    driver.finished = None
    driver.command(Rerun())
    finished = driver.run()
    assert driver.order()[3:] == ["each[1]", "bad", "each[2]"]  # each was ready first
    assert finished is not None and finished.status == "succeeded"
    assert driver.state.task_view["each"]["status"] == "succeeded"


def test_summary_lists_task_runs_with_their_children() -> None:
    from attune.workflow.view import summary

    driver = Driver("""
        version: "1.0"
        tasks:
          - {name: a, action: core.noop, next: [{do: each}]}
          - {name: each, action: core.noop, with_items: "{{ range(5) }}", concurrency: 2}
    """)
    driver.step()
    driver.step()
    shown = summary(driver.state)
    assert shown["status"] == "running"
    assert shown["tasks"] == [
        {"task": "a", "run": 1, "status": "succeeded", "via": None, "attempts": 1},
        {"task": "each", "run": 1, "status": "running", "via": "a#1", "attempts": 1,
         "items": {"total": 5, "children": 5, "concurrency": 2, "pending": 2, "running": 2,
                   "succeeded": 1}}]
    assert [c["item"] for c in shown["in_flight"]] == [1, 2]


def test_expression_errors_at_run_time_fail_the_workflow_naming_the_field() -> None:
    driver = Driver("""
        version: "1.0"
        tasks:
          - name: a
            action: core.echo
            input: {message: hi}
            next: [{when: "{{ result().missing > 1 }}", do: b}]
          - {name: b, action: core.noop}
    """)
    finished = driver.run()
    assert finished is not None and finished.status == "failed"
    assert finished.error is not None and finished.error.startswith("tasks.a.next[0].when: ")
    assert "no field 'missing'" in finished.error

    driver = Driver("""
        version: "1.0"
        tasks:
          - {name: a, action: core.fail, retry: {count: 2, when: "{{ result().nope }}"}}
    """)
    finished = driver.run()
    assert finished is not None and finished.status == "failed"
    assert finished.error is not None and finished.error.startswith("tasks.a.retry.when: ")


def test_rerun_needs_something_to_rerun() -> None:
    driver = Driver(CHAIN)
    driver.run()
    with pytest.raises(InvalidTransitionError, match="no failed task"):
        driver.command(Rerun())
    driver = Driver("""
        version: "1.0"
        tasks:
          - {name: a, action: core.fail, next: [{when: "{{ succeeded() }}", do: b}]}
          - {name: b, action: core.noop}
    """)
    driver.run()
    with pytest.raises(ValidationError, match="never ran"):
        driver.command(Rerun(tasks=("b",)))


def test_rerun_of_a_task_whose_items_did_not_evaluate_evaluates_them_again() -> None:
    driver = Driver("""
        version: "1.0"
        vars: {hosts: null}
        tasks:
          - {name: each, action: core.noop, with_items: "{{ workflow.hosts }}"}
    """)
    finished = driver.run()
    assert finished is not None and finished.status == "failed"
    assert "expected an array, got null" in (finished.error or "")
    driver.state.vars["hosts"] = ["a", "b"]  # as if an operator fixed the data
    driver.finished = None
    driver.command(Rerun())
    for _ in range(10):  # not driver.run(): the vars changed outside the events
        driver.step()
    assert driver.order() == ["each[0]", "each[1]"]
    assert driver.finished is not None and driver.finished.status == "succeeded"


def test_start_refuses_a_definition_that_did_not_pass_validation() -> None:
    from attune.workflow import TaskDef, Transition, WorkflowDef, WorkflowDefinitionError

    broken = WorkflowDef(tasks=(TaskDef(name="a", action="core.noop",
                                       next=(Transition(do=("ghost",)),)),))
    with pytest.raises(WorkflowDefinitionError, match="unknown task 'ghost'"):
        start(broken, {}, now=T0)
