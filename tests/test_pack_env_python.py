"""A Python pack's virtualenv, built from its requirements.txt with a real PyPI package,
outside the (untouched) pack directory; idempotent and repaired when broken."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from attune.domain.action import ActionDef
from attune.domain.runtime import RuntimeDef
from attune.worker.environments import MARKER, Environments
from attune.worker.prepare import Facilities
from attune.worker.runner import RunRequest, run
from attune.worker.runtimes import RuntimeCatalog

ACTION = """\
import json, os, sys
import six
print(json.dumps({"six": six.__version__, "prefix": sys.prefix,
                  "virtual_env": os.environ.get("VIRTUAL_ENV")}))
"""


def facilities(tmp: Path) -> Facilities:
    async def load(ref: str) -> RuntimeDef | None:
        return None
    return Facilities(RuntimeCatalog(load), Environments(tmp / "envs"), tmp / "artifacts")


def snapshot(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def request(pack: Path, entry: str) -> RunRequest:
    act = ActionDef(ref="pyenv.a", pack_ref="pyenv", name="a", label="a", runtime="python",
                    entry_point=entry, output_format="json")
    return RunRequest(execution_id=1, action=act, pack_path=str(pack), parameters={},
                      env_vars={}, timeout_seconds=300, api_url="http://127.0.0.1:1")


async def test_requirements_install_into_a_pack_venv(tmp_path: Path) -> None:
    pack = tmp_path / "pack"
    (pack / "actions").mkdir(parents=True)
    (pack / "actions" / "a.py").write_text(ACTION)
    (pack / "requirements.txt").write_text("six\n")
    before = snapshot(pack)
    fac = facilities(tmp_path)
    env_dir = tmp_path / "envs" / "pyenv" / "python"

    outcome = await run(request(pack, "a.py"), facilities=fac)
    assert outcome.exit_code == 0, outcome.error or outcome.stderr
    assert outcome.data["six"] and outcome.data["prefix"] == str(env_dir)
    assert outcome.data["virtual_env"] == str(env_dir)
    marker = env_dir / MARKER
    built = marker.stat().st_mtime_ns

    again = await run(request(pack, "a.py"), facilities=fac)  # idempotent: no rebuild
    assert again.exit_code == 0 and marker.stat().st_mtime_ns == built

    # a broken interpreter (dangling symlink, as after the base Python moved) is repaired
    python = env_dir / "bin" / "python"
    python.unlink()
    os.symlink("/nonexistent/python3", python)
    repaired = await run(request(pack, "a.py"), facilities=fac)
    assert repaired.exit_code == 0, repaired.error or repaired.stderr
    assert marker.stat().st_mtime_ns != built and python.resolve().exists()

    assert snapshot(pack) == before  # the pack directory is only read


async def test_a_pack_without_requirements_runs_with_the_base_interpreter(
        tmp_path: Path) -> None:
    pack = tmp_path / "pack"
    (pack / "actions").mkdir(parents=True)
    (pack / "actions" / "b.py").write_text(
        "import json, os, sys\nprint(json.dumps([sys.prefix, os.environ.get('VIRTUAL_ENV')]))\n")
    outcome = await run(request(pack, "b.py"), facilities=facilities(tmp_path))
    assert outcome.exit_code == 0, outcome.stderr
    prefix, virtual_env = outcome.data
    assert virtual_env is None and not prefix.startswith(str(tmp_path))
    assert not (tmp_path / "envs" / "pyenv").exists()


async def test_a_failing_install_fails_the_execution_with_the_reason(tmp_path: Path) -> None:
    pack = tmp_path / "pack"
    (pack / "actions").mkdir(parents=True)
    (pack / "actions" / "a.py").write_text("print(1)\n")
    (pack / "requirements.txt").write_text("--definitely-not-a-pip-option\n")
    outcome = await run(request(pack, "a.py"), facilities=facilities(tmp_path))
    assert outcome.exit_code is None
    assert "pip install" in (outcome.error or "") and "exited" in (outcome.error or "")
