"""Runtimes as data: semver constraints, runtimes/*.yaml loading, runner_type resolution
(pure, no servers)."""

from __future__ import annotations

from pathlib import Path

import pytest

from attune.domain.runtime import normalize
from attune.domain.versions import (
    ConstraintError,
    parse_constraint,
    parse_version,
    select_best,
)
from attune.errors import PackError
from attune.packs.loader import load_pack
from attune.paths import packs_dir


@pytest.mark.parametrize(("constraint", "version", "expected"), [
    (">=3.11", "3.11.0", True), (">=3.11", "3.10.9", False), (">=3.11", "3.13.1", True),
    (">3.11", "3.11.0", False), (">3.11", "3.11.1", True),
    ("<4.0", "3.99.0", True), ("<4.0", "4.0.0", False), ("<=3.12", "3.12.0", True),
    ("~3.12", "3.12.7", True), ("~3.12", "3.13.0", False), ("3.12", "3.12.1", True),
    ("3.12", "3.11.9", False), ("~3.12.2", "3.12.1", False), ("~3.12.2", "3.12.3", True),
    ("^3.12", "3.99.0", True), ("^3.12", "4.0.0", False), ("^0.4", "0.4.9", True),
    ("^0.4", "0.5.0", False), ("^18", "18.19.0", True), ("^18", "20.1.0", False),
    ("3.x", "3.7.0", True), ("3.x", "4.0.0", False), ("*", "1.0.0", True),
    (">=3.11, <3.13", "3.12.5", True), (">=3.11 <3.13", "3.13.0", False),
    (">= 3.11", "3.11.0", True), ("=3.11.2", "3.11.2", True), ("=3.11.2", "3.11.3", False),
    (">=3.13 || ~3.10", "3.10.4", True), (">=3.13 || ~3.10", "3.11.0", False),
])
def test_constraints(constraint: str, version: str, expected: bool) -> None:
    v = parse_version(version)
    assert v is not None
    assert parse_constraint(constraint).matches(v) is expected


@pytest.mark.parametrize("bad", ["", ">=", "three", ">=3.x", "3..1", "||"])
def test_bad_constraints_say_what_is_wrong(bad: str) -> None:
    with pytest.raises(ConstraintError):
        parse_constraint(bad)


def test_versions_parse_leniently_and_the_highest_match_wins() -> None:
    assert parse_version("Python 3.11.2") == (3, 11, 2)
    assert parse_version("v20.20.2\n") == (20, 20, 2)
    assert parse_version("3.13") == (3, 13, 0)
    assert parse_version("no digits") is None
    available = ["3.10.4", "3.12.1", "3.11.2", "3.13.0"]
    assert select_best(available, ">=3.11,<3.13") == "3.12.1"
    assert select_best(available, "~3.11") == "3.11.2"
    assert select_best(available, None) == "3.13.0"
    assert select_best(available, ">=4") is None


def test_aliases_name_the_runtime_families() -> None:
    assert [normalize(n) for n in ("Node.js", "node", "NODEJS", "python3", "bash", "sh",
                                   "Shell", "standalone", "core.python", "ruby")] == [
        "nodejs", "nodejs", "nodejs", "python", "shell", "shell", "shell", "native",
        "python", None]


def test_core_pack_ships_its_runtimes() -> None:
    loaded = load_pack(packs_dir() / "core")
    runtimes = {r.ref: r for r in loaded.runtimes}
    assert set(runtimes) == {"core.shell", "core.python", "core.nodejs", "core.native",
                             "core.http"}
    python = runtimes["core.python"]
    assert python.answers_to("Python3") and python.family == "python"
    assert python.execution_config.dependencies is not None
    assert python.execution_config.dependencies.manifest_file == "requirements.txt"
    # a version's config is the runtime's with the version's overrides merged in
    v312 = next(v for v in python.versions if v.version == "3.12")
    assert v312.execution_config.interpreter is not None
    assert v312.execution_config.interpreter.binary == "python3.12"
    assert v312.execution_config.interpreter.args == ["-u"]
    assert v312.execution_config.dependencies == python.execution_config.dependencies
    assert runtimes["core.native"].execution_config.native
    http = next(a for a in loaded.actions if a.ref == "core.http_request")
    assert (http.runtime, http.runtime_ref) == ("http", "core.http")


def _pack(tmp_path: Path, runtime_yaml: str | None, action_yaml: str) -> Path:
    root = tmp_path / "p"
    (root / "actions").mkdir(parents=True)
    (root / "pack.yaml").write_text("ref: p\nversion: 1.0.0\n")
    if runtime_yaml is not None:
        (root / "runtimes").mkdir()
        (root / "runtimes" / "py.yaml").write_text(runtime_yaml)
    (root / "actions" / "a.py").write_text("print(1)\n")
    (root / "actions" / "a.yaml").write_text(action_yaml)
    return root


PY_RUNTIME = """\
ref: p.py311
name: py311
aliases: [python-old]
family: python
execution_config:
  interpreter: {binary: python3}
versions:
  - version: "3.11"
"""


def test_an_action_runs_with_its_packs_own_runtime(tmp_path: Path) -> None:
    root = _pack(tmp_path, PY_RUNTIME, "runner_type: python-old\nentry_point: a.py\n"
                                       "runtime_version: '>=3.11'\n")
    loaded = load_pack(root)
    action = loaded.actions[0]
    assert (action.runtime, action.runtime_ref, action.runtime_version) == (
        "python", "p.py311", ">=3.11")
    core = load_pack(_pack(tmp_path / "b", None, "runner_type: Node.js\nentry_point: a.py\n"))
    assert (core.actions[0].runtime, core.actions[0].runtime_ref) == ("nodejs", None)


@pytest.mark.parametrize(("runtime_yaml", "action_yaml", "message"), [
    (None, "runner_type: cobol\nentry_point: a.py\n", "unknown runtime 'cobol'"),
    (None, "runner_type: python\nentry_point: a.py\nruntime_version: '>=three'\n",
     "runtime_version"),
    ("name: ruby\n", "runner_type: sh\nentry_point: a.py\n", "cannot tell which workers"),
    ("name: python\nexecution_config:\n  env_vars: {X: '{home}'}\n",
     "runner_type: sh\nentry_point: a.py\n", "unknown template {home}"),
    ("name: python\nversions: [{version: latest}]\n", "runner_type: sh\nentry_point: a.py\n",
     "is not a version"),
    (None, "runner_type: http\nentry_point: a.py\n", "runs http_request"),
])
def test_bad_runtime_files_are_refused_with_the_file_named(
        tmp_path: Path, runtime_yaml: str | None, action_yaml: str, message: str) -> None:
    with pytest.raises(PackError) as err:
        load_pack(_pack(tmp_path, runtime_yaml, action_yaml))
    assert message in err.value.message
