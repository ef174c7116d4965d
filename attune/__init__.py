"""Attune. `import attune` is the SDK surface for action and sensor authors and must
not pull in any server dependency (nats, asyncpg, aiohttp); servers live in
subpackages imported explicitly. The SDK itself is `attune/sdk/` (standard library
only; see its README):

    import attune

    def main(name: str, count: int = 1):
        return {"greeting": f"Hello, {name}!" * count}

    attune.run_action(main)

The SDK names below are loaded on first use, so that servers and the CLI, which import
this package too, do not pay for them.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import sys
import types
from typing import Any

__version__ = "0.1.0"

#: Public name -> (module, attribute; None for the module itself).
_EXPORTS: dict[str, tuple[str, str | None]] = {
    "run_action": ("attune.sdk.action", "run_action"),
    "context": ("attune.sdk.context", "action_context"),
    "sensor_context": ("attune.sdk.context", "sensor_context"),
    "ActionContext": ("attune.sdk.context", "ActionContext"),
    "SensorContext": ("attune.sdk.context", "SensorContext"),
    "artifacts": ("attune.sdk.artifacts", None),
    "ArtifactAllocation": ("attune.sdk.artifacts", "ArtifactAllocation"),
    "ProgressArtifact": ("attune.sdk.artifacts", "ProgressArtifact"),
    "allocate_file_version": ("attune.sdk.artifacts", "allocate_file_version"),
    "create_progress": ("attune.sdk.artifacts", "create_progress"),
    "AttuneClient": ("attune.sdk.client", "AttuneClient"),
    "AuthenticatedClient": ("attune.sdk.api_client", "AuthenticatedClient"),
    "Client": ("attune.sdk.api_client", "Client"),
    "Sensor": ("attune.sdk.sensor", "Sensor"),
    "run_sensor": ("attune.sdk.sensor", "run_sensor"),
    "PollingSensor": ("attune.sdk.polling", "PollingSensor"),
    "AsyncPollingSensor": ("attune.sdk.polling", "AsyncPollingSensor"),
    "RuleState": ("attune.sdk.rules", "RuleState"),
}

#: The original SDK's module paths, served by the modules in attune/sdk/
#: (`attune.action.read_params`, `from attune.context import _build_sensor_context`,
#: `from attune.api_client.api.packs import list_packs`). `attune.sensor` is not one of
#: them: that is the sensor *service*; the SDK's sensor module is `attune.sdk.sensor`.
_MODULE_ALIASES = {"attune.action": "attune.sdk.action", "attune.context": "attune.sdk.context",
                   "attune.artifacts": "attune.sdk.artifacts", "attune.client": "attune.sdk.client",
                   "attune.api_client": "attune.sdk.api_client"}

__all__ = ["__version__", *sorted(_EXPORTS)]


def _alias_target(fullname: str) -> str | None:
    for alias, real in _MODULE_ALIASES.items():
        if fullname == alias or fullname.startswith(alias + "."):
            return real + fullname[len(alias):]
    return None


class _AliasImporter(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Imports an alias as the very module object it stands for (one module, two names)."""

    def find_spec(self, fullname: str, path: Any = None, target: Any = None
                  ) -> importlib.machinery.ModuleSpec | None:
        real_name = _alias_target(fullname)
        if real_name is None:
            return None
        if fullname in _MODULE_ALIASES and importlib.machinery.PathFinder.find_spec(
                fullname, __path__) is not None:
            return None  # a real module of that name was added to attune/: it wins
        real = importlib.import_module(real_name)
        return importlib.machinery.ModuleSpec(fullname, self,
                                              is_package=hasattr(real, "__path__"))

    def __init__(self) -> None:
        self._own_specs: dict[str, Any] = {}

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> types.ModuleType:
        real = importlib.import_module(_alias_target(spec.name) or spec.name)
        self._own_specs[spec.name] = real.__spec__
        return real

    def exec_module(self, module: types.ModuleType) -> None:
        # The import system stamped the alias spec on the real module: put its own back.
        alias = module.__spec__.name if module.__spec__ else ""
        if alias in self._own_specs:
            module.__spec__ = self._own_specs.pop(alias)


class _Facade(types.ModuleType):
    def __getattr__(self, name: str) -> Any:
        target = _EXPORTS.get(name)
        if target is None:
            raise AttributeError(f"module 'attune' has no attribute {name!r}")
        module = importlib.import_module(target[0])
        value = module if target[1] is None else getattr(module, target[1])
        self.__dict__[name] = value
        return value

    def __setattr__(self, name: str, value: Any) -> None:
        # Importing the alias module `attune.context` makes the import system set
        # `attune.context` to that module; the SDK's `attune.context` is the
        # ActionContext instance (as in the original SDK), so that one assignment is
        # skipped.
        if name == "context" and isinstance(value, types.ModuleType):
            return
        super().__setattr__(name, value)

    def __dir__(self) -> list[str]:
        return sorted({*super().__dir__(), *_EXPORTS})


if not any(isinstance(finder, _AliasImporter) for finder in sys.meta_path):
    sys.meta_path.insert(0, _AliasImporter())
sys.modules[__name__].__class__ = _Facade
