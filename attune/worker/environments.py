"""Per-pack runtime environments: a virtualenv from `requirements.txt`, `node_modules`
from `package.json`, under `{runtime_envs_dir}/{pack_ref}/{runtime}` (`python-3.12` for
a versioned action). Pack directories are only read.

Idempotent: the environment records a fingerprint (the manifest's bytes, the runtime's
environment and dependency config, the interpreter) in `.attune-env.json`, written last.
It is rebuilt from scratch when the fingerprint differs, the marker is missing (a build
died half-way) or the environment's interpreter is broken (e.g. a dangling symlink to a
removed Python). Builds of one environment are serialized within the process (a lock) and
across workers sharing the directory (an flock).
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import hashlib
import os
import shutil
from pathlib import Path
from typing import IO

import orjson

import attune.log as log
from attune.worker.runtimes import ACTION_PATH, ResolvedRuntime, find_binary

MARKER = ".attune-env.json"
BUILD_TIMEOUT = 900.0
_log = log.get("environments")


class EnvironmentBuildError(Exception):
    """An environment could not be built; the message has the command's output tail."""


def expand(text: str, values: dict[str, str]) -> str:
    for name, value in values.items():
        text = text.replace("{" + name + "}", value)
    return text


def build_environment() -> dict[str, str]:
    """What environment build commands run with: the worker's, less anything ATTUNE_*
    (secrets), so pip/npm keep their proxy and index settings."""
    env = {k: v for k, v in os.environ.items() if not k.upper().startswith("ATTUNE_")}
    env["PATH"] = os.pathsep.join(p for p in (env.get("PATH"), ACTION_PATH) if p)
    return env


class Environments:
    def __init__(self, root: Path) -> None:
        self.root = root
        self._locks: dict[Path, asyncio.Lock] = {}

    def manifest(self, pack_dir: Path, runtime: ResolvedRuntime) -> Path | None:
        """The pack's dependency manifest for this runtime, when it has one."""
        deps = runtime.config.dependencies
        if deps is None:
            return None
        path = pack_dir / deps.manifest_file
        return path if path.is_file() else None

    def env_dir(self, pack_ref: str, runtime: ResolvedRuntime) -> Path:
        return self.root / pack_ref / runtime.env_name

    def interpreter(self, env_dir: Path, runtime: ResolvedRuntime) -> str | None:
        env = runtime.config.environment
        if env is None or not env.interpreter_path:
            return None
        return expand(env.interpreter_path, {"env_dir": str(env_dir)})

    async def ensure(self, pack_ref: str, pack_dir: Path, runtime: ResolvedRuntime
                     ) -> Path | None:
        """The pack's environment for `runtime`, built or repaired if needed; None when the
        pack has no manifest for it (the action runs with the base interpreter)."""
        manifest = self.manifest(pack_dir, runtime)
        if manifest is None:
            return None
        env_dir = self.env_dir(pack_ref, runtime)
        fingerprint = _fingerprint(manifest, runtime)
        if self._healthy(env_dir, runtime, fingerprint):
            return env_dir
        lock = self._locks.setdefault(env_dir, asyncio.Lock())
        async with lock:
            await asyncio.to_thread(env_dir.parent.mkdir, parents=True, exist_ok=True)
            lock_file = await asyncio.to_thread(_flock, env_dir.with_name(f".{env_dir.name}.lock"))
            try:
                if not self._healthy(env_dir, runtime, fingerprint):  # another worker built it?
                    await self._build(env_dir, pack_dir, manifest, runtime, fingerprint)
            finally:
                lock_file.close()
        return env_dir

    def _healthy(self, env_dir: Path, runtime: ResolvedRuntime, fingerprint: str) -> bool:
        try:
            marker = orjson.loads((env_dir / MARKER).read_bytes())
        except (OSError, orjson.JSONDecodeError):
            return False
        if marker.get("fingerprint") != fingerprint:
            return False
        interpreter = self.interpreter(env_dir, runtime)
        # a dangling symlink fails is_file(): the interpreter it pointed at is gone
        return interpreter is None or (Path(interpreter).is_file()
                                       and os.access(interpreter, os.X_OK))

    async def _build(self, env_dir: Path, pack_dir: Path, manifest: Path,
                     runtime: ResolvedRuntime, fingerprint: str) -> None:
        _log.info("environment.building", env_dir=str(env_dir), runtime=runtime.definition.ref)
        await asyncio.to_thread(_reset, env_dir)
        values = {"env_dir": str(env_dir), "pack_dir": str(pack_dir),
                  "manifest_path": str(manifest), "interpreter": runtime.interpreter or ""}
        config = runtime.config
        if config.environment and config.environment.create_command:
            await _run(config.environment.create_command, values, env_dir)
        # install commands use the environment's own interpreter when it has one
        values["interpreter"] = self.interpreter(env_dir, runtime) or values["interpreter"]
        if config.dependencies:
            await _run(config.dependencies.install_command, values, env_dir)
        await asyncio.to_thread((env_dir / MARKER).write_bytes, orjson.dumps(
            {"fingerprint": fingerprint, "runtime": runtime.definition.ref,
             "version": runtime.version, "manifest": str(manifest)}))
        _log.info("environment.built", env_dir=str(env_dir))


def _reset(env_dir: Path) -> None:
    shutil.rmtree(env_dir, ignore_errors=True)
    env_dir.mkdir(parents=True)


def _fingerprint(manifest: Path, runtime: ResolvedRuntime) -> str:
    config = runtime.config
    digest = hashlib.sha256(manifest.read_bytes())
    digest.update(orjson.dumps([
        config.environment.model_dump() if config.environment else None,
        config.dependencies.model_dump() if config.dependencies else None,
        runtime.interpreter]))
    return digest.hexdigest()


def _flock(path: Path) -> IO[str]:
    fh = path.open("a")
    fcntl.flock(fh, fcntl.LOCK_EX)
    return fh


async def _run(argv: list[str], values: dict[str, str], cwd: Path) -> None:
    command = [expand(a, values) for a in argv]
    binary = find_binary(command[0]) or command[0]
    try:
        proc = await asyncio.create_subprocess_exec(
            binary, *command[1:], cwd=cwd, env=build_environment(),
            stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT, start_new_session=True)
    except OSError as exc:
        raise EnvironmentBuildError(f"cannot run {command[0]}: {exc}") from None
    try:
        out, _ = await asyncio.wait_for(proc.communicate(), BUILD_TIMEOUT)
    except TimeoutError:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, 9)
        raise EnvironmentBuildError(f"{' '.join(command)} took over {BUILD_TIMEOUT:.0f} s"
                                    ) from None
    if proc.returncode != 0:
        tail = out.decode(errors="replace").strip()[-2000:]
        raise EnvironmentBuildError(f"{' '.join(command)} exited {proc.returncode}: {tail}")
