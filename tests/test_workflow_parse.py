"""Parsing workflow documents into the canonical model, legacy conversion, and
validation that names the task and field."""

from __future__ import annotations

import contextlib
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from attune.errors import ValidationError
from attune.workflow import (
    Transition,
    WorkflowDefinitionError,
    parse_action_workflow,
    parse_workflow,
    validate_workflow,
)


def doc(text: str) -> Any:
    return yaml.safe_load(text)


def problems(text: str) -> list[dict[str, str]]:
    with pytest.raises(WorkflowDefinitionError) as caught:
        parse_workflow(doc(text))
    details: list[dict[str, str]] = caught.value.details
    return details


def report(text: str, known: set[str] | None = None) -> dict[str, list[str]]:
    result = validate_workflow(parse_workflow(doc(text)), known_actions=known)
    return {"errors": [str(p) for p in result.errors],
            "warnings": [str(p) for p in result.warnings]}


def test_canonical_document() -> None:
    definition = parse_workflow(doc("""
        version: 1.0
        ref: examples.deploy
        label: Deploy
        parameters:
          hosts: {type: array, required: true}
        vars: {attempt: 0}
        cancellation_policy: cancel_running
        tasks:
          - name: each
            action: core.echo
            with_items: "{{ parameters.hosts }}"
            concurrency: 5
            batch_size: 2
            input: {message: "{{ item }}"}
            retry: {count: 3, delay: 1.5, backoff: linear, max_delay: 10}
            timeout: 30
            next:
              - when: "{{ succeeded() }}"
                publish: [{done: true}, {count: "{{ length(result()) }}"}]
                do: [report]
                label: ok
          - {name: report, action: core.noop, join: all, delay: 5}
        output_map: {done: "{{ done }}"}
    """))
    assert definition.ref == "examples.deploy" and definition.version == "1.0"
    each = definition.task("each")
    assert each.with_items is not None and each.with_items.concurrency == 5
    assert each.with_items.batch_size == 2
    assert each.retry is not None and each.retry.delay_before(3) == 4.5
    assert each.next == (Transition(when="{{ succeeded() }}",
                                    publish={"done": True, "count": "{{ length(result()) }}"},
                                    do=("report",)),)
    assert definition.task("report").join == "all"
    assert definition.cancellation_policy == "cancel_running"
    assert definition.output == {"done": "{{ done }}"}


def test_legacy_fields_become_next_transitions_in_order() -> None:
    definition = parse_workflow(doc("""
        version: "1.0"
        tasks:
          - name: start
            action: core.noop
            publish: {ok: "{{ result() }}"}
            on_success: [good]
            on_failure: bad
            on_timeout: slow
            on_complete: always
          - name: choose
            action: core.noop
            decision:
              - {when: "{{ x > 1 }}", next: big}
              - {when: "x == 0", next: zero}
              - {default: other}
          - {name: good, action: core.noop}
          - {name: bad, action: core.noop}
          - {name: slow, action: core.noop}
          - {name: always, action: core.noop}
          - {name: big, action: core.noop}
          - {name: zero, action: core.noop}
          - {name: other, action: core.noop}
    """))
    start = definition.task("start").next
    assert [(t.when, t.do) for t in start] == [
        ("{{ succeeded() }}", ()), ("{{ succeeded() }}", ("good",)),
        ("{{ failed() }}", ("bad",)), ("{{ timed_out() }}", ("slow",)), (None, ("always",))]
    assert start[0].publish == {"ok": "{{ result() }}"}
    choose = definition.task("choose").next
    assert [(t.when, t.do) for t in choose] == [
        ("{{ x > 1 }}", ("big",)), ("x == 0", ("zero",)),
        ("{{ not ((x > 1) or (x == 0)) }}", ("other",))]


def test_orquesta_shapes() -> None:
    definition = parse_workflow(doc("""
        version: 1.0
        input: [hosts, {retries: 2}]
        vars: [{count: 0}, seen]
        output: [{total: "{{ count }}"}]
        tasks:
          run:
            action: core.echo
            with: {items: "{{ parameters.hosts }}", concurrency: 2}
            next: [{do: "a, b"}]
          a: {action: core.noop}
          b: {action: core.noop}
    """))
    assert set(definition.parameters) == {"hosts", "retries"}
    assert definition.parameters["retries"].default == 2
    assert definition.vars == {"count": 0, "seen": None}
    assert definition.output == {"total": "{{ count }}"}
    run = definition.task("run")
    assert run.with_items is not None and run.with_items.concurrency == 2
    assert run.next[0].do == ("a", "b")


def test_workflow_action_takes_its_parameters_from_the_action() -> None:
    files = {"workflows/deploy.workflow.yaml": {
        "version": "1.0", "tasks": [{"name": "go", "action": "core.echo",
                                     "input": {"message": "{{ parameters.msg }}"}}]}}
    definition = parse_action_workflow(
        {"name": "deploy", "workflow_file": "workflows/deploy.workflow.yaml",
         "description": "Deploys", "parameters": {"msg": {"type": "string"}}},
        pack_ref="examples", load=files.__getitem__)
    assert definition.ref == "examples.deploy"
    assert definition.description == "Deploys"
    assert definition.parameters["msg"].type == "string"
    with pytest.raises(WorkflowDefinitionError, match="workflow_file"):
        parse_action_workflow({"name": "x"}, pack_ref="p", load=files.__getitem__)


@pytest.mark.parametrize(("text", "field", "message"), [
    ("tasks: 3", "tasks", "expected a list of tasks"),
    ("version: 1\nnope: 1\ntasks: [{name: a, action: core.noop}]", "nope", "unknown field"),
    ("tasks: []", "tasks", "at least one task"),
    ("tasks: [{action: core.noop}]", "tasks[0].name", "needs a `name`"),
    ("tasks: [{name: 1bad, action: core.noop}]", "tasks[0].name", "needs a `name`"),
    ("tasks: [{name: fail, action: core.noop}]", "tasks[0].name", "reserved"),
    ("tasks: [{name: a, action: core.noop}, {name: a, action: core.noop}]", "tasks.a.name",
     "unique"),
    ("tasks: [{name: a, action: [x]}]", "tasks.a.action", "expected an action ref"),
    ("tasks: [{name: a, action: core.noop, input: [1]}]", "tasks.a.input", "mapping"),
    ("tasks: [{name: a, action: core.noop, input: []}]", "tasks.a.input", "mapping"),
    ("tasks: [{name: a, action: core.noop, next: {do: b}}]", "tasks.a.next", "a list"),
    ("tasks: [{name: a, action: core.noop, next: [{when: 3}]}]", "tasks.a.next[0].when",
     "condition string"),
    ("tasks: [{name: a, action: core.noop, next: [{do: {x: 1}}]}]", "tasks.a.next[0].do",
     "task name"),
    ("tasks: [{name: a, action: core.noop, next: [{publish: [3]}]}]",
     "tasks.a.next[0].publish[0]", "name: value"),
    ("tasks: [{name: a, action: core.noop, join: 0}]", "tasks.a.join", "positive integer"),
    ("tasks: [{name: a, action: core.noop, retry: {count: -1}}]", "tasks.a.retry.count",
     "0 to 100"),
    ("tasks: [{name: a, action: core.noop, retry: {count: 1, backoff: fib}}]",
     "tasks.a.retry.backoff", "exponential"),
    ("tasks: [{name: a, action: core.noop, timeout: 1.5}]", "tasks.a.timeout",
     "whole seconds"),
    ("tasks: [{name: a, action: core.noop, delay: -1}]", "tasks.a.delay", "seconds"),
    ("tasks: [{name: a, action: core.noop, concurrency: 2}]", "tasks.a.concurrency",
     "with_items"),
    ("tasks: [{name: a, action: core.noop, with_items: 3}]", "tasks.a.with_items",
     "template yielding a list"),
    ("tasks: [{name: a, action: core.noop, with_items: hosts}]", "tasks.a.with_items",
     "template yielding a list"),
    ("tasks: [{name: a, action: core.noop, with_items: '{{ x }}', concurrency: many}]",
     "tasks.a.concurrency", "positive integer or a template"),
    ("tasks: [{name: a, action: core.noop, with_items: '{{ x }}', batch_size: 0}]",
     "tasks.a.batch_size", "positive"),
    ("tasks: [{name: a, action: core.noop, when: '{{ x }}'}]", "tasks.a.when",
     "next[].when"),
    ("tasks: [{name: a, type: parallel}]", "tasks.a.type", "several"),
    ("tasks: [{name: a, action: core.noop, input: {d: 2024-01-01}}]", "tasks.a.input.d",
     "not a JSON value"),
    ("tasks: [{name: a, action: core.noop, input: {1: x}}]", "tasks.a.input",
     "keys must be strings"),
    ("tasks: [{name: a, action: core.noop, decision: [{next: b}]}]",
     "tasks.a.decision[0].when", "needs a `when`"),
    ("parameters: {n: {type: integr}}\ntasks: [{name: a, action: core.noop}]",
     "parameters.n.type", "Input should be"),
    ("cancellation_policy: later\ntasks: [{name: a, action: core.noop}]",
     "cancellation_policy", "allow_finish"),
])
def test_structural_problems_name_the_field(text: str, field: str, message: str) -> None:
    found = problems(text)
    assert any(p["field"] == field and message in p["message"] for p in found), found


def test_hostile_documents_give_errors_not_crashes() -> None:
    deep: Any = "x"
    for _ in range(200):
        deep = {"k": deep}
    found = problems(yaml.safe_dump({"tasks": [{"name": "a", "action": "core.noop",
                                                "input": {"deep": deep}}]}))
    assert "nested more than" in found[0]["message"]
    many = {"tasks": [{"name": f"t{i}", "action": "core.noop"} for i in range(1001)]}
    with pytest.raises(WorkflowDefinitionError, match="limit is 1000"):
        parse_workflow(many)
    for bad in (None, [], "tasks", 3):
        with pytest.raises(WorkflowDefinitionError):
            parse_workflow(bad)  # type: ignore[arg-type]
    errors = problems(yaml.safe_dump({"tasks": [{"name": f"t{i}", "bogus": 1}
                                                for i in range(300)]}))
    assert len(errors) == 100  # capped


@settings(max_examples=40, deadline=None)
@given(st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=5)
                    | st.floats(), lambda inner: st.lists(inner, max_size=4)
                    | st.dictionaries(st.text(max_size=6) | st.integers(), inner, max_size=4),
                    max_leaves=12))
def test_any_value_parses_or_fails_with_a_definition_error(value: Any) -> None:
    for candidate in (value, {"tasks": value}, {"tasks": [value]},
                      {"tasks": [{"name": "a", "action": "core.noop", "next": value}]}):
        with contextlib.suppress(WorkflowDefinitionError):
            parse_workflow(candidate)


ANY_VALUE = st.recursive(st.none() | st.booleans() | st.integers(-3, 3) | st.floats()
                         | st.sampled_from(["a", "b", "{{ x }}", "{{ (", "all", "core.noop"]),
                         lambda inner: st.lists(inner, max_size=3)
                         | st.dictionaries(st.sampled_from(["when", "do", "items", "count",
                                                            "next", "default", "a"]),
                                           inner, max_size=3), max_leaves=8)
TASK_KEYS = ["action", "input", "next", "with_items", "with", "concurrency", "batch_size",
             "join", "retry", "timeout", "delay", "on_success", "on_failure", "on_complete",
             "on_timeout", "decision", "publish", "type", "__chart_meta__"]


@settings(max_examples=150, deadline=None)
@given(st.lists(st.dictionaries(st.sampled_from(TASK_KEYS), ANY_VALUE, max_size=4),
                min_size=1, max_size=3),
       st.dictionaries(st.sampled_from(["vars", "input", "output", "output_map",
                                        "parameters", "cancellation_policy", "version"]),
                       ANY_VALUE, max_size=3))
def test_any_field_of_any_type_gives_a_definition_error_or_a_report_or_runs(
        tasks: list[dict[str, Any]], top: dict[str, Any]) -> None:
    document = {**top, "tasks": [{"name": f"t{i}", **task} for i, task in enumerate(tasks)]}
    try:
        definition = parse_workflow(document)
    except WorkflowDefinitionError as exc:
        assert exc.details and all(p["field"] is not None for p in exc.details)
        return
    report = validate_workflow(definition, known_actions={"core.noop"})
    if report.ok:  # a valid definition also runs to its end
        from tests.test_workflow_driver import Driver

        try:
            driver = Driver(definition)
        except ValidationError:
            return  # e.g. a `vars` expression that fails at start: refused, not crashed
        assert driver.run() is not None


def test_validation_reports_unknown_tasks_actions_bad_expressions_and_unreachable() -> None:
    found = report("""
        version: "1.0"
        tasks:
          - name: a
            action: core.ech
            input: {m: "{{ 1 + }}"}
            next:
              - {when: "{{ succeded() }}", do: [b, c]}
              - {when: "{{ x }} and {{ y }}", publish: {v: "{{ len(x) }}"}}
          - {name: b, action: core.noop, retry: {count: 1, when: "{{ ( }}"}}
          - {name: c1, action: core.noop, next: [{do: c2}]}
          - {name: c2, action: core.noop, next: [{do: c1}]}
          - {name: j, action: core.noop, join: 3}
          - {name: w, with_items: "{{ [1] }}"}
    """, known={"core.echo", "core.noop"})
    errors = "\n".join(found["errors"])
    assert "tasks.a.action: unknown action 'core.ech' (did you mean 'core.echo'?)" in errors
    assert "tasks.a.input.m: bad expression" in errors
    assert "tasks.a.next[0].when: bad expression" in errors and "succeded" in errors
    assert "tasks.a.next[0].do: unknown task 'c' (did you mean 'c" in errors
    assert "tasks.a.next[1].when: a condition must be one expression" in errors
    assert "tasks.a.next[1].publish.v: bad expression" in errors
    assert "tasks.b.retry.when: bad expression" in errors
    assert "tasks.c1: unreachable" in errors and "tasks.c2: unreachable" in errors
    assert "tasks.j.join: waits for 3 inbound tasks but only 0" in errors
    assert "tasks.w.with_items: with_items needs an `action`" in errors
    assert found["warnings"] == [
        "tasks.c1.next: tasks c1, c2 form a cycle with no condition to leave it: it runs "
        "until the workflow is cancelled"]


def test_conditional_cycles_are_fine_and_every_task_in_a_cycle_is_reported_once() -> None:
    found = report("""
        version: "1.0"
        tasks:
          - {name: init, action: core.noop, next: [{do: loop}]}
          - {name: loop, action: core.noop, next: [{when: "{{ x < 3 }}", do: loop},
                                                  {when: "x >= 3", do: done}]}
          - {name: done, action: core.noop}
          - {name: spin, action: core.noop, next: [{do: spin}]}
    """, known=None)
    assert found["errors"] == ["tasks.spin: unreachable: no path from a starting task "
                               "(init) leads here"]
    assert len(found["warnings"]) == 1 and "spin" in found["warnings"][0]


def test_a_graph_with_no_entry_task_is_an_error() -> None:
    found = report("""
        version: "1.0"
        tasks:
          - {name: a, action: core.noop, next: [{when: "{{ true }}", do: b}]}
          - {name: b, action: core.noop, next: [{when: "{{ true }}", do: a}]}
    """)
    assert found["errors"] == ["tasks: no task to start with: every task is the target of a "
                               "transition (a workflow starts with the tasks nothing leads to)"]


def test_known_actions_may_be_a_callable() -> None:
    found = report("tasks: [{name: a, action: x.y}]", known=None)
    assert found["errors"] == []
    result = validate_workflow(parse_workflow(doc("tasks: [{name: a, action: x.y}]")),
                               known_actions=lambda ref: ref.startswith("core."))
    assert [str(p) for p in result.errors] == ["tasks.a.action: unknown action 'x.y'"]


def test_expressions_must_name_existing_tasks_and_declared_parameters() -> None:
    found = report("""
        version: "1.0"
        parameters: {host: {type: string}}
        tasks:
          - name: fetch
            action: core.noop
            input: {a: "{{ parameters.host }} {{ parameters.port }}", b: "{{ task.fetch.x }}"}
            next:
              - {when: "tasks['fetc'].status == 'ok'", publish: {v: "{{ task.nope }}"}}
        output_map: {x: "{{ length([task.fetch, tasks[parameters.host]]) }}"}
    """)
    assert found["errors"] == [
        "tasks.fetch.input.a: parameters.port: no such parameter (known: host)",
        "tasks.fetch.next[0].when: tasks.fetc: no task is named 'fetc' (did you mean "
        "'fetch'?)",
        "tasks.fetch.next[0].publish.v: task.nope: no task is named 'nope'",
    ]


def test_retry_backoff_waits() -> None:
    from attune.workflow import Backoff, RetryPolicy

    def waits(backoff: Backoff, max_delay: float | None = None) -> list[float]:
        policy = RetryPolicy(count=5, delay=2, backoff=backoff, max_delay=max_delay)
        return [policy.delay_before(n) for n in range(1, 6)]

    assert waits(Backoff.CONSTANT) == [2, 2, 2, 2, 2]
    assert waits(Backoff.LINEAR) == [2, 4, 6, 8, 10]
    assert waits(Backoff.EXPONENTIAL) == [2, 4, 8, 16, 32]
    assert waits(Backoff.EXPONENTIAL, max_delay=10) == [2, 4, 8, 10, 10]
    huge = RetryPolicy(count=100, delay=31_536_000, backoff=Backoff.EXPONENTIAL)
    assert huge.delay_before(100) == 31_536_000  # never beyond a year


def test_a_cycle_with_no_way_out_is_a_warning() -> None:
    found = report("""
        version: "1.0"
        tasks:
          - {name: init, action: core.noop, next: [{do: poll}]}
          - {name: poll, action: core.noop, next: [{when: "{{ not succeeded() }}", do: wait}]}
          - {name: wait, action: core.noop, next: [{when: "{{ true }}", do: poll}]}
    """)
    assert found == {"errors": [], "warnings": [
        "tasks.poll.next: tasks poll, wait form a cycle with no transition out of it: the "
        "workflow goes on only while its conditions hold"]}
