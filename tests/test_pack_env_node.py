"""A Node.js pack's node_modules, installed from its package.json (a real npm package)
outside the (untouched) pack directory, found by the action through NODE_PATH."""

from __future__ import annotations

import hashlib
from pathlib import Path

from attune.domain.action import ActionDef
from attune.domain.runtime import RuntimeDef
from attune.worker.environments import MARKER, Environments
from attune.worker.prepare import Facilities
from attune.worker.runner import RunRequest, run
from attune.worker.runtimes import RuntimeCatalog

PACKAGE_JSON = '{"name": "nodepack", "version": "1.0.0", "dependencies": {"is-number": "^7.0.0"}}'
ACTION = """\
const isNumber = require('is-number');
let data = '';
process.stdin.on('data', c => data += c);
process.stdin.on('end', () => {
  const p = JSON.parse(data);
  console.log(JSON.stringify({value: p.value, is_number: isNumber(p.value),
                              node_path: process.env.NODE_PATH}));
});
"""


def facilities(tmp: Path) -> Facilities:
    async def load(ref: str) -> RuntimeDef | None:
        return None
    return Facilities(RuntimeCatalog(load), Environments(tmp / "envs"), tmp / "artifacts")


def snapshot(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


async def test_package_json_dependencies_install_into_the_pack_env(tmp_path: Path) -> None:
    pack = tmp_path / "pack"
    (pack / "actions").mkdir(parents=True)
    (pack / "actions" / "check.js").write_text(ACTION)
    (pack / "package.json").write_text(PACKAGE_JSON)
    before = snapshot(pack)
    fac = facilities(tmp_path)
    act = ActionDef(ref="nodepack.check", pack_ref="nodepack", name="check", label="check",
                    runtime="nodejs", entry_point="check.js", output_format="json")

    def req(value: object) -> RunRequest:
        return RunRequest(execution_id=2, action=act, pack_path=str(pack),
                          parameters={"value": value}, env_vars={}, timeout_seconds=300,
                          api_url="http://127.0.0.1:1")

    outcome = await run(req("12"), facilities=fac)
    assert outcome.exit_code == 0, outcome.error or outcome.stderr
    env_dir = tmp_path / "envs" / "nodepack" / "nodejs"
    assert outcome.data == {"value": "12", "is_number": True,
                            "node_path": str(env_dir / "node_modules")}
    assert (env_dir / "node_modules" / "is-number" / "package.json").is_file()
    built = (env_dir / MARKER).stat().st_mtime_ns

    again = await run(req("twelve"), facilities=fac)
    assert again.data["is_number"] is False
    assert (env_dir / MARKER).stat().st_mtime_ns == built  # idempotent
    assert snapshot(pack) == before  # nothing written into the pack
