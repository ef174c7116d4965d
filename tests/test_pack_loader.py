"""Loading pack directories, and refusing hostile ones with file and field named."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from attune.errors import PackError
from attune.packs.loader import load_pack
from attune.paths import packs_dir


def make_pack(root: Path, action_yaml: str | None = None, *, script: str = "run.sh") -> Path:
    (root / "actions").mkdir(parents=True)
    (root / "pack.yaml").write_text("ref: demo\nlabel: Demo\ndescription: d\nversion: 1.2.0\n")
    (root / "actions" / script).write_text("#!/bin/sh\necho ok\n")
    (root / "actions" / "run.yaml").write_text(action_yaml if action_yaml is not None else (
        "name: run\nrunner_type: bash\nentry_point: run.sh\n"
        "parameters:\n  who: {type: string, required: true, secret: true}\n"))
    return root


def test_core_pack_loads() -> None:
    loaded = load_pack(packs_dir() / "core")
    pack, actions = loaded.pack, loaded.actions
    assert pack.ref == "core" and pack.system
    assert {a.ref for a in actions} >= {"core.echo", "core.noop", "core.sleep"}
    assert all(a.runtime == "shell" for a in actions if a.ref != "core.http_request")


def test_a_pack_with_aliases_and_json_schema_parameters(tmp_path: Path) -> None:
    root = make_pack(tmp_path / "p", "ref: demo.run\nrunner_type: sh\nentry_point: run.sh\n"
                     "parameters:\n  type: object\n  required: [n]\n"
                     "  properties:\n    n: {type: integer, minLength: 1}\n")
    loaded = load_pack(root)
    pack, [action] = loaded.pack, loaded.actions
    assert pack.version == "1.2.0" and pack.path == str(root.resolve())
    assert action.ref == "demo.run" and action.runtime == "shell"
    assert action.parameters["n"].required and action.parameters["n"].type == "integer"


@pytest.mark.parametrize(("action_yaml", "message"), [
    ("name: run\nrunner_type: cobol\nentry_point: run.sh\n",
     "actions/run.yaml: field 'runner_type': unknown runtime 'cobol'"),
    ("name: run\nrunner_type: shell\nentry_point: ../../etc/passwd\n",
     "actions/run.yaml: field 'entry_point' '../../etc/passwd' must stay inside actions/"),
    ("name: run\nrunner_type: shell\nentry_point: /bin/sh\n",
     "field 'entry_point' '/bin/sh' must stay inside actions/"),
    ("name: run\nrunner_type: shell\nentry_point: missing.sh\n",
     "actions/run.yaml: field 'entry_point': file actions/missing.sh not found"),
    ("name: run\nrunner_type: shell\n", "actions/run.yaml: field 'entry_point' is required"),
    ("name: [unclosed\n", "actions/run.yaml: invalid YAML"),
    ("- a\n- b\n", "actions/run.yaml: expected a mapping"),
    ("a: &x [1]\nb: *x\nrunner_type: shell\nentry_point: run.sh\n", "aliases are not allowed"),
    ("name: run\nrunner_type: shell\nentry_point: run.sh\nparameters:\n  p: {type: complex}\n",
     "actions/run.yaml: parameters.p.type"),
    ("name: Bad.Name\nrunner_type: shell\nentry_point: run.sh\n", "field 'name'"),
    ("ref: other.run\nrunner_type: shell\nentry_point: run.sh\n",
     "must start with the pack ref 'demo.'"),
    ("name: run\nrunner_type: shell\nentry_point: run.sh\ntimeout: -1\n",
     "field 'timeout_seconds' must be a positive integer"),
    ("!!python/object/apply:os.system ['echo pwned']\n", "actions/run.yaml: invalid YAML"),
])
def test_hostile_actions_are_refused(tmp_path: Path, action_yaml: str, message: str) -> None:
    root = make_pack(tmp_path / "p", action_yaml)
    with pytest.raises(PackError, match=re.escape(message)):
        load_pack(root)


def test_symlink_out_of_the_pack_is_refused(tmp_path: Path) -> None:
    root = make_pack(tmp_path / "p")
    os.symlink("/etc/passwd", root / "actions" / "leak.sh")
    with pytest.raises(PackError, match=re.escape("actions/leak.sh: symlink leads out")):
        load_pack(root)


def test_entry_point_symlink_escape_is_refused(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "x.sh").write_text("echo")
    root = make_pack(tmp_path / "p", "name: run\nrunner_type: shell\nentry_point: sub/x.sh\n")
    os.symlink(outside, root / "actions" / "sub")
    with pytest.raises(PackError, match="symlink leads out of the pack"):
        load_pack(root)


@pytest.mark.parametrize(("manifest", "message"), [
    ("ref: Bad.Ref\nversion: 1\n", "pack.yaml: field 'ref'"),
    ("label: x\nversion: 1\n", "pack.yaml: field 'ref' is required"),
    ("ref: demo\n", "pack.yaml: field 'version' is required"),
    ("ref: demo\nversion: 1\nsystem: yes please\n", "pack.yaml: field 'system' must be bool"),
])
def test_bad_manifests(tmp_path: Path, manifest: str, message: str) -> None:
    root = make_pack(tmp_path / "p")
    (root / "pack.yaml").write_text(manifest)
    with pytest.raises(PackError, match=message):
        load_pack(root)


def test_relative_missing_and_oversized(tmp_path: Path) -> None:
    with pytest.raises(PackError, match="must be absolute"):
        load_pack("packs/core")
    with pytest.raises(PackError, match="is not a directory"):
        load_pack(tmp_path / "nope")
    root = make_pack(tmp_path / "p")
    (root / "actions" / "big.yaml").write_text("a: " + "x" * (1024 * 1024 + 10))
    with pytest.raises(PackError, match=r"actions/big\.yaml: file is .* over the"):
        load_pack(root)


def test_timer_rules_need_a_schedule_that_parses(tmp_path: Path) -> None:
    root = make_pack(tmp_path / "p")
    (root / "rules").mkdir()
    (root / "rules" / "tick.yaml").write_text(
        "name: tick\ntrigger_ref: core.crontimer\naction_ref: core.echo\n"
        "trigger_params: {expression: 'bogus cron'}\n")
    with pytest.raises(PackError, match=re.escape("rules/tick.yaml: invalid parameters: "
                                                  "expression: 'bogus cron' has 2 fields")):
        load_pack(root)
