"""Artifacts: execution output kept as versioned files, URLs or progress logs.

One aggregate per artifact ref (`attune.artifact.<ref>.>`); the artifact's numeric id is
the stream sequence of its `artifact.created` event, a version's id the sequence of its
`artifact.version_added` event. Version content lives in the JetStream Object Store
(`attune_artifacts`, object `<artifact id>/<nonce>`); events carry only metadata, so
large outputs never bloat the event stream.

A version is either uploaded (content stored before its event is appended) or
allocated: the API hands out a path under the shared artifacts directory, the action
writes the file, and the worker (or the first download) stores it and appends
`artifact.version_stored`. Progress artifacts grow by `artifact.progress_appended`
events, each one entry, appended without a version check so concurrent appends all
land (atomic append). Retention keeps the newest N versions or those younger than an
age; the newest version is never removed by age. Pure: no I/O.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from attune.domain.events import Event, register
from attune.domain.permission import Target
from attune.errors import ValidationError

ArtifactType = Literal["file_binary", "file_datatable", "file_image", "file_text", "url",
                       "progress", "other"]
ARTIFACT_TYPES: tuple[str, ...] = ("file_binary", "file_datatable", "file_image",
                                   "file_text", "url", "progress", "other")
Scope = Literal["system", "identity", "pack", "action", "sensor"]
Visibility = Literal["public", "private"]
RetentionPolicy = Literal["versions", "days", "hours", "minutes"]
#: Versions kept when an artifact names no retention.
DEFAULT_RETENTION: tuple[RetentionPolicy, int] = ("versions", 10)
#: Entries a progress artifact holds at most, and the size of one entry.
MAX_PROGRESS_ENTRIES = 10_000
MAX_ENTRY_BYTES = 64 * 1024
#: Refs double as path segments under the artifacts directory: no `/`, no leading dot.
REF = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.:-]{0,254}$")
_UNIT = {"days": timedelta(days=1), "hours": timedelta(hours=1),
         "minutes": timedelta(minutes=1)}


def check_ref(ref: str) -> str:
    if not REF.match(ref) or ".." in ref:
        raise ValidationError(f"artifact ref {ref!r} must be 1-255 characters of letters, "
                              "digits, '_', '.', ':' and '-', not starting with '.' and "
                              "without '..' (e.g. mypack.build.log)")
    return ref


class ArtifactSpec(BaseModel):
    """What an artifact is, apart from its versions."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    ref: str
    type: ArtifactType
    scope: Scope = "system"
    owner: str = ""
    visibility: Visibility = "private"
    name: str | None = None
    description: str | None = None
    content_type: str | None = None
    retention_policy: RetentionPolicy = DEFAULT_RETENTION[0]
    retention_limit: int = Field(default=DEFAULT_RETENTION[1], ge=1)
    #: the execution it belongs to (its artifacts list shows it)
    execution: int | None = None
    #: progress entries, a URL, or any small JSON the artifact itself carries
    data: Any = None
    created_by: str | None = None


@register
class ArtifactCreated(Event):
    type: Literal["artifact.created"] = "artifact.created"
    spec: ArtifactSpec


@register
class ArtifactChanged(Event):
    """The whole spec as it is now (name, visibility, retention, execution link...)."""

    type: Literal["artifact.changed"] = "artifact.changed"
    spec: ArtifactSpec


@register
class ArtifactDeleted(Event):
    type: Literal["artifact.deleted"] = "artifact.deleted"
    ref: str


@register
class ProgressAppended(Event):
    type: Literal["artifact.progress_appended"] = "artifact.progress_appended"
    entry: Any


@register
class VersionAdded(Event):
    """A new version. `stored`: its content is in the object store under `object_key`;
    else it was allocated at `file_path` (relative to the artifacts directory of
    `file_root`: an execution id, or `_shared`) and waits for the file."""

    type: Literal["artifact.version_added"] = "artifact.version_added"
    version: int
    stored: bool
    object_key: str | None = None
    size_bytes: int | None = None
    sha256: str | None = None
    content_type: str | None = None
    file_root: str | None = None
    file_path: str | None = None
    execution: int | None = None
    created_by: str | None = None
    meta: dict[str, Any] | None = None


@register
class VersionStored(Event):
    """The file of an allocated version is now in the object store."""

    type: Literal["artifact.version_stored"] = "artifact.version_stored"
    version: int
    object_key: str
    size_bytes: int
    sha256: str


@register
class VersionsRemoved(Event):
    type: Literal["artifact.versions_removed"] = "artifact.versions_removed"
    versions: list[int]
    reason: Literal["retention", "deleted"]


@dataclass(frozen=True)
class VersionState:
    id: int
    version: int
    stored: bool
    object_key: str | None
    size_bytes: int | None
    sha256: str | None
    content_type: str | None
    file_root: str | None
    file_path: str | None
    execution: int | None
    created_by: str | None
    meta: dict[str, Any] | None
    created: datetime


@dataclass(frozen=True)
class ArtifactState:
    id: int
    spec: ArtifactSpec
    created: datetime
    updated: datetime
    versions: tuple[VersionState, ...] = ()
    #: versions are numbered from 1 and never reused, even after retention removed some
    last_version: int = 0

    def version(self, number: int) -> VersionState | None:
        return next((v for v in self.versions if v.version == number), None)

    @property
    def latest(self) -> VersionState | None:
        return self.versions[-1] if self.versions else None


def evolve(state: ArtifactState | None, event: Event, seq: int) -> ArtifactState | None:
    """`seq` is the stream sequence of `event` (ids are sequences)."""
    if isinstance(event, ArtifactCreated):
        return ArtifactState(id=seq, spec=event.spec, created=event.at, updated=event.at)
    if isinstance(event, ArtifactDeleted):
        return None
    if state is None:
        return None
    state = replace(state, updated=event.at)
    match event:
        case ArtifactChanged() as e:
            return replace(state, spec=e.spec)
        case ProgressAppended() as e:
            entries = state.spec.data if isinstance(state.spec.data, list) else []
            spec = state.spec.model_copy(update={"data": [*entries, e.entry]})
            return replace(state, spec=spec)
        case VersionAdded() as e:
            added = VersionState(
                id=seq, version=e.version, stored=e.stored, object_key=e.object_key,
                size_bytes=e.size_bytes, sha256=e.sha256, content_type=e.content_type,
                file_root=e.file_root, file_path=e.file_path, execution=e.execution,
                created_by=e.created_by, meta=e.meta, created=e.at)
            return replace(state, versions=(*state.versions, added),
                           last_version=max(state.last_version, e.version))
        case VersionStored() as e:
            return replace(state, versions=tuple(
                replace(v, stored=True, object_key=e.object_key, size_bytes=e.size_bytes,
                        sha256=e.sha256) if v.version == e.version else v
                for v in state.versions))
        case VersionsRemoved() as e:
            gone = set(e.versions)
            return replace(state, versions=tuple(v for v in state.versions
                                                 if v.version not in gone))
        case _:
            return state


def expired_versions(state: ArtifactState, now: datetime) -> list[int]:
    """Versions the artifact's retention no longer keeps: beyond the newest N, or older
    than the age limit (the newest version always stays)."""
    policy, limit = state.spec.retention_policy, state.spec.retention_limit
    if policy == "versions":
        return [v.version for v in state.versions[:-limit]] if len(state.versions) > limit \
            else []
    horizon = now - _UNIT[policy] * limit
    return [v.version for v in state.versions[:-1] if v.created < horizon]


def check_entry(size: int, entries: int) -> None:
    if size > MAX_ENTRY_BYTES:
        raise ValidationError(f"progress entry is {size} bytes of JSON; at most "
                              f"{MAX_ENTRY_BYTES} (64 KiB) are accepted")
    if entries >= MAX_PROGRESS_ENTRIES:
        raise ValidationError(f"progress artifact is full ({MAX_PROGRESS_ENTRIES} entries): "
                              "create another one")


def pack_of(scope: str, owner: str) -> str | None:
    if scope == "pack":
        return owner or None
    if scope in ("action", "sensor") and owner:
        return owner.split(".", 1)[0]
    return None


def target(ref: str, scope: str, owner: str) -> Target:
    """What RBAC constraints see of an artifact: its ref, its owner's pack, and the
    owning login when an identity owns it (`owner: self`)."""
    return Target(ref=ref, pack_ref=pack_of(scope, owner),
                  owner=owner if scope == "identity" else None)


def object_key(artifact_id: int, nonce: str) -> str:
    """`<artifact id>/<nonce>`: unique per write, stored before the version number is
    decided, so writers racing for a number never overwrite each other's content."""
    return f"{artifact_id}/{nonce}"
