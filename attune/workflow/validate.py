"""Checks on a parsed workflow that need the whole graph or the expression language:

- errors: a `do` naming no task, an unknown action (given the known refs), an
  expression that does not parse (syntax, function names, arities) or that reads
  `task.<name>` of no task or `parameters.<name>` not declared, a task no path
  from an entry task reaches, no entry task at all, a join that can never be satisfied,
  `with_items` on a task without an action;
- warnings: a cycle that no condition can leave (it runs until cancelled), a cycle
  with no transition out of it, a join with a single inbound task.

Each problem names the task and field (`tasks.fetch.next[0].when`).
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass
from typing import Any

from attune.expr import ExprError, ast, compile_expression, compile_template, is_template
from attune.workflow.graph import Graph
from attune.workflow.model import ENGINE_COMMANDS, TaskDef, WorkflowDef
from attune.workflow.problems import Problem, Problems

KnownActions = Callable[[str], bool] | Collection[str]


@dataclass(frozen=True, slots=True)
class ValidationReport:
    errors: tuple[Problem, ...]
    warnings: tuple[Problem, ...]

    @property
    def ok(self) -> bool:
        return not self.errors

    def as_dicts(self) -> list[dict[str, str]]:
        return [p.as_dict() for p in (*self.errors, *self.warnings)]


def validate_workflow(definition: WorkflowDef, *,
                      known_actions: KnownActions | None = None) -> ValidationReport:
    problems = Problems()
    graph = Graph.of(definition)
    names = Names(frozenset(graph.tasks), frozenset(definition.parameters))
    _check_values(definition, problems, names)
    for task in definition.tasks:
        _check_task(task, graph, problems, known_actions, names)
    _check_reachability(graph, problems)
    _check_endless_cycles(graph, problems)
    return ValidationReport(tuple(problems.errors), tuple(problems.warnings))


# -- expressions ------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Names:
    """What `task.<name>` and `parameters.<name>` may refer to."""

    tasks: frozenset[str]
    parameters: frozenset[str]


def check_template(text: str, where: str, problems: Problems, names: Names | None = None
                   ) -> None:
    if not is_template(text):
        return
    try:
        template = compile_template(text)
    except ExprError as exc:
        problems.error(where, _expr_message(exc))
        return
    if names is not None:
        for part in template.parts:
            if not isinstance(part, str):
                _check_names(part, where, problems, names)


def check_condition(text: str, where: str, problems: Problems, names: Names | None = None
                    ) -> None:
    try:
        if is_template(text):
            node = compile_template(text).pure
            if node is None:
                problems.error(where, "a condition must be one expression, optionally inside "
                                      "a single {{ }}")
                return
        else:
            node = compile_expression(text).node
    except ExprError as exc:
        problems.error(where, _expr_message(exc))
        return
    if names is not None:
        _check_names(node, where, problems, names)


def _check_names(node: ast.Node, where: str, problems: Problems, names: Names) -> None:
    """`task.fetch` must name a task and `parameters.x` a declared parameter."""
    for access in _accesses(node):
        if not isinstance(access.base, ast.Name) or not access.steps:
            continue
        step = access.steps[0]
        if isinstance(step, ast.Field):
            key: object = step.name
        elif isinstance(step.index, ast.Literal):
            key = step.index.value
        else:
            continue
        namespace = access.base.name
        if namespace in ("task", "tasks") and key not in names.tasks:
            close = difflib.get_close_matches(str(key), sorted(names.tasks), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            problems.error(where, f"{namespace}.{key}: no task is named {key!r}{hint}")
        elif namespace == "parameters" and key not in names.parameters:
            known = ", ".join(sorted(names.parameters)) or "none are declared"
            problems.error(where, f"parameters.{key}: no such parameter (known: {known})")


def _accesses(node: ast.Node) -> Iterator[ast.Access]:
    stack: list[ast.Node] = [node]
    while stack:
        current = stack.pop()
        match current:
            case ast.Access():
                yield current
                stack.append(current.base)
                stack.extend(step.index for step in current.steps
                             if isinstance(step, ast.Index))
            case ast.ListExpr():
                stack.extend(current.items)
            case ast.Unary():
                stack.append(current.operand)
            case ast.Logic():
                stack.extend(current.operands)
            case ast.Chain():
                stack.append(current.first)
                stack.extend(op.operand for op in current.rest)
            case ast.Call():
                stack.extend(current.args)
            case _:
                pass


def _expr_message(exc: ExprError) -> str:
    where = f" at line {exc.line}, column {exc.column}" if exc.line is not None else ""
    return f"bad expression: {exc.reason}{where}"


def templates_in(value: Any, path: str) -> Iterator[tuple[str, str]]:
    """(path, string) for every string inside a JSON value."""
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from templates_in(item, f"{path}[{i}]")
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from templates_in(item, f"{path}.{key}")


def _check_values(definition: WorkflowDef, problems: Problems, names: Names) -> None:
    for name, value in definition.vars.items():
        for where, text in templates_in(value, f"vars.{name}"):
            check_template(text, where, problems, names)
    for name, value in definition.output.items():
        for where, text in templates_in(value, f"output.{name}"):
            check_template(text, where, problems, names)


# -- tasks ------------------------------------------------------------------------------

def _check_task(task: TaskDef, graph: Graph, problems: Problems,
                known_actions: KnownActions | None, names: Names) -> None:
    where = f"tasks.{task.name}"
    if task.action is not None:
        if is_template(task.action):
            problems.error(f"{where}.action", "the action must be a fixed ref, not a template")
        elif known_actions is not None and not _known(task.action, known_actions):
            hint = ""
            if not callable(known_actions):
                close = difflib.get_close_matches(task.action, list(known_actions), n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
            problems.error(f"{where}.action", f"unknown action {task.action!r}{hint}")
    for path, text in templates_in(task.input, f"{where}.input"):
        check_template(text, path, problems, names)
    if task.with_items is not None:
        if task.action is None:
            problems.error(f"{where}.with_items", "with_items needs an `action` to run per item")
        if isinstance(task.with_items.items, str):
            check_template(task.with_items.items, f"{where}.with_items", problems, names)
        if isinstance(task.with_items.concurrency, str):
            check_template(task.with_items.concurrency, f"{where}.concurrency", problems,
                           names)
    if task.retry is not None and task.retry.when is not None:
        check_condition(task.retry.when, f"{where}.retry.when", problems, names)
    for i, transition in enumerate(task.next):
        here = f"{where}.next[{i}]"
        if transition.when is not None:
            check_condition(transition.when, f"{here}.when", problems, names)
        for name, value in transition.publish.items():
            for path, text in templates_in(value, f"{here}.publish.{name}"):
                check_template(text, path, problems, names)
        for target in transition.do:
            if target not in graph.tasks and target not in ENGINE_COMMANDS:
                close = difflib.get_close_matches(target, list(graph.tasks), n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                problems.error(f"{here}.do", f"unknown task {target!r}{hint}")
    inbound = graph.inbound[task.name]
    if isinstance(task.join, int) and task.join > len(inbound):
        problems.error(f"{where}.join", f"waits for {task.join} inbound tasks but only "
                                        f"{len(inbound)} lead here "
                                        f"({', '.join(sorted(inbound)) or 'none'})")
    elif task.join is not None and len(inbound) <= 1:
        problems.warning(f"{where}.join", "a join with at most one inbound task waits for "
                                          "nothing")


def _known(ref: str, known: KnownActions) -> bool:
    return known(ref) if callable(known) else ref in known


# -- graph ------------------------------------------------------------------------------

def _check_reachability(graph: Graph, problems: Problems) -> None:
    if not graph.tasks:
        return
    if not graph.entries:
        problems.error("tasks", "no task to start with: every task is the target of a "
                                "transition (a workflow starts with the tasks nothing leads to)")
        return
    seen = set(graph.entries)
    stack = list(graph.entries)
    while stack:
        for target in graph.successors(stack.pop()):
            if target in graph.tasks and target not in seen:
                seen.add(target)
                stack.append(target)
    for task in graph.definition.tasks:
        if task.name not in seen:
            problems.error(f"tasks.{task.name}", "unreachable: no path from a starting task "
                                                 f"({', '.join(graph.entries)}) leads here")


def _check_endless_cycles(graph: Graph, problems: Problems) -> None:
    """Cycles are allowed (loops are written so), but two kinds are reported:
    a cycle of unconditional transitions repeats until cancelled, and a cycle with no
    transition out of it ends the workflow only when its conditions stop holding."""
    always = {name: sorted({target for t in task.next if t.when is None for target in t.do
                            if target in graph.tasks})
              for name, task in graph.tasks.items()}
    endless: set[str] = set()
    for component in _cycles(always):
        endless.update(component)
        problems.warning(f"tasks.{component[0]}.next",
                         f"tasks {', '.join(component)} form a cycle with no condition to "
                         "leave it: it runs until the workflow is cancelled")
    edges = {name: sorted(t for t in graph.successors(name) if t in graph.tasks)
             for name in graph.tasks}
    for component in _cycles(edges):
        members = set(component)
        if members & endless:
            continue
        leaves = any(target not in members for name in component for target in edges[name])
        fails = any("fail" in t.do for name in component for t in graph.tasks[name].next)
        if not leaves and not fails:
            problems.warning(f"tasks.{component[0]}.next",
                             f"tasks {', '.join(component)} form a cycle with no transition "
                             "out of it: the workflow goes on only while its conditions hold")


def _cycles(edges: dict[str, list[str]]) -> list[list[str]]:
    """The strongly connected components that contain a cycle, each sorted."""
    return [sorted(component) for component in _strongly_connected(edges)
            if len(component) > 1 or component[0] in edges[component[0]]]


def _strongly_connected(edges: dict[str, list[str]]) -> list[list[str]]:
    """Tarjan's algorithm, iterative (no recursion limit on large graphs)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    found: list[list[str]] = []
    counter = 0
    for root in edges:
        if root in index:
            continue
        work: list[tuple[str, int]] = [(root, 0)]
        while work:
            node, i = work.pop()
            if i == 0:
                index[node] = low[node] = counter
                counter += 1
                stack.append(node)
                on_stack.add(node)
            recurse = False
            targets = edges[node]
            while i < len(targets):
                target = targets[i]
                i += 1
                if target not in index:
                    work.append((node, i))
                    work.append((target, 0))
                    recurse = True
                    break
                if target in on_stack:
                    low[node] = min(low[node], index[target])
            if recurse:
                continue
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component: list[str] = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                found.append(component)
    return found
