"""Workflow definitions through the API: a workflow is an action whose `workflow` holds
the canonical model (`attune.packs.workflows.workflow_action`), so creating, updating
and deleting one are commands on the action component; validation checks the graph,
the expressions and that every action it runs exists."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from attune.app import components
from attune.app.context import Context
from attune.domain.action import ACTION, ActionDef
from attune.errors import ConflictError, NotFoundError, PackError, ValidationError
from attune.eventstore.envelope import Meta
from attune.packs.workflows import workflow_action
from attune.workflow import (
    Problem,
    ValidationReport,
    WorkflowDef,
    WorkflowDefinitionError,
    parse_workflow,
    validate_workflow,
)
from attune.workflow.view import summary

#: Fields of a workflow document that describe the action rather than the graph.
ACTION_FIELDS = ("enabled", "timeout_seconds")


async def known_actions(ctx: Context) -> set[str]:
    return {r["ref"] for r in await ctx.pool.fetch("SELECT ref FROM actions")}


async def check(ctx: Context, document: Mapping[str, Any], *, ref: str | None = None
                ) -> tuple[WorkflowDef | None, ValidationReport]:
    """Parse and validate a workflow document against the registered actions; parse
    problems come back as report errors (nothing raised)."""
    graph = {k: v for k, v in document.items() if k not in ACTION_FIELDS}
    try:
        definition = parse_workflow(graph, ref=ref)
    except WorkflowDefinitionError as exc:
        details = exc.details if isinstance(exc.details, list) else []
        errors = tuple(Problem(d.get("field", ""), d.get("message", ""))
                       for d in details) or (Problem("", exc.message),)
        return None, ValidationReport(errors, ())
    actions = await known_actions(ctx)
    if ref is not None:
        actions.add(ref)  # a workflow may run itself (recursion is the author's call)
    return definition, validate_workflow(definition, known_actions=actions)


async def _valid(ctx: Context, ref: str, document: Mapping[str, Any]) -> ActionDef:
    pack_ref = await components.pack_of(ctx, ACTION, ref)
    definition, report = await check(ctx, document, ref=ref)
    if report.errors or definition is None:
        shown = "; ".join(str(p) for p in report.errors[:5])
        raise WorkflowDefinitionError(f"invalid workflow: {shown}",
                                      details=[p.as_dict() for p in report.errors])
    try:
        return workflow_action(definition, pack_ref=pack_ref, name=ref.partition(".")[2],
                               shown="definition", doc=document)
    except PackError as exc:
        raise ValidationError(exc.message) from None


async def create(ctx: Context, ref: str, document: Mapping[str, Any], *, meta: Meta) -> int:
    """A new workflow action `ref` (`<pack>.<name>`); 409 when the ref is taken."""
    return await components.create(ctx, ACTION, await _valid(ctx, ref, document), meta=meta)


async def update(ctx: Context, ref: str, document: Mapping[str, Any], *, meta: Meta) -> int:
    await definition(ctx, ref)  # 404 / 409 when it is no workflow
    action = await _valid(ctx, ref, document)
    return await components.update(ctx, ACTION, ref, action.model_dump(), meta=meta)


async def delete(ctx: Context, ref: str, *, meta: Meta) -> int:
    await definition(ctx, ref)
    return await components.delete(ctx, ACTION, ref, meta=meta)


async def definition(ctx: Context, ref: str) -> ActionDef:
    row = await ctx.pool.fetchrow("SELECT definition FROM actions WHERE ref = $1", ref)
    if row is None:
        raise NotFoundError(f"workflow {ref!r} not found: GET /api/v1/workflows lists them")
    action = ActionDef.model_validate(row["definition"])
    if action.workflow is None:
        raise ConflictError(f"action {ref!r} is not a workflow: it runs on a worker "
                            f"({action.runtime}); see GET /api/v1/actions/{ref}")
    return action


async def run_view(ctx: Context, execution_id: int) -> dict[str, Any] | None:
    """A workflow execution's task states (None for an ordinary execution), replayed
    from its stream."""
    from attune.app.workflows import Conducting

    state, _ = await Conducting(ctx).load(execution_id)
    return None if state is None else summary(state)
