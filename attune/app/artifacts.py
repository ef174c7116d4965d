"""Artifacts: create, change, delete, versions (uploaded or allocated on the shared
volume), progress appends and retention. Decisions are made on the artifact's events
(`attune.domain.artifact`) and appended with the version decided on; a conflict is
retried a few times. Content goes to the object store before the event that names it,
so no event ever points at content that is not there."""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import Awaitable, Callable
from typing import IO, Any, TypeVar
from uuid import uuid4

import orjson
from pydantic import ValidationError as PydanticValidationError

import attune.log as log
from attune.app import artifact_content as content
from attune.app.context import Context
from attune.domain import artifact as domain
from attune.domain.artifact import (
    ArtifactChanged,
    ArtifactCreated,
    ArtifactDeleted,
    ArtifactSpec,
    ArtifactState,
    ProgressAppended,
    VersionAdded,
    VersionsRemoved,
    VersionState,
    VersionStored,
)
from attune.domain.events import Event
from attune.domain.execution import Status
from attune.errors import ConcurrencyError, ConflictError, NotFoundError, ValidationError
from attune.eventstore.envelope import Meta

AGGREGATE = "artifact"
_log = log.get("artifacts")
ATTEMPTS = 10
T = TypeVar("T")


async def load(ctx: Context, ref: str) -> tuple[ArtifactState | None, int]:
    envelopes, version = await ctx.store.load(AGGREGATE, ref)
    state: ArtifactState | None = None
    for envelope in envelopes:
        state = domain.evolve(state, envelope.event, envelope.seq)
    return state, version


async def ref_of(ctx: Context, artifact_id: int) -> str:
    """The ref of artifact `artifact_id`, from its creation event (ids are sequences)."""
    envelope = await ctx.store.read(artifact_id)
    if envelope is None or not isinstance(envelope.event, ArtifactCreated):
        raise NotFoundError(f"artifact {artifact_id} not found")
    return envelope.event.spec.ref


async def by_id(ctx: Context, artifact_id: int) -> tuple[ArtifactState, int]:
    state, version = await load(ctx, await ref_of(ctx, artifact_id))
    if state is None or state.id != artifact_id:
        raise NotFoundError(f"artifact {artifact_id} not found (deleted)")
    return state, version


async def _retrying(step: Callable[[], Awaitable[T]]) -> T:
    """Run a load-decide-append step again when another append got there first."""
    for attempt in range(ATTEMPTS):
        try:
            return await step()
        except ConcurrencyError:
            if attempt == ATTEMPTS - 1:
                raise ConflictError("the artifact kept changing meanwhile: retry") from None
            await asyncio.sleep(random.uniform(0, 0.01 * (attempt + 1)))
    raise AssertionError("unreachable")


async def _append(ctx: Context, ref: str, event: Event, version: int, meta: Meta) -> int:
    return await ctx.store.append(ref, event, expected_version=version,
                                  msg_id=f"artifact:{ref}:{version}:{event.name}", meta=meta)


async def _discarding(ctx: Context, key: str, step: Callable[[], Awaitable[T]]) -> T:
    """Run `step` (which appends an event naming the content under `key`); if it fails
    for good, delete that content: no event will ever name it."""
    try:
        return await _retrying(step)
    except BaseException:
        await content.delete(ctx, [key])
        raise


def _check(spec: ArtifactSpec) -> None:
    domain.check_ref(spec.ref)
    if spec.type == "url" and spec.data is not None and not isinstance(spec.data, str):
        raise ValidationError("a url artifact's data is the URL, a string")
    if spec.type == "progress" and spec.data is not None and not isinstance(spec.data, list):
        raise ValidationError("a progress artifact's data is a list of entries")
    if len(orjson.dumps(spec.data)) > 256 * 1024:
        raise ValidationError("data is over 256 KiB of JSON: upload it as a version")


async def create(ctx: Context, spec: ArtifactSpec, *, meta: Meta) -> tuple[int, int]:
    """Create artifact `spec.ref`; returns (artifact id, sequence). 409 if it exists."""
    _check(spec)
    state, version = await load(ctx, spec.ref)
    if state is not None:
        raise ConflictError(f"artifact {spec.ref!r} already exists (id {state.id}): GET "
                            f"/api/v1/artifacts/ref/{spec.ref}")
    try:
        seq = await _append(ctx, spec.ref, ArtifactCreated(at=ctx.clock(), spec=spec),
                            version, meta)
    except ConcurrencyError:
        raise ConflictError(f"artifact {spec.ref!r} was created meanwhile") from None
    return seq, seq


async def update(ctx: Context, artifact_id: int, changes: dict[str, Any], *, meta: Meta
                 ) -> int:
    """Change fields of the spec (not its ref or type); returns the sequence."""
    async def step() -> int:
        state, version = await by_id(ctx, artifact_id)
        try:
            spec = ArtifactSpec.model_validate({**state.spec.model_dump(), **changes})
        except PydanticValidationError as exc:
            raise ValidationError(f"invalid artifact change: {exc.errors()[0]['msg']}"
                                  ) from None
        _check(spec)
        if spec == state.spec:
            return version
        return await _append(ctx, spec.ref, ArtifactChanged(at=ctx.clock(), spec=spec),
                             version, meta)
    seq = await _retrying(step)
    if {"retention_policy", "retention_limit"} & set(changes):  # a tighter one applies now
        seq = await _prune_after(ctx, artifact_id, seq, meta)
    return seq


async def delete(ctx: Context, artifact_id: int, *, meta: Meta) -> int:
    async def step() -> tuple[int, list[str]]:
        state, version = await by_id(ctx, artifact_id)
        seq = await _append(ctx, state.spec.ref,
                            ArtifactDeleted(at=ctx.clock(), ref=state.spec.ref), version, meta)
        return seq, [v.object_key for v in state.versions if v.object_key]
    seq, keys = await _retrying(step)
    await content.delete(ctx, keys)
    return seq


async def append_progress(ctx: Context, artifact_id: int, entry: Any, *, meta: Meta
                          ) -> int:
    """Append one entry to a progress artifact. No version check: appends from several
    writers all land, in the order the stream received them (atomic append)."""
    row = await ctx.pool.fetchrow(
        "SELECT ref, type, jsonb_array_length(CASE jsonb_typeof(data) WHEN 'array' THEN "
        "data ELSE '[]'::jsonb END) AS entries FROM artifacts WHERE id = $1", artifact_id)
    if row is None:  # the read model may lag behind a fresh artifact: ask the stream
        state, _ = await by_id(ctx, artifact_id)
        ref, kind = state.spec.ref, state.spec.type
        entries = len(state.spec.data) if isinstance(state.spec.data, list) else 0
    else:
        ref, kind, entries = row["ref"], row["type"], row["entries"]
    if kind != "progress":
        raise ValidationError(f"artifact {ref!r} is a {kind} artifact: only progress "
                              "artifacts take entries")
    domain.check_entry(len(orjson.dumps(entry)), entries)
    return await ctx.store.append(ref, ProgressAppended(at=ctx.clock(), entry=entry),
                                  expected_version=None,
                                  msg_id=f"artifact:{ref}:progress:{uuid4().hex}", meta=meta)


async def upload(ctx: Context, artifact_id: int, source: IO[bytes], *,
                 content_type: str | None, created_by: str | None,
                 execution: int | None = None, meta: Meta) -> tuple[VersionState, int]:
    """Store `source` as the artifact's next version, then apply retention. The content
    is put once; only the version number is decided again when writers race."""
    await by_id(ctx, artifact_id)  # 404 before any content is stored
    key = domain.object_key(artifact_id, uuid4().hex)
    size, sha = await content.put(ctx, key, source)

    async def step() -> tuple[VersionState, int]:
        state, version = await by_id(ctx, artifact_id)
        event = VersionAdded(at=ctx.clock(), version=state.last_version + 1, stored=True,
                             object_key=key, size_bytes=size, sha256=sha,
                             content_type=content_type or state.spec.content_type,
                             execution=execution, created_by=created_by)
        seq = await _append(ctx, state.spec.ref, event, version, meta)
        added = domain.evolve(state, event, seq)
        assert added is not None and added.latest is not None
        return added.latest, seq
    added, seq = await _discarding(ctx, key, step)
    return added, await _prune_after(ctx, artifact_id, seq, meta)


async def upsert_and_allocate(ctx: Context, spec: ArtifactSpec, *, file_root: str,
                              content_type: str | None, created_by: str | None,
                              meta_fields: dict[str, Any] | None, meta: Meta
                              ) -> tuple[ArtifactState, VersionState, int]:
    """Create artifact `spec.ref` if missing (else link it to `spec.execution` when
    given), then allocate a new file-backed version at `<ref>/v<n>` under `file_root`.
    The file is stored when the execution ends (`collect_execution`) or on download."""
    _check(spec)

    async def step() -> tuple[ArtifactState, VersionState, int]:
        state, version = await load(ctx, spec.ref)
        if state is None:
            event: Event = ArtifactCreated(at=ctx.clock(), spec=spec)
            version = await _append(ctx, spec.ref, event, version, meta)
            state = domain.evolve(None, event, version)
        elif spec.execution is not None and state.spec.execution != spec.execution:
            event = ArtifactChanged(at=ctx.clock(), spec=state.spec.model_copy(
                update={"execution": spec.execution}))
            version = await _append(ctx, spec.ref, event, version, meta)
            state = domain.evolve(state, event, version)
        assert state is not None
        number = state.last_version + 1
        added = VersionAdded(at=ctx.clock(), version=number, stored=False,
                             content_type=content_type or state.spec.content_type,
                             file_root=file_root, file_path=f"{spec.ref}/v{number}",
                             execution=spec.execution, created_by=created_by,
                             meta=meta_fields)
        seq = await _append(ctx, spec.ref, added, version, meta)
        state = domain.evolve(state, added, seq)
        assert state is not None and state.latest is not None
        return state, state.latest, seq
    state, added, seq = await _retrying(step)
    return state, added, await _prune_after(ctx, state.id, seq, meta)


async def _still_writing(ctx: Context, file_root: str | None) -> bool:
    """Whether the execution that allocated a version may still write its file."""
    if not file_root or not file_root.isdigit():
        return False
    status = await ctx.pool.fetchval("SELECT status FROM executions WHERE id = $1",
                                     int(file_root))
    return status is not None and not Status(status).terminal


async def store_allocated(ctx: Context, ref: str, number: int, *, meta: Meta,
                          ended: bool = False) -> bool:
    """Move the file of allocated version `number` into the object store (and off the
    shared volume). False when the file is not there (not written yet), or when its
    execution still runs (unless the caller knows it `ended`): it may still write."""
    async def step() -> bool:
        state, version = await load(ctx, ref)
        found = state.version(number) if state else None
        if state is None or found is None or found.stored:
            return found is not None and found.stored
        if not ended and await _still_writing(ctx, found.file_root):
            return False
        path = content.file_location(ctx, found.file_root or content.SHARED_ROOT,
                                     found.file_path or "")
        if not await asyncio.to_thread(path.is_file):
            return False
        key = domain.object_key(state.id, uuid4().hex)
        size, sha = await content.put_file(ctx, key, path)
        try:
            await _append(ctx, ref, VersionStored(
                at=ctx.clock(), version=number, object_key=key, size_bytes=size,
                sha256=sha), version, meta)
        except ConcurrencyError:  # another store (or change) came first: decide again
            await content.delete(ctx, [key])
            raise
        await asyncio.to_thread(content.discard_file, ctx,
                                found.file_root or content.SHARED_ROOT, path)
        return True
    return await _retrying(step)


async def collect_execution(ctx: Context, execution_id: int, *, meta: Meta) -> int:
    """Store the files an execution wrote for the versions it allocated; returns how
    many were stored. Called by the worker when the action has ended."""
    rows = await ctx.pool.fetch(
        "SELECT a.ref, v.version FROM artifact_versions v JOIN artifacts a ON a.id = "
        "v.artifact WHERE NOT v.stored AND v.file_root = $1 ORDER BY v.id", str(execution_id))
    stored = 0
    for row in rows:
        stored += await store_allocated(ctx, row["ref"], row["version"], meta=meta,
                                        ended=True)
    return stored


async def prune(ctx: Context, artifact_id: int, *, meta: Meta) -> tuple[int, int]:
    """Apply the artifact's retention now: (versions removed, sequence or 0)."""
    async def step() -> tuple[int, list[int], list[str]]:
        state, version = await by_id(ctx, artifact_id)
        expired = domain.expired_versions(state, ctx.clock())
        if not expired:
            return 0, [], []
        seq = await _append(ctx, state.spec.ref, VersionsRemoved(
            at=ctx.clock(), versions=expired, reason="retention"), version, meta)
        return seq, expired, [v.object_key for v in state.versions
                              if v.version in expired and v.object_key]
    seq, expired, keys = await _retrying(step)
    await content.delete(ctx, keys)
    return len(expired), seq


async def _prune_after(ctx: Context, artifact_id: int, seq: int, meta: Meta) -> int:
    _, pruned = await prune(ctx, artifact_id, meta=meta)
    return max(seq, pruned)


async def prune_by_age(ctx: Context, *, meta: Meta) -> int:
    """Retention of artifacts kept by age (days/hours/minutes): versions expire with
    time, not with new versions, so a sweep applies it. Returns versions removed."""
    rows = await ctx.pool.fetch(
        "SELECT id FROM artifacts WHERE retention_policy <> 'versions' AND versions > 1")
    removed = 0
    for row in rows:
        with contextlib.suppress(NotFoundError):
            removed += (await prune(ctx, row["id"], meta=meta))[0]
    return removed


SWEEP_SECONDS = 60.0


async def sweep(ctx: Context, stop: asyncio.Event) -> None:
    """Apply age retention every `SWEEP_SECONDS` until `stop` (several replicas may run
    it: the version checks make a concurrent removal happen once)."""
    meta = Meta.new(actor="system")
    while not stop.is_set():
        try:
            await prune_by_age(ctx, meta=meta)
        except Exception as exc:  # NATS or PostgreSQL away: try again next round
            _log.warning("artifacts.sweep_failed", error=repr(exc))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), SWEEP_SECONDS)


async def remove_version(ctx: Context, artifact_id: int, number: int, *, meta: Meta) -> int:
    """Delete one version and its content; returns the sequence."""
    async def step() -> tuple[int, list[str]]:
        state, version = await by_id(ctx, artifact_id)
        found = state.version(number)
        if found is None:
            raise NotFoundError(f"artifact {artifact_id} has no version {number}")
        seq = await _append(ctx, state.spec.ref, VersionsRemoved(
            at=ctx.clock(), versions=[number], reason="deleted"), version, meta)
        return seq, [found.object_key] if found.object_key else []
    seq, keys = await _retrying(step)
    await content.delete(ctx, keys)
    return seq
