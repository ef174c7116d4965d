"""The expression language: `{{ … }}` templates over JSON values, used by rules
(conditions, action parameters) and workflows (inputs, `when:`, publish).

    from attune.expr import Context, render, render_value, evaluate

    render("{{ event.payload.count * 2 }}", {"event": event})    # -> 14 (an int)
    render("host {{ event.payload.host }}", {"event": event})    # -> "host web-1"
    render_value({"n": "{{ x }}", "l": ["{{ x + 1 }}"]}, {"x": 1})  # -> {"n": 1, "l": [2]}
    evaluate("length(items) > 3 and 'admin' in roles", ctx)     # -> True / False
    compile_template(text, functions=())   # validate when a rule is saved

The language (operators, precedence, int/float rules, built-ins) is described
in `parser`, `operators` and `functions`; limits in `limits`. It is pure: no
I/O, no `eval`, no access to Python attributes — only keys and indexes of JSON
values — and every failure is an `ExprError` (a 422 `ValidationError`) that
says what is wrong and where.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping

from attune.expr.context import (
    MISSING,
    Context,
    ContextFunction,
    EvalContext,
    Missing,
    as_context,
)
from attune.expr.errors import (
    ExprArityError,
    ExprError,
    ExprLimitError,
    ExprLookupError,
    ExprNameError,
    ExprSyntaxError,
    ExprTypeError,
    ExprValueError,
    ExprZeroDivisionError,
)
from attune.expr.functions import BUILTINS, WORKFLOW_FUNCTIONS
from attune.expr.template import Expression, Template, compile_expression, compile_template
from attune.expr.values import JSON, to_text, truthy, type_name

__all__ = [
    "BUILTINS",
    "JSON",
    "MISSING",
    "WORKFLOW_FUNCTIONS",
    "Context",
    "ContextFunction",
    "EvalContext",
    "ExprArityError",
    "ExprError",
    "ExprLimitError",
    "ExprLookupError",
    "ExprNameError",
    "ExprSyntaxError",
    "ExprTypeError",
    "ExprValueError",
    "ExprZeroDivisionError",
    "Expression",
    "Missing",
    "Template",
    "compile_expression",
    "compile_template",
    "evaluate",
    "evaluate_condition",
    "is_template",
    "parse",
    "render",
    "render_value",
    "to_text",
    "truthy",
    "type_name",
]

ContextLike = EvalContext | Mapping[str, JSON] | None


def parse(source: str, *,
          functions: Collection[str] | None = WORKFLOW_FUNCTIONS) -> Template:
    """Check a template without evaluating it; raises ExprError with the position."""
    return compile_template(source, functions=functions)


def is_template(value: str) -> bool:
    """Whether a string holds any `{{ … }}` (otherwise it renders to itself)."""
    return "{{" in value


def render(template: str, context: ContextLike = None, *,
           functions: Collection[str] | None = None) -> JSON:
    """Render one template string (type-preserving when it is one `{{ expr }}`)."""
    return compile_template(template, functions=functions).render(context)


def render_value(value: JSON, context: ContextLike = None, *, field: str | None = None,
                 functions: Collection[str] | None = None) -> JSON:
    """Render every string inside a JSON value (object keys are left alone).

    Errors name the path of the failing string, e.g. `action_params.cmd[2]`,
    with `field` as the root name when given.
    """
    scope = as_context(context)

    def walk(item: JSON, path: str) -> JSON:
        if isinstance(item, str):
            if not is_template(item):
                return item
            try:
                return compile_template(item, functions=functions).render(scope)
            except ExprError as exc:
                raise exc.at_field(path) if path else exc from None
        if isinstance(item, list):
            return [walk(sub, f"{path}[{i}]") for i, sub in enumerate(item)]
        if isinstance(item, dict):
            return {key: walk(sub, f"{path}.{key}" if path else key)
                    for key, sub in item.items()}
        return item

    try:
        return walk(value, field or "")
    except RecursionError:
        raise ExprLimitError("value nested too deeply to render", field=field) from None


def evaluate(source: str, context: ContextLike = None, *,
             functions: Collection[str] | None = None) -> JSON:
    """Evaluate a bare expression (no `{{ }}`), e.g. `x > 3 and ok`."""
    return compile_expression(source, functions=functions).evaluate(context)


def evaluate_condition(source: str, context: ContextLike = None, *,
                       functions: Collection[str] | None = None) -> bool:
    """The truthiness of a condition written either bare (`succeeded()`) or as a
    template (`{{ succeeded() }}`); mixed text is refused."""
    if is_template(source):
        template = compile_template(source, functions=functions)
        if template.pure is None:
            raise ExprSyntaxError("a condition must be one expression, optionally inside "
                                  "a single {{ }}", offset=0, source=source)
        return truthy(template.render(context))
    return truthy(evaluate(source, context, functions=functions))
