"""The pure core of artifacts and audit, without servers: the fold, retention by count
and by age (the newest version always stays), refs that are safe path segments, RBAC
targets, and how request statuses map to audit outcomes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from attune.domain.artifact import (
    ArtifactChanged,
    ArtifactCreated,
    ArtifactDeleted,
    ArtifactSpec,
    ArtifactState,
    ProgressAppended,
    VersionAdded,
    VersionsRemoved,
    VersionStored,
    check_entry,
    check_ref,
    evolve,
    expired_versions,
    target,
)
from attune.domain.audit import outcome_of
from attune.errors import ValidationError

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def with_versions(spec: ArtifactSpec, ages_minutes: list[int]) -> ArtifactState:
    """An artifact with one version per age (oldest first), created at T0 - age."""
    state = evolve(None, ArtifactCreated(at=T0 - timedelta(days=30), spec=spec), 10)
    for number, age in enumerate(ages_minutes, start=1):
        state = evolve(state, VersionAdded(at=T0 - timedelta(minutes=age), version=number,
                                           stored=True, object_key=f"10/{number}"),
                       10 + number)
    assert state is not None
    return state


def test_fold_of_an_artifacts_life() -> None:
    spec = ArtifactSpec(ref="p.log", type="progress", data=[])
    state = evolve(None, ArtifactCreated(at=T0, spec=spec), 7)
    assert state is not None and state.id == 7
    state = evolve(state, ProgressAppended(at=T0, entry={"n": 1}), 8)
    state = evolve(state, ProgressAppended(at=T0, entry="two"), 9)
    assert state is not None and state.spec.data == [{"n": 1}, "two"]
    state = evolve(state, VersionAdded(at=T0, version=1, stored=False, file_root="7",
                                       file_path="p.log/v1"), 10)
    state = evolve(state, VersionStored(at=T0, version=1, object_key="7/1", size_bytes=3,
                                        sha256="abc"), 11)
    assert state is not None and state.latest is not None
    assert (state.latest.id, state.latest.stored, state.latest.size_bytes) == (10, True, 3)
    state = evolve(state, ArtifactChanged(at=T0 + timedelta(1), spec=spec.model_copy(
        update={"name": "Log"})), 12)
    assert state is not None and state.spec.name == "Log" and state.spec.data == []
    assert state.updated == T0 + timedelta(1) and state.created == T0
    state = evolve(state, VersionsRemoved(at=T0, versions=[1], reason="deleted"), 13)
    assert state is not None and state.versions == () and state.last_version == 1
    assert evolve(state, ArtifactDeleted(at=T0, ref="p.log"), 14) is None
    # events of a deleted artifact change nothing; a new creation starts afresh
    assert evolve(None, ProgressAppended(at=T0, entry=1), 15) is None
    again = evolve(None, ArtifactCreated(at=T0, spec=spec), 16)
    assert again is not None and again.id == 16 and again.last_version == 0


def test_retention_by_count_keeps_the_newest() -> None:
    spec = ArtifactSpec(ref="a.b", type="other", retention_limit=2)
    assert expired_versions(with_versions(spec, [50, 40, 30, 20]), T0) == [1, 2]
    assert expired_versions(with_versions(spec, [50, 40]), T0) == []


def test_retention_by_age_never_removes_the_newest() -> None:
    spec = ArtifactSpec(ref="a.b", type="other", retention_policy="minutes",
                        retention_limit=30)
    assert expired_versions(with_versions(spec, [90, 45, 10]), T0) == [1, 2]
    assert expired_versions(with_versions(spec, [90, 80]), T0) == [1]
    hours = spec.model_copy(update={"retention_policy": "hours", "retention_limit": 1})
    assert expired_versions(with_versions(hours, [90, 45, 10]), T0) == [1]
    days = spec.model_copy(update={"retention_policy": "days", "retention_limit": 1})
    assert expired_versions(with_versions(days, [3000, 10]), T0) == [1]


@given(st.lists(st.integers(0, 10_000), max_size=30), st.integers(1, 40),
       st.sampled_from(["versions", "days", "hours", "minutes"]))
def test_retention_always_keeps_the_newest_version(ages: list[int], limit: int,
                                                   policy: str) -> None:
    spec = ArtifactSpec.model_validate({"ref": "a.b", "type": "other",
                                        "retention_policy": policy,
                                        "retention_limit": limit})
    state = with_versions(spec, sorted(ages, reverse=True))
    expired = expired_versions(state, T0)
    if state.versions:
        assert state.versions[-1].version not in expired
    assert len(expired) == len(set(expired))
    if policy == "versions":
        assert len(state.versions) - len(expired) == min(limit, len(state.versions))


@pytest.mark.parametrize("ref", ["a", "mypack.build.log", "execution.12.result", "x_y-z:1"])
def test_good_refs(ref: str) -> None:
    assert check_ref(ref) == ref


@pytest.mark.parametrize("ref", ["", ".hidden", "a/b", "a..b", "../x", "a b", "é", "x" * 256])
def test_refs_that_could_escape_a_directory_are_refused(ref: str) -> None:
    with pytest.raises(ValidationError, match="artifact ref"):
        check_ref(ref)


def test_progress_entries_are_bounded() -> None:
    check_entry(100, 0)
    with pytest.raises(ValidationError, match="64 KiB"):
        check_entry(70_000, 0)
    with pytest.raises(ValidationError, match="full"):
        check_entry(10, 10_000)


def test_rbac_targets_of_artifacts() -> None:
    assert target("r.x", "pack", "demo").pack_ref == "demo"
    assert target("r.x", "action", "demo.run").pack_ref == "demo"
    owned = target("r.x", "identity", "ann")
    assert (owned.owner, owned.pack_ref) == ("ann", None)
    assert target("r.x", "system", "").owner is None


@pytest.mark.parametrize(("status", "outcome"), [
    (200, "success"), (201, "success"), (304, "success"), (401, "denied"),
    (403, "denied"), (404, "failure"), (422, "failure"), (500, "error"), (503, "error")])
def test_outcomes_of_request_statuses(status: int, outcome: str) -> None:
    assert outcome_of(status) == outcome
