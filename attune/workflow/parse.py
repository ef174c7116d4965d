"""YAML documents (already loaded into dicts) -> the canonical `WorkflowDef`.

Accepts the original Attune format (a `tasks:` list, `next` transitions, task-level
`with_items`/`concurrency`/`batch_size`, `output_map`) and Orquesta's (a `tasks:`
mapping, `input:` names, `with:`, list-shaped `vars`/`output`), plus the legacy
task fields of `attune.workflow.legacy`. Every structural problem is collected with
the field it is about and raised as one `WorkflowDefinitionError`; graph, expression
and action checks are `attune.workflow.validate`'s job.

    parse_workflow(doc, ref="examples.deploy")
    parse_action_workflow(action_doc, pack_ref="examples", load=read_yaml_relative)
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from pydantic import ValidationError as PydanticValidationError

from attune.domain.params import ParamSpec
from attune.workflow.legacy import LEGACY_FIELDS, legacy_transitions, publish_map, targets
from attune.workflow.model import (
    ENGINE_COMMANDS,
    Backoff,
    RetryPolicy,
    TaskDef,
    Transition,
    WithItems,
    WorkflowDef,
)
from attune.workflow.problems import Problems, json_value, kind

MAX_TASKS = 1_000
MAX_TRANSITIONS = 100
MAX_RETRIES = 100
TASK_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,99}$")

TOP_FIELDS = frozenset({"version", "ref", "name", "pack", "label", "description", "parameters",
                        "input", "vars", "tasks", "output", "output_map", "tags",
                        "cancellation_policy", "__chart_meta__"})
TASK_FIELDS = frozenset({"name", "action", "input", "next", "with_items", "with", "concurrency",
                         "batch_size", "join", "retry", "timeout", "delay", "type",
                         "description", "__chart_meta__"}) | LEGACY_FIELDS
TRANSITION_FIELDS = frozenset({"when", "publish", "do", "label", "color", "edge_waypoints",
                               "label_positions"})
RETRY_FIELDS = frozenset({"count", "delay", "backoff", "max_delay", "when", "on_error"})
#: A task's `wait_for` asks a question through this action (`attune.domain.inquiry`).
ASK_ACTION = "core.ask"
WAIT_FOR_FIELDS = frozenset({"prompt", "response_schema", "assigned_to", "timeout"})
_UNSUPPORTED = {
    "when": "a task-level `when` is not supported: put the condition on the transition "
            "that leads to the task (`next[].when`)",
}


def parse_workflow(doc: Mapping[str, Any], *, ref: str | None = None) -> WorkflowDef:
    """The canonical model of a workflow document, or a `WorkflowDefinitionError`."""
    problems = Problems()
    definition = _Parser(problems).workflow(doc, ref)
    problems.raise_errors()
    assert definition is not None
    return definition


def parse_action_workflow(action: Mapping[str, Any], *, pack_ref: str,
                          load: Callable[[str], Mapping[str, Any]],
                          name: str | None = None) -> WorkflowDef:
    """A workflow action: `actions/<name>.yaml` whose `workflow_file` names the graph.

    `load(path)` reads the workflow file (relative to the pack's `actions/` folder) and
    returns its mapping; keeping paths and I/O with the caller keeps this pure. The
    action's `parameters`, when present, are the workflow's parameters.
    """
    problems = Problems()
    if not isinstance(action, Mapping):
        problems.error("", f"expected a mapping, got {kind(action)}")
        problems.raise_errors("invalid workflow action")
    action_name = name or action.get("name")
    path = action.get("workflow_file")
    if not isinstance(action_name, str) or not action_name:
        problems.error("name", "the action needs a `name`")
    if not isinstance(path, str) or not path.strip():
        problems.error("workflow_file", "expected the path of the workflow file, e.g. "
                                        "workflows/deploy.workflow.yaml")
    problems.raise_errors("invalid workflow action")
    graph = dict(load(str(path)))
    if action.get("parameters") is not None:
        if graph.get("parameters") is not None or graph.get("input") is not None:
            problems.error("parameters", f"declared both in the action and in {path}; "
                                         "keep them in one place")
            problems.raise_errors("invalid workflow action")
        graph["parameters"] = action["parameters"]
    for key in ("label", "description"):
        if action.get(key) is not None and graph.get(key) is None:
            graph[key] = action[key]
    return parse_workflow(graph, ref=f"{pack_ref}.{action_name}")


class _Parser:
    def __init__(self, problems: Problems) -> None:
        self.problems = problems

    def error(self, where: str, message: str) -> None:
        self.problems.error(where, message)

    # -- top level ---------------------------------------------------------------------

    def workflow(self, doc: Any, ref: str | None) -> WorkflowDef | None:
        if not isinstance(doc, Mapping):
            self.error("", f"a workflow must be a mapping, got {kind(doc)}")
            return None
        for key in doc:
            if key not in TOP_FIELDS:
                self.error(str(key), f"unknown field (known: {', '.join(sorted(TOP_FIELDS))})")
        ref = ref or self._text(doc, "ref", "")
        if ref and "." not in ref and isinstance(doc.get("pack"), str):
            ref = f"{doc['pack']}.{ref}"
        tasks = self.tasks(doc.get("tasks"))
        output, output_schema = self.output(doc)
        policy = doc.get("cancellation_policy", "allow_finish")
        if policy not in ("allow_finish", "cancel_running"):
            self.error("cancellation_policy", f"expected allow_finish or cancel_running, "
                                              f"got {policy!r}")
            policy = "allow_finish"
        tags = doc.get("tags")
        tags = [] if tags is None else tags
        if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
            self.error("tags", "expected a list of strings")
            tags = []
        version = doc.get("version", "1.0")
        if not isinstance(version, str | int | float) or isinstance(version, bool):
            self.error("version", f"expected a version like 1.0, got {kind(version)}")
            version = "1.0"
        if self.problems.errors:
            return None
        return WorkflowDef(
            ref=ref or None, label=self._text(doc, "label", None),
            description=self._text(doc, "description", "") or "", version=str(version),
            parameters=self.parameters(doc), vars=self.named_values(doc.get("vars"), "vars"),
            tasks=tuple(tasks), output=output, output_schema=output_schema,
            cancellation_policy=policy, tags=tuple(tags))

    def _text(self, doc: Mapping[str, Any], key: str, default: str | None) -> str | None:
        value = doc.get(key)
        if value is None:
            return default
        if not isinstance(value, str):
            self.error(key, f"expected a string, got {kind(value)}")
            return default
        return value

    def parameters(self, doc: Mapping[str, Any]) -> dict[str, ParamSpec]:
        if doc.get("parameters") is not None and doc.get("input") is not None:
            self.error("input", "give either `parameters` (a schema) or `input` (names), "
                                "not both")
        if doc.get("input") is not None:  # Orquesta: names, or {name: default}
            return {name: ParamSpec(type="any", default=default)
                    for name, default in self.named_values(doc["input"], "input").items()}
        schema = doc.get("parameters")
        if schema is None:
            return {}
        if not isinstance(schema, Mapping):
            self.error("parameters", f"expected a mapping of name: {{type, ...}}, got "
                                     f"{kind(schema)}")
            return {}
        specs: dict[str, ParamSpec] = {}
        for name, spec in schema.items():
            where = f"parameters.{name}"
            if not isinstance(spec, Mapping):
                self.error(where, f"expected {{type: ..., required: ...}}, got {kind(spec)}")
                continue
            try:
                specs[str(name)] = ParamSpec.model_validate(dict(spec))
            except PydanticValidationError as exc:
                for err in exc.errors():
                    loc = ".".join(str(part) for part in err["loc"])
                    self.error(f"{where}.{loc}" if loc else where, err["msg"])
        return specs

    def named_values(self, value: Any, where: str) -> dict[str, Any]:
        """`{a: 1}`, or Orquesta's `[{a: 1}, b]` (a bare name is null)."""
        if value is None:
            return {}
        entries: list[tuple[Any, Any]]
        if isinstance(value, Mapping):
            entries = list(value.items())
        elif isinstance(value, list):
            entries = []
            for i, entry in enumerate(value):
                if isinstance(entry, str):
                    entries.append((entry, None))
                elif isinstance(entry, Mapping) and len(entry) == 1:
                    entries.extend(entry.items())
                else:
                    self.error(f"{where}[{i}]", f"expected `name: value` or a name, got "
                                                f"{kind(entry)}")
        else:
            self.error(where, f"expected a mapping of name: value, got {kind(value)}")
            return {}
        result: dict[str, Any] = {}
        for name, item in entries:
            if not isinstance(name, str) or not name.isidentifier():
                self.error(where, f"name {name!r} must be an identifier (letters, digits, _)")
            elif json_value(item, f"{where}.{name}", self.problems):
                result[name] = item
        return result

    def output(self, doc: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any] | None]:
        """Attune: `output` is a schema and `output_map` the values; Orquesta: `output`
        is a list of `name: value`."""
        value, schema = doc.get("output"), None
        mapping = self.named_values(doc.get("output_map"), "output_map")
        if isinstance(value, list):
            if mapping:
                self.error("output", "give the output values once: `output_map` or a list "
                                     "under `output`")
            mapping = self.named_values(value, "output")
        elif isinstance(value, Mapping):
            if json_value(value, "output", self.problems):
                schema = dict(value)
        elif value is not None:
            self.error("output", f"expected a schema mapping or a list of `name: value`, "
                                 f"got {kind(value)}")
        return mapping, schema

    # -- tasks -------------------------------------------------------------------------

    def tasks(self, value: Any) -> list[TaskDef]:
        if isinstance(value, Mapping):  # Orquesta: name -> task
            raw = [(f"tasks.{name}", {"name": name, **task} if isinstance(task, Mapping)
                    else task) for name, task in value.items()]
        elif isinstance(value, list):
            raw = [(f"tasks[{i}]", task) for i, task in enumerate(value)]
        else:
            self.error("tasks", "a workflow needs `tasks`: a list of tasks with a `name` and "
                                "an `action`" if value is None
                       else f"expected a list of tasks, got {kind(value)}")
            return []
        if not raw:
            self.error("tasks", "a workflow needs at least one task")
        if len(raw) > MAX_TASKS:
            self.error("tasks", f"{len(raw)} tasks; the limit is {MAX_TASKS}")
            return []
        tasks: list[TaskDef] = []
        seen: set[str] = set()
        for where, doc in raw:
            task = self.task(doc, where)
            if task is None:
                continue
            if task.name in seen:
                self.error(f"tasks.{task.name}.name", "two tasks have this name; names must "
                                                      "be unique")
            seen.add(task.name)
            tasks.append(task)
        return tasks

    def task(self, doc: Any, where: str) -> TaskDef | None:
        if not isinstance(doc, Mapping):
            self.error(where, f"a task must be a mapping, got {kind(doc)}")
            return None
        name = doc.get("name")
        if not isinstance(name, str) or not TASK_NAME.match(name):
            self.error(f"{where}.name", "a task needs a `name` of letters, digits and _ "
                                        f"(not starting with a digit), got {name!r}")
            return None
        if name in ENGINE_COMMANDS:
            self.error(f"{where}.name", f"{name!r} is reserved (engine commands: "
                                        f"{', '.join(sorted(ENGINE_COMMANDS))})")
            return None
        where = f"tasks.{name}"
        if "wait_for" in doc:
            doc = self.wait_for(doc, where)
        for key in doc:
            if key in _UNSUPPORTED:
                self.error(f"{where}.{key}", _UNSUPPORTED[key])
            elif key not in TASK_FIELDS:
                self.error(f"{where}.{key}", "unknown field (known: "
                                             f"{', '.join(sorted(TASK_FIELDS))})")
        task_type = doc.get("type", "action")
        if task_type == "parallel":
            self.error(f"{where}.type", "`type: parallel` is not supported: list several "
                                        "tasks in one transition's `do` to run them in parallel")
        elif task_type not in ("action", "workflow"):
            self.error(f"{where}.type", f"expected action or workflow, got {task_type!r}")
        action = doc.get("action")
        if action is not None and (not isinstance(action, str) or not action.strip()):
            self.error(f"{where}.action", f"expected an action ref like core.echo, got "
                                          f"{kind(action)}")
            action = None
        task_input = doc.get("input")
        if task_input is None:
            task_input = {}
        if not isinstance(task_input, Mapping):
            self.error(f"{where}.input", f"expected a mapping of parameter: value, got "
                                         f"{kind(task_input)}")
            task_input = {}
        elif not json_value(dict(task_input), f"{where}.input", self.problems):
            task_input = {}
        chart = doc.get("__chart_meta__")
        return TaskDef(
            name=name, action=action.strip() if isinstance(action, str) else None,
            input=dict(task_input), next=tuple(self.transitions(doc, where)),
            with_items=self.with_items(doc, where), join=self.join(doc.get("join"), where),
            retry=self.retry(doc.get("retry"), where),
            timeout=self.seconds(doc.get("timeout"), f"{where}.timeout", integer=True),
            delay=self.seconds(doc.get("delay"), f"{where}.delay"),
            chart_meta=dict(chart) if isinstance(chart, Mapping) else None)

    def wait_for(self, doc: Mapping[str, Any], where: str) -> Mapping[str, Any]:
        """`wait_for: {prompt, response_schema, assigned_to, timeout}`: the task asks a
        human and waits for the answer — it is a `core.ask` task (the answer is
        `result().data.response`)."""
        gate = doc["wait_for"]
        rest = {k: v for k, v in doc.items() if k != "wait_for"}
        if not isinstance(gate, Mapping):
            self.error(f"{where}.wait_for", "expected {prompt, response_schema, assigned_to, "
                                            f"timeout}} (the question to ask), got {kind(gate)}")
            return rest
        if "prompt" not in gate:
            self.error(f"{where}.wait_for", "needs a `prompt` (waiting on an inquiry made by "
                                            "another task is not supported: ask here)")
            return rest
        unknown = sorted(set(gate) - WAIT_FOR_FIELDS)
        if unknown:
            known = ", ".join(sorted(WAIT_FOR_FIELDS))
            self.error(f"{where}.wait_for.{unknown[0]}", f"unknown field (known: {known})")
        if rest.get("action") is not None or rest.get("input") is not None:
            self.error(f"{where}.wait_for", "a task that waits for an answer runs no action "
                                            "of its own: put the action in the task its "
                                            "`next` leads to")
            return rest
        return {**rest, "action": ASK_ACTION, "input": dict(gate)}

    def transitions(self, doc: Mapping[str, Any], where: str) -> list[Transition]:
        found: list[Transition] = []
        value = doc.get("next")
        if value is not None and not isinstance(value, list):
            self.error(f"{where}.next", f"expected a list of {{when, publish, do}}, got "
                                        f"{kind(value)}")
        for i, entry in enumerate(value if isinstance(value, list) else []):
            here = f"{where}.next[{i}]"
            if not isinstance(entry, Mapping):
                self.error(here, f"expected {{when, publish, do}}, got {kind(entry)}")
                continue
            for key in entry:
                if key not in TRANSITION_FIELDS:
                    self.error(f"{here}.{key}", "unknown field (known: when, publish, do, "
                                                "label, color)")
            when = entry.get("when")
            if when is not None and not isinstance(when, str):
                self.error(f"{here}.when", f"expected a condition string, got {kind(when)}")
                when = None
            publish = publish_map(entry.get("publish"), f"{here}.publish", self.problems)
            json_value(publish, f"{here}.publish", self.problems)
            found.append(Transition(when=when, publish=publish,
                                    do=targets(entry.get("do"), f"{here}.do", self.problems)))
        found.extend(legacy_transitions(dict(doc), where, self.problems))
        if len(found) > MAX_TRANSITIONS:
            self.error(f"{where}.next", f"{len(found)} transitions; the limit is "
                                        f"{MAX_TRANSITIONS}")
            return []
        return found

    def with_items(self, doc: Mapping[str, Any], where: str) -> WithItems | None:
        value, here = doc.get("with_items"), f"{where}.with_items"
        concurrency, batch = doc.get("concurrency"), doc.get("batch_size")
        if doc.get("with") is not None:  # Orquesta: `with: expr` or `with: {items, ...}`
            if value is not None:
                self.error(f"{where}.with", "give either `with_items` or `with`, not both")
            value, here = doc["with"], f"{where}.with"
            if isinstance(value, Mapping):
                unknown = set(value) - {"items", "concurrency", "batch_size"}
                if unknown:
                    self.error(here, f"unknown field(s) {', '.join(sorted(map(str, unknown)))}"
                                     " (known: items, concurrency, batch_size)")
                concurrency = value.get("concurrency", concurrency)
                batch = value.get("batch_size", batch)
                value, here = value.get("items"), f"{here}.items"
        if value is None:
            for key, given in (("concurrency", concurrency), ("batch_size", batch)):
                if given is not None:
                    self.error(f"{where}.{key}", "only applies to a task with `with_items`")
            return None
        if isinstance(value, list):  # a literal list is fine too
            if not json_value(value, here, self.problems):
                return None
            items: str | list[Any] = value
        elif isinstance(value, str) and "{{" in value:
            items = value
        else:
            self.error(here, f"expected a template yielding a list, e.g. "
                             f"\"{{{{ parameters.hosts }}}}\", got {kind(value)}")
            return None
        if concurrency is None:
            concurrency = 1
        elif isinstance(concurrency, bool) or not isinstance(concurrency, int | str) or (
                isinstance(concurrency, int) and concurrency < 0) or (
                isinstance(concurrency, str) and "{{" not in concurrency):
            self.error(f"{where}.concurrency", f"expected a positive integer or a template, "
                                               f"got {concurrency!r}")
            concurrency = 1
        if batch is not None and (isinstance(batch, bool) or not isinstance(batch, int)
                                  or batch < 1):
            self.error(f"{where}.batch_size", f"expected a positive integer, got {batch!r}")
            batch = None
        return WithItems(items=items, concurrency=concurrency, batch_size=batch)

    def join(self, value: Any, where: str) -> int | str | None:
        if value is None or value == "all":
            return value  # type: ignore[no-any-return]
        if isinstance(value, int) and not isinstance(value, bool) and value >= 1:
            return value
        self.error(f"{where}.join", f"expected a positive integer or \"all\", got {value!r}")
        return None

    def retry(self, value: Any, where: str) -> RetryPolicy | None:
        here = f"{where}.retry"
        if value is None:
            return None
        if not isinstance(value, Mapping):
            self.error(here, f"expected {{count, delay, backoff, max_delay, when}}, got "
                             f"{kind(value)}")
            return None
        for key in value:
            if key not in RETRY_FIELDS:
                self.error(f"{here}.{key}", "unknown field (known: count, delay, backoff, "
                                            "max_delay, when)")
        count = value.get("count")
        if isinstance(count, bool) or not isinstance(count, int) or not 0 <= count <= MAX_RETRIES:
            self.error(f"{here}.count", f"expected an integer from 0 to {MAX_RETRIES}, "
                                        f"got {count!r}")
            return None
        backoff = value.get("backoff", "constant")
        if backoff not in {b.value for b in Backoff}:
            self.error(f"{here}.backoff", f"expected constant, linear or exponential, "
                                          f"got {backoff!r}")
            return None
        when = value.get("when", value.get("on_error"))
        if when is not None and not isinstance(when, str):
            self.error(f"{here}.when", f"expected a condition string, got {kind(when)}")
            when = None
        return RetryPolicy(count=count, delay=self.seconds(value.get("delay"), f"{here}.delay")
                           or 0.0, backoff=Backoff(backoff),
                           max_delay=self.seconds(value.get("max_delay"), f"{here}.max_delay"),
                           when=when)

    def seconds(self, value: Any, where: str, *, integer: bool = False) -> Any:
        if value is None:
            return None
        kinds = int if integer else int | float
        if isinstance(value, bool) or not isinstance(value, kinds) or value < 0 \
                or value > 31_536_000:
            unit = "whole seconds" if integer else "seconds"
            self.error(where, f"expected {unit} from 0 to 31536000, got {value!r}")
            return None
        return value

