"""From a run request to a launch plan: resolve the action's runtime (and version) on this
worker, make sure its pack environment exists, build argv / environment / stdin.

`Facilities` are what a worker keeps for that across executions: the runtime catalogue,
the pack environments and the artifacts directory. A runner used alone (tests, tools)
gets defaults: the core runtimes, directories under the system temp dir.
"""

from __future__ import annotations

import asyncio
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from attune.worker import launch
from attune.worker.environments import EnvironmentBuildError, Environments
from attune.worker.runtimes import RuntimeCatalog, RuntimeUnavailableError

if TYPE_CHECKING:
    from attune.worker.runner import RunRequest


class PrepareError(Exception):
    """The action cannot start here; the message says why (it becomes the outcome's error)."""


@dataclass
class Facilities:
    catalog: RuntimeCatalog
    environments: Environments
    #: Each execution gets `<artifacts_root>/<execution id>` as ATTUNE_ARTIFACTS_DIR.
    artifacts_root: Path
    #: Where the SDK is exported for Python actions' PYTHONPATH (None: not offered).
    sdk_root: Path | None = None
    _sdk_dir: Path | None = field(default=None, init=False, repr=False)

    async def sdk_dir(self) -> Path | None:
        """The exported SDK (`import attune` in any pack venv), exported once."""
        if self._sdk_dir is None and self.sdk_root is not None:
            from attune.sdk.bundle import export_sdk
            self._sdk_dir = await asyncio.to_thread(export_sdk, self.sdk_root)
        return self._sdk_dir


_default: Facilities | None = None


def default_facilities() -> Facilities:
    global _default
    if _default is None:
        base = Path(tempfile.gettempdir()) / "attune-worker"
        _default = Facilities(RuntimeCatalog(), Environments(base / "runtime_envs"),
                              base / "artifacts", base / "sdk")
    return _default


async def prepare(req: RunRequest, facilities: Facilities) -> launch.LaunchPlan:
    """The launch plan of `req`; a builtin runtime's plan names the builtin, no argv."""
    try:
        runtime = await facilities.catalog.resolve(req.action)
        if runtime.config.builtin is not None:
            return launch.LaunchPlan(argv=[], env={}, stdin=b"", cwd=req.pack_path,
                                     builtin=runtime.config.builtin)
        pack_dir = Path(req.pack_path)
        env_dir = await facilities.environments.ensure(req.action.pack_ref, pack_dir, runtime)
        artifacts = facilities.artifacts_root / str(req.execution_id)
        await asyncio.to_thread(artifacts.mkdir, parents=True, exist_ok=True, mode=0o700)
        context = launch.ExecutionContext(
            execution_id=req.execution_id, api_url=req.api_url, api_token=req.api_token,
            artifacts_dir=str(artifacts),
            runtime_envs_dir=str(facilities.environments.root),
            rule_ref=req.rule_ref, trigger_ref=req.trigger_ref,
            sdk_dir=str(await facilities.sdk_dir() or "") if runtime.definition.family
            == "python" else "")
        return launch.build(
            req.action, runtime, pack_path=req.pack_path, env_dir=env_dir,
            env_interpreter=(facilities.environments.interpreter(env_dir, runtime)
                             if env_dir else None),
            parameters=req.parameters, user_env=req.env_vars, context=context)
    except (RuntimeUnavailableError, EnvironmentBuildError, launch.LaunchError) as exc:
        raise PrepareError(str(exc)) from None
    except OSError as exc:
        raise PrepareError(f"cannot prepare the action: {exc}") from None
