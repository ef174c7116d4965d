"""Legacy task fields, normalised into canonical `next` transitions.

    on_success: b            -> {when: "{{ succeeded() }}", do: [b]}
    on_failure: c            -> {when: "{{ failed() }}",    do: [c]}
    on_timeout: d            -> {when: "{{ timed_out() }}", do: [d]}
    on_complete: e           -> {do: [e]}                    (always)
    decision:                -> one transition per branch, in order; `default`
      - {when: x, next: f}      fires when no other branch's condition holds
      - {default: g}
    publish: [{v: ...}]      -> a first transition {when: succeeded(), publish: ...}
                                so the other transitions already see the variables

Transitions written in `next` come first, then the legacy ones in the order above.
"""

from __future__ import annotations

import re
from typing import Any

from attune.workflow.model import Transition
from attune.workflow.problems import Problems, kind

SUCCEEDED = "{{ succeeded() }}"
_ON_FIELDS = (("on_success", "{{ succeeded() }}"), ("on_failure", "{{ failed() }}"),
              ("on_timeout", "{{ timed_out() }}"), ("on_complete", None))
LEGACY_FIELDS = frozenset({"on_success", "on_failure", "on_timeout", "on_complete",
                           "decision", "publish"})
_PURE = re.compile(r"^\s*\{\{(.*)\}\}\s*$", re.DOTALL)


def targets(value: Any, where: str, problems: Problems) -> tuple[str, ...]:
    """`do`-style targets: a name, a comma-separated string, or a list of names."""
    if value is None:
        return ()
    if isinstance(value, str):
        return tuple(name.strip() for name in value.split(",") if name.strip())
    if isinstance(value, list):
        names: list[str] = []
        for i, item in enumerate(value):
            if isinstance(item, str) and item.strip():
                names.append(item.strip())
            else:
                problems.error(f"{where}[{i}]", f"expected a task name, got {kind(item)}")
        return tuple(names)
    problems.error(where, f"expected a task name or a list of task names, got {kind(value)}")
    return ()


def publish_map(value: Any, where: str, problems: Problems) -> dict[str, Any]:
    """`publish`: a mapping, a list of one-key mappings, or a list of bare names (a bare
    name publishes the task's result under that name)."""
    if value is None:
        return {}
    if isinstance(value, dict):
        items = list(value.items())
    elif isinstance(value, list):
        items = []
        for i, entry in enumerate(value):
            if isinstance(entry, str) and entry.strip():
                items.append((entry.strip(), "{{ result() }}"))
            elif isinstance(entry, dict) and entry:
                items.extend(entry.items())
            else:
                problems.error(f"{where}[{i}]", "expected `name: value` or a variable name, "
                                                f"got {kind(entry)}")
    else:
        problems.error(where, f"expected a list of `name: value` entries, got {kind(value)}")
        return {}
    result: dict[str, Any] = {}
    for name, item in items:
        if not isinstance(name, str) or not name.isidentifier():
            problems.error(where, f"variable name {name!r} must be an identifier "
                                  "(letters, digits, _)")
            continue
        result[name] = item
    return result


def bare_condition(text: str) -> str:
    """`{{ x > 1 }}` -> `x > 1` (so conditions can be combined); bare text unchanged."""
    match = _PURE.match(text)
    if match and "{{" not in match.group(1) and "}}" not in match.group(1):
        return match.group(1).strip()
    return text.strip()


def legacy_transitions(task: dict[str, Any], where: str,
                       problems: Problems) -> list[Transition]:
    transitions: list[Transition] = []
    if task.get("publish") is not None:
        transitions.append(Transition(
            when=SUCCEEDED, publish=publish_map(task["publish"], f"{where}.publish", problems)))
    for field, when in _ON_FIELDS:
        if task.get(field) is not None:
            transitions.append(Transition(
                when=when, do=targets(task[field], f"{where}.{field}", problems)))
    if task.get("decision") is not None:
        transitions.extend(_decision(task["decision"], f"{where}.decision", problems))
    return transitions


def _decision(value: Any, where: str, problems: Problems) -> list[Transition]:
    if not isinstance(value, list):
        problems.error(where, f"expected a list of {{when, next}} branches, got {kind(value)}")
        return []
    branches: list[Transition] = []
    conditions: list[str] = []
    default: tuple[str, ...] | None = None
    for i, branch in enumerate(value):
        here = f"{where}[{i}]"
        if not isinstance(branch, dict):
            problems.error(here, f"expected a mapping, got {kind(branch)}")
            continue
        unknown = set(branch) - {"when", "next", "do", "default"}
        if unknown:
            problems.error(here, f"unknown field(s) {', '.join(sorted(map(str, unknown)))} "
                                 "(known: when, next, default)")
        if "default" in branch:
            default = targets(branch["default"], f"{here}.default", problems)
            continue
        when = branch.get("when")
        if not isinstance(when, str) or not when.strip():
            problems.error(f"{here}.when", "a decision branch needs a `when` condition "
                                           "(or use `default`)")
            continue
        target = targets(branch.get("next", branch.get("do")), f"{here}.next", problems)
        branches.append(Transition(when=when, do=target))
        conditions.append(f"({bare_condition(when)})")
    if default is not None:
        when = f"{{{{ not ({' or '.join(conditions)}) }}}}" if conditions else None
        branches.append(Transition(when=when, do=default))
    return branches
