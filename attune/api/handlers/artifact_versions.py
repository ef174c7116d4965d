"""Artifact versions: list, show, upload (multipart), download, and the SDK's
`allocate_file_version`: create the artifact by ref if needed and hand out a path under
the caller's ATTUNE_ARTIFACTS_DIR; the file written there is stored when the execution
ends (or on first download)."""

from __future__ import annotations

import contextlib
import io
from typing import IO
from urllib.parse import quote

import orjson
from aiohttp import BodyPartReader, ClientPayloadError, web
from aiohttp.http_exceptions import HttpProcessingError

from attune.api import envelopes
from attune.api.consistency import WRITE_WAIT_SECONDS
from attune.api.handlers import written
from attune.api.handlers.artifacts import (
    CALLERS,
    caller_execution,
    check,
    creator,
    linked_execution,
    readable,
    token_type,
)
from attune.api.models import DeletedOut, PageQuery
from attune.api.models.artifacts import (
    AllocateFileRequest,
    ArtifactIdPath,
    ArtifactRefPath,
    JsonVersionRequest,
    VersionOut,
    VersionPath,
)
from attune.api.queries import artifacts as reads
from attune.api.routing import Call, Permission, Route
from attune.app import artifact_content as content
from attune.app import artifacts
from attune.app.authorization import authorize
from attune.domain import artifact as domain
from attune.domain.artifact import ArtifactSpec, ArtifactState, VersionState
from attune.errors import BadRequestError, NotFoundError, PayloadTooLargeError

#: one uploaded version at most (content goes to the object store in 128 KiB chunks)
MAX_UPLOAD_BYTES = 512 * 1024 * 1024
OCTETS = "application/octet-stream"


def version_out(state: ArtifactState, v: VersionState) -> VersionOut:
    return VersionOut(id=v.id, artifact=state.id, version=v.version,
                      content_type=v.content_type, size_bytes=v.size_bytes, sha256=v.sha256,
                      object_key=v.object_key, file_path=v.file_path,
                      body_state="stored" if v.stored else "allocated",
                      execution=v.execution, created_by=v.created_by, meta=v.meta,
                      created=v.created)


async def list_versions(call: Call) -> web.Response:
    artifact_id = call.path_as(ArtifactIdPath).id
    query = call.query_as(PageQuery)
    await readable(call, artifact_id)
    rows = await reads.versions(call.ctx.pool, artifact_id, limit=query.fetch_limit,
                                offset=query.offset)
    return envelopes.page(rows, query)


async def _version(call: Call, artifact_id: int, number: int | None) -> VersionOut:
    await readable(call, artifact_id)
    found = await reads.version(call.ctx.pool, artifact_id, number)
    if found is None:
        what = "has no versions" if number is None else f"has no version {number}"
        raise NotFoundError(f"artifact {artifact_id} {what}: GET "
                            f"/api/v1/artifacts/{artifact_id}/versions lists them")
    return found


async def get_latest_version(call: Call) -> web.Response:
    return envelopes.single(await _version(call, call.path_as(ArtifactIdPath).id, None))


async def get_version(call: Call) -> web.Response:
    path = call.path_as(VersionPath)
    return envelopes.single(await _version(call, path.id, path.version))


async def _download(call: Call, artifact_id: int, number: int | None) -> web.StreamResponse:
    found = await _version(call, artifact_id, number)
    if found.body_state == "allocated":
        row = await reads.by_id(call.ctx.pool, artifact_id)
        assert row is not None
        if not await artifacts.store_allocated(call.ctx, row.out.ref, found.version,
                                               meta=call.meta):
            raise NotFoundError(
                f"version {found.version} of artifact {artifact_id} has no content yet: it "
                "was allocated but its file has not been written (or its execution is "
                "still running: the file is stored when it ends)")
        state, _ = await artifacts.by_id(call.ctx, artifact_id)
        stored = state.version(found.version)
        assert stored is not None and stored.object_key is not None
        key = stored.object_key
    else:
        if found.object_key is None:
            raise NotFoundError(f"version {found.version} of artifact {artifact_id} has no "
                                "content")
        key = found.object_key
    body = await content.get(call.ctx, key)
    try:
        return await _stream(call.request, body, found, artifact_id)
    finally:
        body.close()


async def _stream(request: web.Request, body: IO[bytes], found: VersionOut,
                  artifact_id: int) -> web.StreamResponse:
    name = f"artifact-{artifact_id}-v{found.version}"
    response = web.StreamResponse(headers={
        "Content-Type": found.content_type or OCTETS,
        "Content-Disposition": f"attachment; filename*=UTF-8''{quote(name)}",
        "X-Attune-Artifact-Version": str(found.version),
        **({"X-Attune-Sha256": found.sha256} if found.sha256 else {})})
    if found.size_bytes is not None:
        response.content_length = found.size_bytes
    await response.prepare(request)
    while chunk := body.read(content.CHUNK):
        await response.write(chunk)
    await response.write_eof()
    return response


async def download_latest(call: Call) -> web.StreamResponse:
    return await _download(call, call.path_as(ArtifactIdPath).id, None)


async def download_version(call: Call) -> web.StreamResponse:
    path = call.path_as(VersionPath)
    return await _download(call, path.id, path.version)


async def _receive(request: web.Request) -> tuple[IO[bytes], str | None]:
    """The `file` part of a multipart body, spooled; and its content type."""
    if not request.content_type.startswith("multipart/"):
        raise BadRequestError("send the content as multipart/form-data with a `file` part "
                              "(e.g. curl -F file=@report.txt)")
    try:
        return await _file_part(request)
    # a malformed multipart body
    except (ValueError, AssertionError, ClientPayloadError, HttpProcessingError) as exc:
        raise BadRequestError(f"malformed multipart body: {exc}") from None


async def _file_part(request: web.Request) -> tuple[IO[bytes], str | None]:
    reader = await request.multipart()
    async for part in reader:
        if not isinstance(part, BodyPartReader) or part.name != "file":
            continue
        spooled = content.spool()
        size = 0
        try:
            while chunk := await part.read_chunk(content.CHUNK):
                size += len(chunk)
                if size > MAX_UPLOAD_BYTES:
                    raise PayloadTooLargeError(f"the file is over {MAX_UPLOAD_BYTES} bytes, "
                                               "the limit of one version")
                spooled.write(chunk)
        except BaseException:
            spooled.close()
            raise
        kind = part.headers.get("Content-Type")
        return spooled, (None if kind in (None, OCTETS) else kind)
    raise BadRequestError("the multipart body has no `file` part: name the file field "
                          "`file`")


async def _upload(call: Call, state: ArtifactState) -> web.Response:
    check(call, "update", state)
    source, kind = await _receive(call.request)
    with contextlib.closing(source):
        added, seq = await artifacts.upload(
            call.ctx, state.id, source, content_type=kind, created_by=creator(call),
            execution=await linked_execution(call, None), meta=call.meta)
    await call.waiter.wait_for(seq, WRITE_WAIT_SECONDS)
    return envelopes.single(version_out(state, added), status=201, sequence=seq)


async def create_json_version(call: Call) -> web.Response:
    body = call.body_as(JsonVersionRequest)
    state, _ = await artifacts.by_id(call.ctx, call.path_as(ArtifactIdPath).id)
    check(call, "update", state)
    raw = orjson.dumps(body.content)
    added, seq = await artifacts.upload(
        call.ctx, state.id, io.BytesIO(raw), content_type=body.content_type,
        created_by=creator(call), execution=await linked_execution(call, None),
        meta=call.meta)
    await call.waiter.wait_for(seq, WRITE_WAIT_SECONDS)
    return envelopes.single(version_out(state, added), status=201, sequence=seq)


async def delete_version(call: Call) -> web.Response:
    path = call.path_as(VersionPath)
    state, _ = await artifacts.by_id(call.ctx, path.id)
    check(call, "delete", state)
    seq = await artifacts.remove_version(call.ctx, path.id, path.version, meta=call.meta)
    return await written.deleted(call, f"version {path.version} of artifact",
                                 state.spec.ref, seq)


async def upload_version(call: Call) -> web.Response:
    state, _ = await artifacts.by_id(call.ctx, call.path_as(ArtifactIdPath).id)
    return await _upload(call, state)


async def upload_version_by_ref(call: Call) -> web.Response:
    ref = call.path_as(ArtifactRefPath).ref
    state, _ = await artifacts.load(call.ctx, ref)
    if state is None:
        raise NotFoundError(f"artifact {ref!r} not found: create it with POST "
                            "/api/v1/artifacts first")
    return await _upload(call, state)


async def allocate_file_version(call: Call) -> web.Response:
    ref = domain.check_ref(call.path_as(ArtifactRefPath).ref)
    body = call.body_as(AllocateFileRequest)
    existing, _ = await artifacts.load(call.ctx, ref)
    execution = await linked_execution(call, body.execution)
    spec = ArtifactSpec(
        ref=ref, type=body.type, scope=body.scope, owner=body.owner,
        visibility=body.visibility, name=body.name, description=body.description,
        content_type=body.content_type,
        retention_policy=body.retention_policy or domain.DEFAULT_RETENTION[0],
        retention_limit=body.retention_limit or domain.DEFAULT_RETENTION[1],
        execution=execution, created_by=body.created_by or creator(call))
    if existing is None:
        authorize(call.user, "artifacts", "create",
                  domain.target(ref, spec.scope, spec.owner), token_type=token_type(call))
    else:
        check(call, "update", existing)
    # an action writes under its own ATTUNE_ARTIFACTS_DIR (<artifacts>/<its execution>)
    own = caller_execution(call)
    root = str(own) if own is not None else content.SHARED_ROOT
    state, added, seq = await artifacts.upsert_and_allocate(
        call.ctx, spec, file_root=root, content_type=body.content_type,
        created_by=spec.created_by, meta_fields=body.meta, meta=call.meta)
    await call.waiter.wait_for(seq, WRITE_WAIT_SECONDS)
    return envelopes.single(version_out(state, added), status=201, sequence=seq)


_READ = Permission("artifacts", "read")
_UPDATE = Permission("artifacts", "update")

ROUTES = [
    Route("POST", "/api/v1/artifacts/ref/{ref}/versions/file", allocate_file_version,
          "Create the artifact if missing, then allocate a new file-backed version: write "
          "the file at file_path under ATTUNE_ARTIFACTS_DIR; it is stored when the "
          "execution ends", Permission("artifacts", "create"), "artifacts",
          params=ArtifactRefPath, body=AllocateFileRequest, response=VersionOut, status=201,
          command=True, tokens=CALLERS),
    Route("POST", "/api/v1/artifacts/ref/{ref}/versions/upload", upload_version_by_ref,
          "Upload a new version (multipart/form-data, part `file`) of the artifact ref",
          _UPDATE, "artifacts", params=ArtifactRefPath, response=VersionOut, status=201,
          command=True, tokens=CALLERS),
    Route("GET", "/api/v1/artifacts/{id}/versions", list_versions,
          "An artifact's versions, newest first", _READ, "artifacts", params=ArtifactIdPath,
          query=PageQuery, response=VersionOut, envelope="list", tokens=CALLERS),
    Route("GET", "/api/v1/artifacts/{id}/versions/latest", get_latest_version,
          "An artifact's newest version", _READ, "artifacts", params=ArtifactIdPath,
          response=VersionOut, tokens=CALLERS),
    Route("POST", "/api/v1/artifacts/{id}/versions/upload", upload_version,
          "Upload a new version (multipart/form-data, part `file`); retention applies",
          _UPDATE, "artifacts", params=ArtifactIdPath, response=VersionOut, status=201,
          command=True, tokens=CALLERS),
    Route("POST", "/api/v1/artifacts/{id}/versions", create_json_version,
          "Store a JSON value as a new version (retention applies)", _UPDATE, "artifacts",
          params=ArtifactIdPath, body=JsonVersionRequest, response=VersionOut, status=201,
          command=True, tokens=CALLERS),
    Route("GET", "/api/v1/artifacts/{id}/versions/{version}", get_version,
          "One version of an artifact", _READ, "artifacts", params=VersionPath,
          response=VersionOut, tokens=CALLERS),
    Route("DELETE", "/api/v1/artifacts/{id}/versions/{version}", delete_version,
          "Delete one version and its content", Permission("artifacts", "delete"),
          "artifacts", params=VersionPath, response=DeletedOut, envelope="raw",
          command=True, tokens=CALLERS),
    Route("GET", "/api/v1/artifacts/{id}/download", download_latest,
          "The content of an artifact's newest version", _READ, "artifacts",
          params=ArtifactIdPath, envelope="raw", media_type=OCTETS, tokens=CALLERS),
    Route("GET", "/api/v1/artifacts/{id}/versions/{version}/download", download_version,
          "The content of one version", _READ, "artifacts", params=VersionPath,
          envelope="raw", media_type=OCTETS, tokens=CALLERS),
]
