"""Runtime versions on a real machine: verification commands at worker start, the
highest available version that satisfies an action's constraint runs it."""

from __future__ import annotations

from pathlib import Path

from attune.domain.action import ActionDef
from attune.domain.runtime import RuntimeDef
from attune.packs.runtimes import load_runtime
from attune.worker.environments import Environments
from attune.worker.prepare import Facilities
from attune.worker.runner import RunRequest, run
from attune.worker.runtimes import RuntimeCatalog

FAKE = """\
#!/bin/sh
# a stand-in interpreter: tells its version, then runs the real python3
if [ "$1" = "--version" ]; then echo "Python {full}"; exit 0; fi
export FAKE_PYTHON={full}
exec python3 "$@"
"""

RUNTIME = """\
ref: vers.py
name: py
family: python
distributions:
  verification:
    commands: [{{binary: {bin}/py3.11, pattern: "Python 3"}}]
execution_config:
  interpreter: {{binary: {bin}/py3.11}}
versions:
  - version: "3.10"
    execution_config: {{interpreter: {{binary: /nonexistent/python3.10}}}}
    distributions: {{verification: {{commands: [{{binary: /nonexistent/python3.10}}]}}}}
  - version: "3.11"
    execution_config: {{interpreter: {{binary: {bin}/py3.11}}}}
    distributions: {{verification: {{commands: [{{binary: {bin}/py3.11, pattern: "3\\\\.11"}}]}}}}
  - version: "3.12"
    execution_config: {{interpreter: {{binary: {bin}/py3.12}}}}
    distributions: {{verification: {{commands: [{{binary: {bin}/py3.12, pattern: "3\\\\.12"}}]}}}}
"""


def setup(tmp: Path) -> tuple[Facilities, Path]:
    bindir = tmp / "bin"
    bindir.mkdir()
    for short, full in (("3.11", "3.11.9"), ("3.12", "3.12.4")):
        path = bindir / f"py{short}"
        path.write_text(FAKE.format(full=full))
        path.chmod(0o755)
    pack = tmp / "pack"
    (pack / "runtimes").mkdir(parents=True)
    (pack / "actions").mkdir()
    (pack / "runtimes" / "py.yaml").write_text(RUNTIME.format(bin=bindir))
    (pack / "actions" / "which.py").write_text("import os\nprint(os.environ['FAKE_PYTHON'])\n")
    runtime = load_runtime(pack, pack / "runtimes" / "py.yaml", "vers")

    async def load(ref: str) -> RuntimeDef | None:
        return runtime if ref == runtime.ref else None
    return Facilities(RuntimeCatalog(load), Environments(tmp / "envs"), tmp / "art"), pack


def request(pack: Path, constraint: str | None) -> RunRequest:
    act = ActionDef(ref="vers.which", pack_ref="vers", name="which", label="which",
                    runtime="python", runtime_ref="vers.py", runtime_version=constraint,
                    entry_point="which.py")
    return RunRequest(execution_id=3, action=act, pack_path=str(pack), parameters={},
                      env_vars={}, timeout_seconds=30, api_url="http://127.0.0.1:1")


async def test_the_highest_available_matching_version_runs(tmp_path: Path) -> None:
    fac, pack = setup(tmp_path)
    for constraint, expected in ((">=3.11", "3.12.4"), ("~3.11", "3.11.9"),
                                 (">=3.10, <3.12", "3.11.9"), (None, "3.11.9")):
        outcome = await run(request(pack, constraint), facilities=fac)
        assert outcome.exit_code == 0, (constraint, outcome.error, outcome.stderr)
        assert outcome.stdout.strip() == expected, constraint
    resolved = await fac.catalog.resolve(request(pack, "^3.12").action)
    assert (resolved.version, resolved.detected, resolved.env_name) == ("3.12", "3.12.4",
                                                                        "py-3.12")


async def test_no_matching_version_says_what_is_available(tmp_path: Path) -> None:
    fac, pack = setup(tmp_path)
    outcome = await run(request(pack, ">=3.13"), facilities=fac)
    assert outcome.exit_code is None
    assert outcome.error == ("no available version of vers.py satisfies '>=3.13' "
                             "(available here: 3.11.9, 3.12.4)")
    missing = await run(request(pack, "~3.10"), facilities=fac)  # declared, not installed
    assert "satisfies '~3.10'" in (missing.error or "")


async def test_worker_start_verification(tmp_path: Path) -> None:
    fac, _ = setup(tmp_path)
    available = await fac.catalog.verify_all([*fac.catalog.builtin_refs(), "vers.py",
                                              "nobody.ruby"])
    assert available["vers.py"] == ["3.11.9", "3.12.4"]
    # the core runtimes this machine has (shell, python 3, node, native, http)
    assert {"core.shell", "core.python", "core.nodejs", "core.native",
            "core.http"} <= set(available)
    assert any(v.startswith("3.") for v in available["core.python"])
    assert available["core.nodejs"] and "nobody.ruby" not in available
