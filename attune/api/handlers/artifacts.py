"""Artifacts: list, show (by id or ref), create, change, delete, progress appends, and an
execution's artifacts. Actions call these with their execution token (the SDK's
`create_progress` / `ProgressArtifact.append`). Every handler checks the artifact itself
against the caller's grants (constraints pack_refs, refs, owner: self); public
artifacts are readable by anyone who may read artifacts."""

from __future__ import annotations

from dataclasses import replace

from aiohttp import web

from attune.api import envelopes
from attune.api.consistency import WRITE_WAIT_SECONDS
from attune.api.handlers import written
from attune.api.models import DeletedOut, IdPath
from attune.api.models.artifacts import (
    ArtifactCreateRequest,
    ArtifactIdPath,
    ArtifactListQuery,
    ArtifactOut,
    ArtifactRefPath,
    ArtifactUpdateRequest,
    DataRequest,
    ProgressRequest,
)
from attune.api.queries import artifacts as reads
from attune.api.queries import visible
from attune.api.routing import Call, Permission, Route
from attune.app import artifacts
from attune.app.authorization import allowed, authorize
from attune.domain import artifact as domain
from attune.domain.artifact import ArtifactSpec, ArtifactState
from attune.errors import ForbiddenError, NotFoundError, ValidationError
from attune.security.tokens import TokenType

#: actions manage their artifacts with their execution token
CALLERS: tuple[TokenType, ...] = ("access", "execution")


def token_type(call: Call) -> TokenType:
    return call.claims.token_type if call.claims else "access"


def caller_execution(call: Call) -> int | None:
    """The execution an execution token stands for (None for other tokens)."""
    if call.claims is None or call.claims.token_type != "execution":
        return None
    value = call.claims.metadata.get("execution_id")
    return value if isinstance(value, int) else None


def creator(call: Call) -> str:
    """Who creates: an action (its ref) for execution tokens, else the caller's login."""
    if call.claims is not None and call.claims.token_type == "execution":
        action_ref = call.claims.metadata.get("action_ref")
        if isinstance(action_ref, str) and action_ref:
            return action_ref
    return call.user.login


def may(call: Call, action: str, row: reads.ArtifactRow | ArtifactState) -> bool:
    if isinstance(row, ArtifactState):
        target = domain.target(row.spec.ref, row.spec.scope, row.spec.owner)
        public = row.spec.visibility == "public"
    else:
        target, public = row.target, row.public
    if action == "read" and public:
        return True
    return allowed(call.user, "artifacts", action, target, token_type=token_type(call))


def check(call: Call, action: str, row: reads.ArtifactRow | ArtifactState) -> None:
    if not may(call, action, row):
        ref = row.spec.ref if isinstance(row, ArtifactState) else row.out.ref
        raise ForbiddenError(f"{call.user.login} may not {action} artifact {ref!r}: "
                             f"permission 'artifacts:{action}' on it is required (ask an "
                             "administrator for a permission set that grants it)")


async def linked_execution(call: Call, execution: int | None) -> int | None:
    """The execution to link: the one named (which must exist), else the caller's."""
    own = caller_execution(call)
    if execution is None or execution == own:
        return own if execution is None else execution
    if await call.ctx.pool.fetchval("SELECT 1 FROM executions WHERE id = $1",
                                    execution) is None:
        raise ValidationError(f"execution {execution} not found: link an existing "
                              "execution, or leave execution out")
    return execution


def out_of(state: ArtifactState) -> ArtifactOut:
    """The answer from the artifact's events (used when the read model lags behind)."""
    s = state.spec
    return ArtifactOut(id=state.id, ref=s.ref, type=s.type, scope=s.scope, owner=s.owner,
                       visibility=s.visibility, name=s.name, description=s.description,
                       content_type=s.content_type, retention_policy=s.retention_policy,
                       retention_limit=s.retention_limit, execution=s.execution,
                       data=s.data, created_by=s.created_by, versions=len(state.versions),
                       latest_version=state.latest.version if state.latest else None,
                       created=state.created, updated=state.updated)


async def answer(call: Call, artifact_id: int, seq: int, *, status: int = 200
                 ) -> web.Response:
    """The artifact as it is after `seq`: from the read model once it caught up, else
    from the events (so the SDK always gets the artifact it wrote)."""
    if seq and await call.waiter.wait_for(seq, WRITE_WAIT_SECONDS):
        row = await reads.by_id(call.ctx.pool, artifact_id)
        if row is not None:
            return envelopes.single(row.out, status=status, sequence=seq)
    state, _ = await artifacts.by_id(call.ctx, artifact_id)
    return envelopes.single(out_of(state), status=status, sequence=seq or None)


async def readable(call: Call, artifact_id: int) -> reads.ArtifactRow:
    row = await reads.by_id(call.ctx.pool, artifact_id)
    if row is None:
        raise NotFoundError(f"artifact {artifact_id} not found: GET /api/v1/artifacts "
                            "lists the artifacts")
    check(call, "read", row)
    return row


async def list_artifacts(call: Call) -> web.Response:
    query = call.query_as(ArtifactListQuery)
    filters = reads.Filters(type=query.type, scope=query.scope, owner=query.owner,
                            execution=query.execution, q=query.q)
    return await _page(call, query, filters)


async def _page(call: Call, query: ArtifactListQuery, filters: reads.Filters
                ) -> web.Response:
    async def scan(after: str, limit: int) -> list[reads.ArtifactRow]:
        return await reads.scan(call.ctx.pool, filters, after=after, limit=limit)

    rows, total = await visible.page(scan, lambda r: r.out.ref, lambda r: may(call, "read", r),
                                     offset=query.offset, limit=query.fetch_limit,
                                     count=query.include_total)
    return envelopes.page([r.out for r in rows], query, total=total)


async def execution_artifacts(call: Call) -> web.Response:
    execution_id = call.path_as(IdPath).id
    query = call.query_as(ArtifactListQuery)
    return await _page(call, query, reads.Filters(type=query.type, scope=query.scope,
                                                  owner=query.owner, execution=execution_id,
                                                  q=query.q))


async def get_artifact(call: Call) -> web.Response:
    return envelopes.single((await readable(call, call.path_as(ArtifactIdPath).id)).out)


async def get_artifact_by_ref(call: Call) -> web.Response:
    ref = call.path_as(ArtifactRefPath).ref
    row = await reads.by_ref(call.ctx.pool, ref)
    if row is None:
        raise NotFoundError(f"artifact {ref!r} not found: create it with POST "
                            "/api/v1/artifacts")
    check(call, "read", row)
    return envelopes.single(row.out)


async def create_artifact(call: Call) -> web.Response:
    body = call.body_as(ArtifactCreateRequest)
    spec = ArtifactSpec(
        ref=domain.check_ref(body.ref), type=body.type, scope=body.scope, owner=body.owner,
        visibility=body.visibility, name=body.name, description=body.description,
        content_type=body.content_type,
        retention_policy=body.retention_policy or domain.DEFAULT_RETENTION[0],
        retention_limit=body.retention_limit or domain.DEFAULT_RETENTION[1],
        execution=await linked_execution(call, body.execution), data=body.data,
        created_by=creator(call))
    authorize(call.user, "artifacts", "create", domain.target(spec.ref, spec.scope,
                                                              spec.owner),
              token_type=token_type(call))
    artifact_id, seq = await artifacts.create(call.ctx, spec, meta=call.meta)
    return await answer(call, artifact_id, seq, status=201)


async def update_artifact(call: Call) -> web.Response:
    artifact_id = call.path_as(ArtifactIdPath).id
    body = call.body_as(ArtifactUpdateRequest)
    state, _ = await artifacts.by_id(call.ctx, artifact_id)
    check(call, "update", state)
    changes = written.changes(body, nullable=("name", "description", "content_type"))
    if "execution" in changes:
        named = changes["execution"]
        changes["execution"] = await linked_execution(call, named if isinstance(named, int)
                                                      else None)
    if {"scope", "owner"} & set(changes):
        moved = state.spec.model_copy(update={k: changes[k] for k in ("scope", "owner")
                                              if k in changes})
        check(call, "update", replace(state, spec=moved))
    seq = await artifacts.update(call.ctx, artifact_id, changes, meta=call.meta)
    return await answer(call, artifact_id, seq)


async def delete_artifact(call: Call) -> web.Response:
    artifact_id = call.path_as(ArtifactIdPath).id
    state, _ = await artifacts.by_id(call.ctx, artifact_id)
    check(call, "delete", state)
    seq = await artifacts.delete(call.ctx, artifact_id, meta=call.meta)
    return await written.deleted(call, "artifact", state.spec.ref, seq)


async def set_data(call: Call) -> web.Response:
    artifact_id = call.path_as(ArtifactIdPath).id
    body = call.body_as(DataRequest)
    state, _ = await artifacts.by_id(call.ctx, artifact_id)
    check(call, "update", state)
    seq = await artifacts.update(call.ctx, artifact_id, {"data": body.data}, meta=call.meta)
    return await answer(call, artifact_id, seq)


async def append_progress(call: Call) -> web.Response:
    artifact_id = call.path_as(ArtifactIdPath).id
    body = call.body_as(ProgressRequest)
    row = await reads.by_id(call.ctx.pool, artifact_id)
    if row is not None:
        check(call, "update", row)
    else:
        state, _ = await artifacts.by_id(call.ctx, artifact_id)
        check(call, "update", state)
    seq = await artifacts.append_progress(call.ctx, artifact_id, body.entry, meta=call.meta)
    return await answer(call, artifact_id, seq)


_READ = Permission("artifacts", "read")
_ID = ArtifactIdPath

ROUTES = [
    Route("GET", "/api/v1/artifacts", list_artifacts,
          "List the artifacts you may read (filters: type, scope, owner, execution, q)",
          _READ, "artifacts", query=ArtifactListQuery, response=ArtifactOut, envelope="list",
          tokens=CALLERS),
    Route("POST", "/api/v1/artifacts", create_artifact,
          "Create an artifact (409 if its ref exists); with an execution token it belongs "
          "to that execution", Permission("artifacts", "create"), "artifacts",
          body=ArtifactCreateRequest, response=ArtifactOut, status=201, command=True,
          tokens=CALLERS),
    Route("GET", "/api/v1/artifacts/ref/{ref}", get_artifact_by_ref, "Show an artifact by ref",
          _READ, "artifacts", params=ArtifactRefPath, response=ArtifactOut, tokens=CALLERS),
    Route("GET", "/api/v1/artifacts/{id}", get_artifact, "Show an artifact", _READ,
          "artifacts", params=_ID, response=ArtifactOut, tokens=CALLERS),
    Route("PUT", "/api/v1/artifacts/{id}", update_artifact,
          "Change an artifact's name, description, visibility, owner, retention, execution "
          "link or data (fields left out stay)", Permission("artifacts", "update"),
          "artifacts", params=_ID, body=ArtifactUpdateRequest, response=ArtifactOut,
          command=True, tokens=CALLERS),
    Route("DELETE", "/api/v1/artifacts/{id}", delete_artifact,
          "Delete an artifact and the content of all its versions",
          Permission("artifacts", "delete"), "artifacts", params=_ID, response=DeletedOut,
          envelope="raw", command=True, tokens=CALLERS),
    Route("PUT", "/api/v1/artifacts/{id}/data", set_data,
          "Replace an artifact's data (a URL, progress entries, any small JSON)",
          Permission("artifacts", "update"), "artifacts", params=_ID, body=DataRequest,
          response=ArtifactOut, command=True, tokens=CALLERS),
    Route("POST", "/api/v1/artifacts/{id}/progress", append_progress,
          "Append an entry to a progress artifact (concurrent appends all land)",
          Permission("artifacts", "update"), "artifacts", params=_ID, body=ProgressRequest,
          response=ArtifactOut, command=True, tokens=CALLERS),
    Route("GET", "/api/v1/executions/{id}/artifacts", execution_artifacts,
          "The artifacts of an execution", _READ, "artifacts", params=IdPath,
          query=ArtifactListQuery, response=ArtifactOut, envelope="list", tokens=CALLERS),
]
