"""The task graph of a workflow: lookups the conductor and the validator need often,
computed once per definition (tasks by name, inbound tasks, entry tasks)."""

from __future__ import annotations

from dataclasses import dataclass

from attune.workflow.model import ENGINE_COMMANDS, TaskDef, WorkflowDef


@dataclass(frozen=True, slots=True)
class Graph:
    definition: WorkflowDef
    tasks: dict[str, TaskDef]
    #: task -> the tasks with a transition into it (the sources a join waits for)
    inbound: dict[str, frozenset[str]]
    #: tasks no transition leads to: they start when the workflow starts
    entries: tuple[str, ...]

    @classmethod
    def of(cls, definition: WorkflowDef) -> Graph:
        tasks = {task.name: task for task in definition.tasks}
        inbound: dict[str, set[str]] = {name: set() for name in tasks}
        for task in definition.tasks:
            for transition in task.next:
                for target in transition.do:
                    if target in inbound:
                        inbound[target].add(task.name)
        entries = tuple(task.name for task in definition.tasks if not inbound[task.name])
        return cls(definition, tasks,
                   {name: frozenset(sources) for name, sources in inbound.items()}, entries)

    def successors(self, name: str) -> set[str]:
        return {target for transition in self.tasks[name].next for target in transition.do
                if target not in ENGINE_COMMANDS}
