"""Artifact helpers for actions, with the running action as the default owner.

    allocation = attune.artifacts.allocate_file_version("mypack.demo.log", name="Log")
    allocation.write_text("hello\\n")
    progress = attune.artifacts.create_progress("mypack.demo.progress")
    progress.append({"message": "started", "percent": 10})

`allocate_file_version` asks the API to create the artifact if needed and allocate a new
file-backed version (`POST /api/v1/artifacts/ref/{ref}/versions/file`), then gives the
local path of that version under `ATTUNE_ARTIFACTS_DIR` (the volume the API shares),
parent directories created. `create_progress` creates a progress artifact (or, on 409,
reuses the existing one) and `append` posts entries to it. Every failure raises
`ArtifactHelperError` saying what failed and why: nothing is silently skipped.

The helpers take any `client` with `get(path, *, params=None)` and `post(path, *,
json=None)` that raise on an error status; by default an `AttuneClient` with the
action's URL and token.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Protocol
from urllib.parse import quote

from attune.sdk.context import ActionContext

__all__ = ["ArtifactAllocation", "ArtifactHelperError", "ProgressArtifact",
           "allocate_file_version", "create_progress"]


class ArtifactHelperError(RuntimeError):
    pass


class ArtifactClient(Protocol):
    def get(self, path: str, *, params: Any = None) -> Any: ...

    def post(self, path: str, *, json: Any = None) -> Any: ...


@dataclass(slots=True)
class ArtifactAllocation:
    artifact_id: int
    artifact_ref: str
    scope: str
    owner: str
    artifact_type: str
    visibility: str
    version_id: int
    version: int
    file_path: str
    absolute_path: Path
    execution: int | None = None
    content_type: str | None = None
    created_by: str | None = None
    meta: dict[str, Any] | None = None
    raw_version: dict[str, Any] = field(default_factory=dict)

    def write_text(self, text: str, *, encoding: str = "utf-8") -> Path:
        self.absolute_path.write_text(text, encoding=encoding)
        return self.absolute_path

    def write_bytes(self, data: bytes) -> Path:
        self.absolute_path.write_bytes(data)
        return self.absolute_path

    def open(self, mode: str = "r", *args: Any, **kwargs: Any) -> IO[Any]:
        return self.absolute_path.open(mode, *args, **kwargs)


@dataclass(slots=True)
class ProgressArtifact:
    artifact_id: int
    artifact_ref: str
    client: ArtifactClient = field(repr=False)
    content_type: str | None = None
    name: str | None = None
    description: str | None = None
    data: Any = None

    def append(self, entry: Any) -> ProgressArtifact:
        """Append one entry (any JSON value); the artifact's fields follow the answer."""
        answer = _call(f"appending to progress artifact {self.artifact_ref!r}",
                       self.client.post, f"/api/v1/artifacts/{self.artifact_id}/progress",
                       json={"entry": entry})
        artifact = _data(answer)
        _require_progress(artifact, self.artifact_ref)
        self.content_type = artifact.get("content_type", self.content_type)
        self.name = artifact.get("name", self.name)
        self.description = artifact.get("description", self.description)
        self.data = artifact.get("data", self.data)
        return self


def allocate_file_version(
        artifact_ref: str, *, artifact_type: str = "file_text", scope: str = "action",
        owner: str | None = None, created_by: str | None = None, execution: int | None = None,
        visibility: str = "private", retention_policy: str | None = None,
        retention_limit: int | None = None, name: str | None = None,
        description: str | None = None, content_type: str | None = None,
        meta: dict[str, Any] | None = None, client: ArtifactClient | None = None,
        context: ActionContext | None = None) -> ArtifactAllocation:
    ctx = _context(context)
    owner = owner or _action_ref(ctx)
    created_by = created_by or _action_ref(ctx)
    if ctx.artifacts_dir is None:
        raise ArtifactHelperError(
            "ATTUNE_ARTIFACTS_DIR is not set: file artifacts are written to the artifacts "
            "volume the worker provides (or pass context= with artifacts_dir)")
    api = client or _default_client(ctx)
    body = _without_none({
        "scope": scope, "owner": owner, "type": artifact_type, "visibility": visibility,
        "retention_policy": retention_policy, "retention_limit": retention_limit,
        "name": name, "description": description,
        "execution": execution if execution is not None else _execution_id(ctx),
        "content_type": content_type, "meta": meta, "created_by": created_by})
    answer = _call(f"allocating a file version of artifact {artifact_ref!r}", api.post,
                   f"/api/v1/artifacts/ref/{quote(artifact_ref, safe='')}/versions/file",
                   json=body)
    version = _data(answer)
    artifact_id, version_id, number = (_int_field(version, key, artifact_ref)
                                        for key in ("artifact", "id", "version"))
    file_path = version.get("file_path")
    if not isinstance(file_path, str) or not file_path.strip():
        raise ArtifactHelperError(
            f"the API's answer for artifact {artifact_ref!r} has no file_path: {version!r}")
    base = ctx.artifacts_dir.resolve()
    target = (base / file_path).resolve()
    if not target.is_relative_to(base):
        raise ArtifactHelperError(
            f"file_path {file_path!r} escapes ATTUNE_ARTIFACTS_DIR ({base})")
    target.parent.mkdir(parents=True, exist_ok=True)
    return ArtifactAllocation(
        artifact_id=artifact_id, artifact_ref=artifact_ref, scope=scope, owner=owner,
        artifact_type=artifact_type, visibility=visibility, version_id=version_id,
        version=number, file_path=file_path, absolute_path=target,
        execution=version.get("execution", body.get("execution")),
        content_type=version.get("content_type", content_type),
        created_by=version.get("created_by", created_by), meta=version.get("meta", meta),
        raw_version=version)


def create_progress(
        artifact_ref: str, *, scope: str = "action", owner: str | None = None,
        visibility: str = "private", retention_policy: str | None = None,
        retention_limit: int | None = None, name: str | None = None,
        description: str | None = None, content_type: str = "application/json",
        data: Any = None, reuse_existing: bool = True, client: ArtifactClient | None = None,
        context: ActionContext | None = None) -> ProgressArtifact:
    ctx = _context(context)
    owner = owner or _action_ref(ctx)
    api = client or _default_client(ctx)
    body = _without_none({
        "ref": artifact_ref, "scope": scope, "owner": owner, "type": "progress",
        "visibility": visibility, "retention_policy": retention_policy,
        "retention_limit": retention_limit, "name": name, "description": description,
        "content_type": content_type, "data": data})
    try:
        answer = api.post("/api/v1/artifacts", json=body)
    except Exception as exc:
        if not (reuse_existing and _status_of(exc) == 409):
            raise _wrapped(f"creating progress artifact {artifact_ref!r}", exc) from exc
        answer = _call(f"loading existing progress artifact {artifact_ref!r}", api.get,
                       f"/api/v1/artifacts/ref/{quote(artifact_ref, safe='')}")
    artifact = _data(answer)
    _require_progress(artifact, artifact_ref)
    return ProgressArtifact(
        artifact_id=artifact["id"], artifact_ref=artifact_ref, client=api,
        content_type=artifact.get("content_type", content_type),
        name=artifact.get("name", name), description=artifact.get("description", description),
        data=artifact.get("data", data))


def _context(context: ActionContext | None) -> ActionContext:
    if context is not None:
        return context
    from attune.sdk.context import action_context

    return action_context


def _action_ref(ctx: ActionContext) -> str:
    if not ctx.action_ref:
        raise ArtifactHelperError(
            "ATTUNE_ACTION is not set: pass owner= (and created_by=) or run inside an action")
    return ctx.action_ref


def _execution_id(ctx: ActionContext) -> int | None:
    if not ctx.execution_id:
        return None
    try:
        return int(ctx.execution_id)
    except ValueError:
        raise ArtifactHelperError(
            f"ATTUNE_EXEC_ID must be an integer, got {ctx.execution_id!r}") from None


def _default_client(ctx: ActionContext) -> ArtifactClient:
    if not ctx.api_token:
        raise ArtifactHelperError(
            "ATTUNE_API_TOKEN is not set: the artifact helpers need the execution's API "
            "token (or pass client=)")
    from attune.sdk.client import AttuneClient

    return AttuneClient(api_url=ctx.api_url, api_token=ctx.api_token)


def _without_none(body: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in body.items() if value is not None}


def _data(answer: Any) -> dict[str, Any]:
    data = answer.get("data", answer) if isinstance(answer, dict) else answer
    if not isinstance(data, dict):
        raise ArtifactHelperError(f"unexpected answer from the API: {answer!r}")
    return data


def _int_field(data: dict[str, Any], key: str, ref: str) -> int:
    value = data.get(key)
    if not isinstance(value, int) or isinstance(value, bool):
        raise ArtifactHelperError(
            f"the API's answer for artifact {ref!r} lacks an integer {key!r}: {data!r}")
    return value


def _require_progress(artifact: dict[str, Any], ref: str) -> None:
    if artifact.get("type") != "progress":
        raise ArtifactHelperError(
            f"artifact {ref!r} exists with type {artifact.get('type')!r}, not 'progress': "
            "use another ref")
    if not isinstance(artifact.get("id"), int):
        raise ArtifactHelperError(f"the API's answer for artifact {ref!r} has no id")


def _status_of(exc: BaseException) -> int | None:
    status = getattr(exc, "status", None)
    if status is None:  # httpx-style errors carry it on the response
        status = getattr(getattr(exc, "response", None), "status_code", None)
    return status if isinstance(status, int) else None


def _wrapped(action: str, exc: BaseException) -> ArtifactHelperError:
    status = _status_of(exc)
    body = getattr(exc, "body", None)
    if status is None:
        return ArtifactHelperError(f"Failed while {action}: {exc}")
    return ArtifactHelperError(f"Failed while {action}: {status} {body!r}")


def _call(action: str, method: Any, path: str, **kwargs: Any) -> Any:
    try:
        return method(path, **kwargs)
    except ArtifactHelperError:
        raise
    except Exception as exc:
        raise _wrapped(action, exc) from exc
