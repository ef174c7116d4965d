"""Choosing where an execution may run (pure: workers as their heartbeats show them)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from attune.domain.action import ActionDef
from attune.worker.placement import (
    WAITING,
    Cordon,
    NoCapableWorkerError,
    WorkerInfo,
    choose,
    needed,
    pool_of,
)

NOW = datetime(2026, 1, 1, tzinfo=UTC)
STALE = timedelta(seconds=30)


def action(**fields: object) -> ActionDef:
    return ActionDef.model_validate({"ref": "p.a", "pack_ref": "p", "name": "a", "label": "a",
                                     "runtime": "python", "entry_point": "a.py", **fields})


def worker(name: str, *, labels: dict[str, str] | None = None, running: int = 0,
           versions: list[str] | None = None, age: float = 1.0,
           cordoned: bool = False, runtimes: tuple[str, ...] = ("shell", "python")
           ) -> WorkerInfo:
    labels = labels or {}
    return WorkerInfo(name=name, at=NOW - timedelta(seconds=age), runtimes=runtimes,
                      runtime_versions={"core.python": versions or ["3.11.2"]},
                      labels=labels, pool=pool_of(labels), running=running, concurrency=4,
                      cordon=Cordon(by="admin", reason="", at="") if cordoned else None)


def test_pools_are_label_sets() -> None:
    assert pool_of({"a": "1", "b": "2"}) == pool_of({"b": "2", "a": "1"})
    assert pool_of({"a": "1"}) != pool_of({"a": "2"}) != pool_of({})


def test_only_labels_or_versions_need_placement() -> None:
    assert not needed(action())
    assert not needed(action(placement={"labels": {}}))
    assert needed(action(placement={"labels": {"gpu": "true"}}))
    assert needed(action(runtime_version=">=3.12"))


def test_capable_pool_with_most_room_wins() -> None:
    gpu = {"gpu": "true"}
    busy = worker("busy", labels={**gpu, "zone": "a"}, running=4)
    free = worker("free", labels={**gpu, "zone": "b"}, running=1)
    plain = worker("plain")
    chosen = choose(action(placement={"labels": gpu}), [busy, free, plain], now=NOW,
                    stale=STALE)
    assert chosen == free.pool


def test_a_pool_whose_every_member_can_is_preferred() -> None:
    old = worker("old", versions=["3.10.1"])
    new = worker("new", versions=["3.12.1"])  # same labels (none): the same pool as `old`
    alone = worker("alone", labels={"zone": "b"}, versions=["3.12.4"], running=3)
    chosen = choose(action(runtime_version=">=3.12"), [old, new, alone], now=NOW,
                    stale=STALE)
    assert chosen == alone.pool  # less room, but nobody in it would fail the action


def test_none_capable_says_why() -> None:
    workers = [worker("cpu-1"), worker("gpu-old", labels={"gpu": "true"}, age=120),
               worker("gpu-1", labels={"gpu": "true"}, cordoned=True),
               worker("sh-1", labels={"gpu": "true"}, runtimes=("shell",))]
    with pytest.raises(NoCapableWorkerError) as caught:
        choose(action(placement={"labels": {"gpu": "true"}}), workers, now=NOW, stale=STALE)
    reason = str(caught.value)
    assert reason.startswith(WAITING + "runtime core.python with labels gpu=true")
    assert "cpu-1 lacks label gpu=true" in reason and "gpu-1 is cordoned" in reason
    assert "sh-1 does not run python" in reason
    assert "gpu-old" not in reason  # silent for longer than the stale limit: not counted
    with pytest.raises(NoCapableWorkerError, match="no live worker"):
        choose(action(runtime_version=">=3.13"), [], now=NOW, stale=STALE)
    with pytest.raises(NoCapableWorkerError, match=re.escape("cpu-1 has core.python 3.11.2")):
        choose(action(runtime_version=">=3.13"), [worker("cpu-1")], now=NOW, stale=STALE)


@pytest.mark.parametrize("command", [
    ["worker", "list"], ["worker", "cordon"], ["worker", "uncordon"],
    ["execution", "logs"], ["bench", "runtimes"]])
def test_worker_logs_and_bench_commands_explain_themselves(command: list[str]) -> None:
    from click.testing import CliRunner

    from attune.cli.main import cli as attune_cli
    result = CliRunner().invoke(attune_cli, [*command, "--help"], prog_name="attune")
    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"Usage: attune {' '.join(command)} ")
