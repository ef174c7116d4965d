"""A task's `wait_for` asks a human: it becomes a `core.ask` task (the answer is
`result().data.response`); shapes that cannot work are refused naming the field."""

from __future__ import annotations

import pytest

from attune.workflow import WorkflowDefinitionError, parse_workflow, validate_workflow


def test_wait_for_becomes_a_core_ask_task() -> None:
    definition = parse_workflow({"tasks": [
        {"name": "gate", "wait_for": {"prompt": "Go?", "assigned_to": "ops", "timeout": 60,
                                      "response_schema": {"go": {"type": "boolean"}}},
         "next": [{"when": "{{ result().data.response.go }}", "do": "work"}]},
        {"name": "work", "action": "core.noop"}]})
    gate = definition.tasks[0]
    assert gate.action == "core.ask"
    assert gate.input == {"prompt": "Go?", "assigned_to": "ops", "timeout": 60,
                          "response_schema": {"go": {"type": "boolean"}}}
    assert [t.do for t in gate.next] == [("work",)]
    report = validate_workflow(definition, known_actions={"core.ask", "core.noop"})
    assert not report.errors


@pytest.mark.parametrize(("task", "field", "fragment"), [
    ({"name": "g", "wait_for": "yes"}, "tasks.g.wait_for", "got string"),
    ({"name": "g", "wait_for": {"inquiry": "{{ task.a.id }}"}}, "tasks.g.wait_for",
     "needs a `prompt`"),
    ({"name": "g", "action": "core.noop", "wait_for": {"prompt": "p"}}, "tasks.g.wait_for",
     "runs no action of its own"),
    ({"name": "g", "wait_for": {"prompt": "p", "asignee": "x"}}, "tasks.g.wait_for.asignee",
     "unknown field"),
])
def test_wait_for_refusals(task: dict[str, object], field: str, fragment: str) -> None:
    with pytest.raises(WorkflowDefinitionError) as raised:
        parse_workflow({"tasks": [task]})
    details = raised.value.details
    assert isinstance(details, list)
    assert any(d["field"] == field and fragment in d["message"] for d in details), details
