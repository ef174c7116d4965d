"""Environment builds with a runtime whose commands only count how often they ran:
concurrent executions build once, a changed manifest rebuilds, a half-built environment is
rebuilt, and a versioned action gets an environment of its own."""

from __future__ import annotations

import asyncio
from pathlib import Path

from attune.domain.action import ActionDef
from attune.domain.runtime import RuntimeDef
from attune.worker.environments import MARKER, Environments
from attune.worker.runtimes import RuntimeCatalog


def runtime(tmp: Path) -> RuntimeDef:
    count = tmp / "builds.log"
    return RuntimeDef.model_validate({
        "ref": "t.counted", "pack_ref": "t", "name": "counted", "label": "counted",
        "family": "shell",
        "execution_config": {
            "interpreter": {"binary": "/bin/sh"},
            "environment": {"create_command": ["/bin/sh", "-c", "mkdir -p {env_dir}/bin"]},
            "dependencies": {"manifest_file": "deps.txt", "install_command": [
                "/bin/sh", "-c", f"sleep 0.3; cat {{manifest_path}} >> {count}; "
                                 "echo ok > {env_dir}/installed"]}},
        "versions": [{"version": "2.0", "execution_config": {
            "interpreter": {"binary": "/bin/sh"},
            "dependencies": {"manifest_file": "deps.txt", "install_command": [
                "/bin/sh", "-c", f"echo v2 >> {count}"]}}}]})


async def setup(tmp: Path) -> tuple[RuntimeCatalog, Environments, Path, Path]:
    definition = runtime(tmp)

    async def load(ref: str) -> RuntimeDef | None:
        return definition if ref == definition.ref else None
    pack = tmp / "pack"
    pack.mkdir()
    (pack / "deps.txt").write_text("one\n")
    return RuntimeCatalog(load), Environments(tmp / "envs"), pack, tmp / "builds.log"


def action(version: str | None = None) -> ActionDef:
    return ActionDef(ref="t.a", pack_ref="t", name="a", label="a", runtime="shell",
                     runtime_ref="t.counted", runtime_version=version, entry_point="a.sh")


async def test_concurrent_executions_build_once_and_changes_rebuild(tmp_path: Path) -> None:
    catalog, envs, pack, log = await setup(tmp_path)
    resolved = await catalog.resolve(action())
    dirs = await asyncio.gather(*(envs.ensure("t", pack, resolved) for _ in range(4)))
    env_dir = tmp_path / "envs" / "t" / "counted"
    assert dirs == [env_dir] * 4 and log.read_text() == "one\n"
    assert (env_dir / "installed").is_file() and (env_dir / MARKER).is_file()

    await envs.ensure("t", pack, resolved)  # nothing changed: nothing runs
    assert log.read_text() == "one\n"

    (pack / "deps.txt").write_text("two\n")  # the pack's author changed the manifest
    await envs.ensure("t", pack, resolved)
    assert log.read_text() == "one\ntwo\n"

    (env_dir / MARKER).unlink()  # a build that died before it finished
    await envs.ensure("t", pack, resolved)
    assert log.read_text() == "one\ntwo\ntwo\n"


async def test_a_versioned_action_gets_its_own_environment(tmp_path: Path) -> None:
    catalog, envs, pack, log = await setup(tmp_path)
    resolved = await catalog.resolve(action(">=2"))
    assert (resolved.version, resolved.env_name) == ("2.0", "counted-2.0")
    assert await envs.ensure("t", pack, resolved) == tmp_path / "envs" / "t" / "counted-2.0"
    assert log.read_text() == "v2\n"


async def test_no_manifest_no_environment(tmp_path: Path) -> None:
    catalog, envs, pack, log = await setup(tmp_path)
    (pack / "deps.txt").unlink()
    assert await envs.ensure("t", pack, await catalog.resolve(action())) is None
    assert not log.exists() and not (tmp_path / "envs").exists()
