"""Expression language: `{{ }}` templates, render_value, contexts, workflow functions."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest

from attune.expr import (
    JSON,
    Context,
    ExprError,
    ExprLimitError,
    ExprLookupError,
    ExprNameError,
    ExprSyntaxError,
    ExprTypeError,
    ExprValueError,
    compile_expression,
    compile_template,
    evaluate,
    evaluate_condition,
    parse,
    render,
    render_value,
)
from tests.test_expr_operators import same

EVENT = {"id": 42, "trigger": "core.webhook", "created": "2026-02-05T10:00:00Z",
         "payload": {"service": "api", "count": 7, "ratio": 0.5, "ok": True, "none": None,
                     "tags": ["a", "b"], "meta": {"k": "v"}}}
RULE_CTX: dict[str, JSON] = {"event": EVENT, "pack": {"config": {"api_token": "t0k"}},
                             "system": {"timestamp": "2026-02-05T10:00:01Z"}}


@pytest.mark.parametrize(("template", "expected"), [
    # one {{ expr }}: the value keeps its JSON type
    ("{{ event.payload.count }}", 7), ("{{ event.payload.ratio }}", 0.5),
    ("{{ event.payload.ok }}", True), ("{{ event.payload.none }}", None),
    ("{{ event.payload.tags }}", ["a", "b"]), ("{{ event.payload.meta }}", {"k": "v"}),
    ("{{ event.id }}", 42), ("{{event.id}}", 42), ("  {{ event.id }}\n", 42),
    ("{{ event.payload.count * 2 }}", 14), ("{{ event.payload.service }}", "api"),
    ("{{ length(event.payload.tags) > 1 }}", True), ("{{ pack.config.api_token }}", "t0k"),
    ("{{ '}}' }}", "}}"), ("{{ \"{{\" }}", "{{"),
    # mixed text renders to a string
    ("Error in {{ event.payload.service }}", "Error in api"),
    ("{{ event.id }}{{ event.id }}", "4242"), ("n={{ event.payload.count }}", "n=7"),
    ("r={{ event.payload.ratio }} ok={{ event.payload.ok }}", "r=0.5 ok=true"),
    ("[{{ event.payload.none }}]", "[]"), ("{{ event.payload.tags }}!", '["a","b"]!'),
    ("m={{ event.payload.meta }}", 'm={"k":"v"}'), ("x {{ 2.0 }}", "x 2.0"),
    ("Bearer {{ pack.config.api_token }}", "Bearer t0k"),
    ("a {{ '}}' }} b", "a }} b"), ("{{ 1 }} }}", "1 }}"), ("{{ 1 }}}", "1}"),
    # no template: the text itself
    ("plain text", "plain text"), ("", ""), ("a } b }} c", "a } b }} c"), ("{ x }", "{ x }"),
])
def test_render(template: str, expected: Any) -> None:
    assert same(render(template, RULE_CTX), expected)


@pytest.mark.parametrize(("template", "message", "column"), [
    ("{{ }}", "empty expression", 4), ("a {{ event.id", "'{{' is never closed", 3),
    ("{{ 'abc }}", "unterminated string literal", 4), ("x {{ 1 + }} y", "unexpected end", 10),
    ("ok {{ event.id }} then {{ lenght(event) }}", "did you mean 'length'", 27),
    ("{{ event.payload.nope }}", "event.payload has no field 'nope'", 18),
    ("line1\n  {{ 1 + 'a' }}", "cannot apply '+'", 8),
])
def test_template_errors_point_into_the_whole_template(template: str, message: str,
                                                       column: int) -> None:
    with pytest.raises(ExprError) as info:
        render(template, RULE_CTX)
    assert message in info.value.message
    assert info.value.column == column, info.value.message
    assert info.value.source == template


def test_render_value_recurses_and_keeps_types() -> None:
    params = {"message": "Error in {{ event.payload.service }}",
              "count": "{{ event.payload.count }}", "tags": ["{{ event.payload.tags[0] }}", 3],
              "nested": {"id": "{{ event.id }}", "flag": False, "none": None},
              "{{ keys }}": "literal keys are not rendered"}
    assert render_value(params, RULE_CTX) == {
        "message": "Error in api", "count": 7, "tags": ["a", 3],
        "nested": {"id": 42, "flag": False, "none": None},
        "{{ keys }}": "literal keys are not rendered"}
    assert render_value(5, RULE_CTX) == 5
    assert render_value(None, RULE_CTX) is None


def test_render_value_errors_name_the_field_path() -> None:
    params = {"a": {"list": ["ok", "{{ event.payload.missing }}"]}}
    with pytest.raises(ExprLookupError) as info:
        render_value(params, RULE_CTX, field="action_params")
    assert info.value.field == "action_params.a.list[1]"
    assert info.value.message.startswith("action_params.a.list[1]: event.payload has no field")
    assert info.value.details[0]["field"] == "action_params.a.list[1]"
    with pytest.raises(ExprLookupError) as info:
        render_value({"x": "{{ nope.y }}"}, {"nope": {}})
    assert info.value.field == "x"


def test_compile_template_checks_functions_up_front() -> None:
    template = compile_template("{{ upper(event.payload.service) }}!", functions=())
    assert not template.is_constant and template.pure is None
    assert template.render(RULE_CTX) == "API!"
    assert compile_template("plain").is_constant
    # rules have no workflow functions: refused when the rule is saved
    with pytest.raises(ExprNameError, match=r"result\(\) is only available inside a workflow"):
        compile_template("{{ result().x }}", functions=())
    with pytest.raises(ExprNameError, match="unknown function 'frob'"):
        compile_template("{{ frob(1) }}", functions=())
    # workflows (the default) accept them; extra names can be declared
    parse("{{ succeeded() and result().code == 200 }}")
    compile_template("{{ now() }}", functions=["now"])
    with pytest.raises(ExprNameError):
        compile_template("{{ now() }}")


def test_compiled_templates_are_reusable_and_cached() -> None:
    first = compile_template("{{ x + 1 }}")
    assert first is compile_template("{{ x + 1 }}")
    assert [first.render({"x": i}) for i in range(3)] == [1, 2, 3]
    expression = compile_expression("x * 2")
    assert expression.evaluate({"x": 4}) == 8


def test_list_results_are_fresh_each_time() -> None:
    template = compile_template("{{ [1, 2] }}")
    first = template.render()
    assert isinstance(first, list)
    first.append(3)
    assert template.render() == [1, 2]


# -- contexts ---------------------------------------------------------------------

class Outcome:
    """A workflow-like context hook: the last task's result and status."""

    def __init__(self, result: JSON, status: str) -> None:
        self.result, self.status = result, status

    def functions(self) -> dict[str, Any]:
        def result(args: Sequence[JSON]) -> JSON:
            return self.result

        def status_is(wanted: str) -> Any:
            return lambda args: self.status == wanted

        return {"result": result, "succeeded": status_is("succeeded"),
                "failed": status_is("failed"), "timed_out": status_is("timed_out"),
                "cancelled": status_is("cancelled")}


@pytest.mark.parametrize(("condition", "status", "expected"), [
    ("succeeded() and result().code == 200", "succeeded", True),
    ("succeeded() and result().code == 200", "failed", False),
    ("not failed()", "succeeded", True), ("failed()", "failed", True),
    ("timed_out()", "timed_out", True), ("cancelled()", "cancelled", True),
    ('result().status == "ok" or result().status == "accepted"', "succeeded", True),
    ("{{ succeeded() }}", "succeeded", True), ("{{ failed() }}", "succeeded", False),
    ('length(workflow.items) > 3 and "admin" in workflow.roles', "succeeded", True),
    ("config.retries > 0", "succeeded", True), ("counter == 3", "succeeded", True),
])
def test_workflow_conditions(condition: str, status: str, expected: bool) -> None:
    variables: dict[str, JSON] = {"items": [1, 2, 3, 4], "roles": ["admin"], "counter": 3}
    ctx = Context({"workflow": variables, "vars": variables, "config": {"retries": 2}},
                  functions=Outcome({"code": 200, "status": "ok"}, status).functions(),
                  fallback=variables)
    assert evaluate_condition(condition, ctx) is expected


def test_workflow_functions_outside_a_workflow_are_errors() -> None:
    for name in ("result", "succeeded", "failed", "timed_out", "cancelled"):
        with pytest.raises(ExprNameError, match="only available inside a workflow"):
            evaluate(f"{name}()", {})


def test_context_function_errors_are_located_at_the_call() -> None:
    def boom(args: Sequence[JSON]) -> JSON:
        raise ExprValueError("no task has completed yet")

    ctx = Context({}, functions={"result": boom})
    with pytest.raises(ExprValueError) as info:
        evaluate("1 + result().x", ctx)
    assert info.value.column == 5 and "no task has completed yet" in info.value.message


def test_variables_win_over_the_fallback() -> None:
    ctx = Context({"x": 1}, fallback={"x": 2, "y": 3})
    assert evaluate("[x, y]", ctx) == [1, 3]


def test_lenient_context_turns_missing_data_into_null() -> None:
    ctx = Context(RULE_CTX, lenient=True)
    assert render("{{ event.payload.nope }}", ctx) is None
    assert render("{{ event.payload.nope.deeper[3] }}", ctx) is None
    assert render("{{ unknown_namespace.x }}", ctx) is None
    assert render("{{ event.payload.tags[9] }}", ctx) is None
    assert render("{{ event.payload.meta['x'] }}", ctx) is None
    assert render("svc={{ event.payload.nope }}", ctx) == "svc="
    with pytest.raises(ExprTypeError):  # type errors stay errors
        render("{{ event.payload.count.x }}", ctx)


def test_condition_must_be_one_expression() -> None:
    with pytest.raises(ExprSyntaxError, match="a condition must be one expression"):
        evaluate_condition("x {{ true }}", {})
    assert evaluate_condition("  {{ 1 }}  ", {}) is True
    assert evaluate_condition("[]", {}) is False


def test_non_json_values_in_a_context_are_refused() -> None:
    class Secret:
        password = "hunter2"

    with pytest.raises(ExprTypeError, match="not a JSON value: Secret"):
        evaluate("type_of(x)", {"x": Secret()})
    with pytest.raises(ExprTypeError, match="not a JSON value: Secret"):
        evaluate("x.password", {"x": Secret()})
    with pytest.raises(ExprTypeError, match="not a JSON value"):
        render("v={{ x }}", {"x": Secret()})
    with pytest.raises(ExprTypeError):
        evaluate("x.__class__", {"x": "str"})
    with pytest.raises(ExprTypeError, match="not a JSON value"):
        render("{{ string(x) }}", {"x": {(1, 2): 3}})  # a non-string object key


def test_huge_mixed_rendering_is_limited() -> None:
    big = "x" * 600_000
    with pytest.raises(ExprLimitError, match="rendered text too long"):
        render("{{ s }}{{ s }}", {"s": big})
    with pytest.raises(ExprLimitError, match="too large to render"):
        render("a {{ [s, s] }}", {"s": big})
