"""The runtimes a worker knows, checked on this machine, and the choice of the one (and
its version) that runs an action.

Definitions come from the event store (a pack's `runtimes/*.yaml`, registered) and, for
the core runtimes, from the core pack's files shipped with Attune, so a worker runs core
actions even before the core pack is registered. A definition is cached until its
aggregate changes (`forget`). Verification runs a runtime's (or version's)
`distributions.verification.commands` once per worker: the binary must exist, exit as
expected and print the pattern; the version it prints is what constraints match against.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import attune.log as log
from attune.domain.action import ActionDef
from attune.domain.runtime import ExecutionConfig, RuntimeDef, VerificationCommand
from attune.domain.versions import ConstraintError, format_version, parse_version, select_best
from attune.errors import PackError
from attune.paths import packs_dir

#: PATH of every action's process; binaries are looked up here first.
ACTION_PATH = "/usr/local/bin:/usr/bin:/bin"
VERIFY_TIMEOUT = 15.0
#: A failed verification is tried again after this long (an install may have fixed it).
RETRY_FAILED_AFTER = 60.0
_log = log.get("runtimes")

Loader = Callable[[str], Awaitable[RuntimeDef | None]]


class RuntimeUnavailableError(Exception):
    """The action cannot run here; the message says why and what to do."""


def find_binary(binary: str) -> str | None:
    """The absolute path of `binary`: on the actions' PATH first, then the worker's."""
    if "/" in binary:
        path = Path(binary)
        return str(path) if path.is_file() and os.access(path, os.X_OK) else None
    return shutil.which(binary, path=ACTION_PATH) or shutil.which(binary)


@dataclass(frozen=True)
class Check:
    ok: bool
    #: The version the verification command printed (e.g. 3.11.2), if any.
    detected: str | None = None
    reason: str | None = None
    at: float = 0.0


async def _run_check(command: VerificationCommand) -> Check:
    binary = find_binary(command.binary)
    if binary is None:
        return Check(False, reason=f"{command.binary} not found")
    try:
        proc = await asyncio.create_subprocess_exec(
            binary, *command.args, stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
        out, _ = await asyncio.wait_for(proc.communicate(), VERIFY_TIMEOUT)
    except (OSError, TimeoutError) as exc:
        return Check(False, reason=f"{binary}: {exc or 'timed out'}")
    text = out.decode(errors="replace")
    if proc.returncode != command.exit_code:
        return Check(False, reason=f"{binary} exited {proc.returncode}, expected "
                                   f"{command.exit_code}")
    if command.pattern and not re.search(command.pattern, text, re.MULTILINE):
        return Check(False, reason=f"{binary}: output {text.strip()[:80]!r} does not match "
                                   f"{command.pattern!r}")
    found = parse_version(text)
    return Check(True, detected=format_version(found) if found else None)


async def verify(commands: Iterable[VerificationCommand]) -> Check:
    """The first passing command (by priority) wins; no commands = available."""
    ordered = sorted(commands, key=lambda c: c.priority)
    if not ordered:
        return Check(True)
    reasons = []
    for command in ordered:
        check = await _run_check(command)
        if check.ok:
            return check
        reasons.append(check.reason or "failed")
    return Check(False, reason="; ".join(reasons))


@dataclass(frozen=True)
class ResolvedRuntime:
    """The runtime (and version) an execution runs with, checked on this worker."""

    definition: RuntimeDef
    config: ExecutionConfig
    #: The declared version chosen (None: the runtime's own config).
    version: str | None
    #: What the machine reported (e.g. 3.11.2), when it tells.
    detected: str | None
    #: Absolute path of the interpreter binary (None for native and builtin runtimes).
    interpreter: str | None

    @property
    def env_name(self) -> str:
        """Directory name of a pack's environment: `python`, or `python-3.12`."""
        name = self.definition.ref.split(".", 1)[1]
        return f"{name}-{self.version}" if self.version else name


def builtin_runtimes() -> dict[str, RuntimeDef]:
    """The core pack's runtimes, read from the files Attune ships."""
    from attune.packs.runtimes import load_runtime  # packs imports the domain only

    root = packs_dir() / "core"
    found: dict[str, RuntimeDef] = {}
    for path in sorted((root / "runtimes").glob("*.yaml")):
        try:
            runtime = load_runtime(root, path, "core")
        except PackError as exc:  # a broken shipped file must not stop the worker
            _log.error("runtime.builtin_invalid", path=str(path), error=exc.message)
            continue
        found[runtime.ref] = runtime
    return found


class RuntimeCatalog:
    def __init__(self, load: Loader | None = None, *,
                 clock: Callable[[], float] | None = None) -> None:
        self._load = load
        self._clock = clock or (lambda: asyncio.get_running_loop().time())
        self._builtin = builtin_runtimes()
        self._registered: dict[str, RuntimeDef | None] = {}
        self._checks: dict[tuple[str, str | None], Check] = {}

    def forget(self, ref: str, *, now: RuntimeDef | None = None) -> None:
        """Drop what is cached about `ref` (its aggregate changed); `now` is its new
        definition when the change tells it (a `runtime.defined` event)."""
        self._registered.pop(ref, None)
        if now is not None:
            self._registered[ref] = now
        for key in [k for k in self._checks if k[0] == ref]:
            del self._checks[key]

    async def definition(self, ref: str) -> RuntimeDef | None:
        if ref not in self._registered and self._load is not None:
            try:
                self._registered[ref] = await self._load(ref)
            except Exception as exc:  # event store away: shipped core runtimes still serve
                _log.warning("runtime.load_failed", runtime=ref, error=repr(exc))
                return self._builtin.get(ref)
        return self._registered.get(ref) or self._builtin.get(ref)

    def builtin_refs(self) -> list[str]:
        return sorted(self._builtin)

    async def check(self, runtime: RuntimeDef, version: str | None = None) -> Check:
        """Verification of the runtime (or one of its versions), cached."""
        key = (runtime.ref, version)
        cached = self._checks.get(key)
        now = self._clock()
        if cached is not None and (cached.ok or now - cached.at < RETRY_FAILED_AFTER):
            return cached
        if version is None:
            commands = runtime.distributions.verification.commands
        else:
            declared = next(v for v in runtime.versions if v.version == version)
            commands = declared.distributions.verification.commands
        result = await verify(commands)
        result = Check(result.ok, result.detected, result.reason, at=now)
        self._checks[key] = result
        return result

    async def verify_all(self, refs: Iterable[str]) -> dict[str, list[str]]:
        """Worker start: check every runtime and version; returns the available versions
        per runtime ref (an empty list: available, no version told) for the heartbeat."""
        available: dict[str, list[str]] = {}
        for ref in sorted(set(refs)):
            runtime = await self.definition(ref)
            if runtime is None or not runtime.enabled:
                continue
            base = await self.check(runtime)
            versions = []
            for declared in runtime.versions:
                check = await self.check(runtime, declared.version)
                if check.ok:
                    versions.append(check.detected or declared.version)
            if base.ok or versions:
                available[ref] = sorted(set(versions) | ({base.detected} if base.detected
                                                          else set()))
            _log.info("runtime.verified", runtime=ref, available=base.ok,
                      versions=versions, reason=base.reason)
        return available

    async def resolve(self, action: ActionDef) -> ResolvedRuntime:
        ref = action.runtime_ref or f"core.{action.runtime}"
        runtime = await self.definition(ref)
        if runtime is None:
            raise RuntimeUnavailableError(f"runtime {ref!r} is not registered: register the pack "
                                     "that defines it")
        if not runtime.enabled:
            raise RuntimeUnavailableError(f"runtime {ref!r} is disabled")
        if action.runtime_version and runtime.versions:
            return await self._versioned(runtime, action.runtime_version)
        check = await self.check(runtime)
        if not check.ok:
            raise RuntimeUnavailableError(f"runtime {ref} is not available on this worker: "
                                     f"{check.reason}")
        if action.runtime_version and not _matches(check.detected, action.runtime_version):
            raise RuntimeUnavailableError(
                f"runtime {ref} here is version {check.detected or 'unknown'}, which does not "
                f"satisfy runtime_version {action.runtime_version!r}")
        return self._resolved(runtime, runtime.execution_config, None, check.detected)

    async def _versioned(self, runtime: RuntimeDef, constraint: str) -> ResolvedRuntime:
        seen: dict[str, str] = {}  # version to match -> declared version
        for declared in runtime.versions:
            check = await self.check(runtime, declared.version)
            if check.ok:
                seen[check.detected or declared.version] = declared.version
        try:
            best = select_best(seen, constraint)
        except ConstraintError as exc:
            raise RuntimeUnavailableError(f"runtime_version {constraint!r}: {exc}") from None
        if best is None:
            shown = ", ".join(sorted(seen)) or "none"
            raise RuntimeUnavailableError(
                f"no available version of {runtime.ref} satisfies {constraint!r} "
                f"(available here: {shown})")
        declared = next(v for v in runtime.versions if v.version == seen[best])
        return self._resolved(runtime, declared.execution_config, declared.version, best)

    @staticmethod
    def _resolved(runtime: RuntimeDef, config: ExecutionConfig, version: str | None,
                  detected: str | None) -> ResolvedRuntime:
        interpreter = None
        if not config.native and config.builtin is None and config.interpreter:
            interpreter = find_binary(config.interpreter.binary)
            if interpreter is None:
                raise RuntimeUnavailableError(f"runtime {runtime.ref}: interpreter "
                                         f"{config.interpreter.binary!r} not found")
        return ResolvedRuntime(runtime, config, version, detected, interpreter)


def _matches(detected: str | None, constraint: str) -> bool:
    if detected is None:
        return False
    try:
        return select_best([detected], constraint) is not None
    except ConstraintError:
        return False
