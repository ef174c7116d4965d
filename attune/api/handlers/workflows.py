"""Workflows: list, show, create, change, delete (a workflow is an action whose graph
the executor's conductor runs), validate a document against a pack, and pause or
resume a running workflow execution (cancel and rerun are the executions' own)."""

from __future__ import annotations

from aiohttp import web

from attune.api import envelopes
from attune.api.consistency import WRITE_WAIT_SECONDS
from attune.api.handlers import written
from attune.api.models import (
    CommandAccepted,
    DeletedOut,
    ExecutionAccepted,
    ExecutionOut,
    IdPath,
    RefPath,
)
from attune.api.models.workflows import (
    ExecutionNodeOut,
    ProblemOut,
    WorkflowCreateRequest,
    WorkflowListQuery,
    WorkflowOut,
    WorkflowRunOut,
    WorkflowUpdateRequest,
    WorkflowValidateRequest,
    WorkflowValidationOut,
)
from attune.api.queries import executions as execution_reads
from attune.api.queries import workflows as reads
from attune.api.queries.components import require
from attune.api.routing import Call, Permission, Route
from attune.app import workflow_definitions as definitions
from attune.app.workflows import Conducting
from attune.errors import ConflictError
from attune.workflow import Pause, Resume, WorkflowCommand


def reader(call: Call, ref: str) -> written.Read:
    async def read() -> WorkflowOut | None:
        return await reads.find(call.ctx.pool, ref)
    return read


async def list_workflows(call: Call) -> web.Response:
    query = call.query_as(WorkflowListQuery)
    items = await reads.list_page(call.ctx.pool, pack_ref=query.pack_ref,
                                  limit=query.fetch_limit, offset=query.offset)
    total = (await reads.count(call.ctx.pool, pack_ref=query.pack_ref)
             if query.include_total else None)
    return envelopes.page(items, query, total=total)


async def get_workflow(call: Call) -> web.Response:
    return envelopes.single(await reads.get(call.ctx.pool, call.path_as(RefPath).ref))


async def create_workflow(call: Call) -> web.Response:
    body = call.body_as(WorkflowCreateRequest)
    seq = await definitions.create(call.ctx, body.ref, body.definition, meta=call.meta)
    return await written.component(call, body.ref, seq, reader(call, body.ref), status=201)


async def update_workflow(call: Call) -> web.Response:
    ref = call.path_as(RefPath).ref
    body = call.body_as(WorkflowUpdateRequest)
    seq = await definitions.update(call.ctx, ref, body.definition, meta=call.meta)
    return await written.component(call, ref, seq, reader(call, ref))


async def delete_workflow(call: Call) -> web.Response:
    ref = call.path_as(RefPath).ref
    seq = await definitions.delete(call.ctx, ref, meta=call.meta)
    return await written.deleted(call, "workflow", ref, seq)


async def validate_workflow(call: Call) -> web.Response:
    pack_ref = call.path_as(RefPath).ref
    await require(call.ctx.pool, "packs", pack_ref)
    body = call.body_as(WorkflowValidateRequest)
    ref = f"{pack_ref}.{body.name}" if body.name else None
    _, report = await definitions.check(call.ctx, body.definition, ref=ref)
    return envelopes.single(WorkflowValidationOut(
        valid=not report.errors,
        errors=[ProblemOut(**p.as_dict()) for p in report.errors],
        warnings=[ProblemOut(**p.as_dict()) for p in report.warnings]))


async def workflow_run(call: Call) -> web.Response:
    execution_id = call.path_as(IdPath).id
    view = await definitions.run_view(call.ctx, execution_id)
    if view is None:
        raise ConflictError(f"execution {execution_id} is not a workflow (or has not "
                            "started yet): it has no tasks")
    return envelopes.single(WorkflowRunOut(execution_id=execution_id, **view))


async def execution_tree(call: Call) -> web.Response:
    return envelopes.single(await reads.tree(call.ctx.pool, call.path_as(IdPath).id))


async def _control(call: Call, command: WorkflowCommand) -> web.Response:
    execution_id = call.path_as(IdPath).id
    if not await Conducting(call.ctx).command(execution_id, command, meta=call.meta):
        raise ConflictError(f"execution {execution_id} is not a workflow (or has not "
                            "started yet): only workflows pause and resume")
    seq = await call.ctx.store.last_sequence()
    if await call.waiter.wait_for(seq, WRITE_WAIT_SECONDS):
        found = await execution_reads.find(call.ctx.pool, execution_id)
        if found is not None:
            return envelopes.single(found, sequence=seq)
    return envelopes.single(ExecutionAccepted(id=execution_id, action_ref=""), status=202,
                            sequence=seq)


async def pause_workflow(call: Call) -> web.Response:
    return await _control(call, Pause(by=call.user.login))


async def resume_workflow(call: Call) -> web.Response:
    return await _control(call, Resume(by=call.user.login))


_ACCEPTED = {202: CommandAccepted}
_STARTED = {202: ExecutionAccepted}

ROUTES = [
    Route("GET", "/api/v1/workflows", list_workflows, "List workflows (filter: pack_ref)",
          Permission("actions", "read"), "workflows", query=WorkflowListQuery,
          response=WorkflowOut, envelope="list"),
    Route("POST", "/api/v1/workflows", create_workflow,
          "Create a workflow in a registered pack (ref <pack>.<name>); validated against "
          "the registered actions", Permission("actions", "create"), "workflows",
          body=WorkflowCreateRequest, response=WorkflowOut, status=201,
          alternatives=_ACCEPTED, command=True),
    Route("GET", "/api/v1/workflows/{ref}", get_workflow,
          "Show a workflow with its canonical definition", Permission("actions", "read"),
          "workflows", params=RefPath, response=WorkflowOut),
    Route("PUT", "/api/v1/workflows/{ref}", update_workflow,
          "Replace a workflow's definition (running workflows keep theirs)",
          Permission("actions", "update"), "workflows", params=RefPath,
          body=WorkflowUpdateRequest, response=WorkflowOut, alternatives=_ACCEPTED,
          command=True),
    Route("DELETE", "/api/v1/workflows/{ref}", delete_workflow, "Delete a workflow",
          Permission("actions", "delete"), "workflows", params=RefPath, response=DeletedOut,
          envelope="raw", command=True),
    Route("POST", "/api/v1/packs/{ref}/workflows/validate", validate_workflow,
          "Validate a workflow document against a pack and the registered actions: "
          "errors and warnings, each naming its task and field",
          Permission("actions", "read"), "workflows", params=RefPath,
          body=WorkflowValidateRequest, response=WorkflowValidationOut),
    Route("GET", "/api/v1/executions/{id}/workflow", workflow_run,
          "A workflow execution's task states: each task run with its children",
          Permission("executions", "read"), "workflows", params=IdPath,
          response=WorkflowRunOut),
    Route("GET", "/api/v1/executions/{id}/tree", execution_tree,
          "An execution with its descendants (a workflow's task runs, nested workflows' "
          "own), with statuses and times", Permission("executions", "read"), "workflows",
          params=IdPath, response=ExecutionNodeOut),
    Route("POST", "/api/v1/executions/{id}/pause", pause_workflow,
          "Pause a workflow execution: running children finish (child workflows pause), "
          "nothing new starts until it is resumed", Permission("executions", "cancel"),
          "workflows", params=IdPath, response=ExecutionOut, alternatives=_STARTED,
          command=True),
    Route("POST", "/api/v1/executions/{id}/resume", resume_workflow,
          "Resume a paused workflow execution", Permission("executions", "cancel"),
          "workflows", params=IdPath, response=ExecutionOut, alternatives=_STARTED,
          command=True),
]
