"""Runtimes as data: how a worker runs an action's entry point, defined in a pack's
`runtimes/*.yaml` (core ships core.shell, core.python, core.nodejs, core.native and
core.http). A runtime is a catalogue component keyed by its ref (`attune.runtime.core:python.*`).

`execution_config` says everything a worker needs:

    interpreter:  {binary, args, file_extension}   none/empty binary = native (run the file)
    environment:  {env_type, create_command, interpreter_path}   a per-pack environment
    dependencies: {manifest_file, install_command}  built when the pack has the manifest
    env_vars:     {NAME: "value" | {operation: set|prepend|append, value, separator}}
    builtin:      handled inside the worker (core.http), no process

Commands are argv lists with templates `{env_dir}`, `{pack_dir}`, `{interpreter}` and
`{manifest_path}`. `versions` lists specific versions (each its own complete
execution_config and verification commands); an action's `runtime_version` constraint
picks the highest available one.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from attune.domain.catalog import DefinedEvent, Kind
from attune.domain.events import Event, register

#: The runtime families workers take work for (`attune.work.<family>`).
Family = Literal["shell", "python", "nodejs", "native", "http"]
FAMILIES: tuple[Family, ...] = ("shell", "python", "nodejs", "native", "http")

#: Name aliases (case-insensitive) and the family each stands for.
ALIASES: dict[str, Family] = {
    "shell": "shell", "bash": "shell", "sh": "shell",
    "python": "python", "python3": "python",
    "node": "nodejs", "nodejs": "nodejs", "node.js": "nodejs",
    "native": "native", "standalone": "native", "builtin": "native",
    "http": "http",
}

TEMPLATE_NAMES = ("env_dir", "pack_dir", "interpreter", "manifest_path")
_TEMPLATE = re.compile(r"\{([a-z_]+)\}")


def normalize(name: str) -> Family | None:
    """The family a runtime name or alias stands for (`Node.js` -> nodejs), or None.
    `core.python` style refs of the core runtimes count as their name."""
    lowered = name.strip().lower()
    if lowered.startswith("core."):
        lowered = lowered[len("core."):]
    return ALIASES.get(lowered)


def unknown_templates(text: str) -> list[str]:
    return [n for n in _TEMPLATE.findall(text) if n not in TEMPLATE_NAMES]


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Interpreter(_Model):
    binary: str = ""
    args: list[str] = Field(default_factory=list)
    file_extension: str | None = None


class Environment(_Model):
    env_type: str = "virtualenv"
    #: Run once to create `{env_dir}` (which the worker has made, empty).
    create_command: list[str] = Field(default_factory=list)
    #: The interpreter inside the environment, used instead of `interpreter.binary`.
    interpreter_path: str | None = None


class Dependencies(_Model):
    manifest_file: str
    install_command: list[str]


class EnvVar(_Model):
    operation: Literal["set", "prepend", "append"] = "set"
    value: str
    separator: str = ":"


class ExecutionConfig(_Model):
    interpreter: Interpreter | None = None
    environment: Environment | None = None
    dependencies: Dependencies | None = None
    env_vars: dict[str, EnvVar] = Field(default_factory=dict)
    builtin: str | None = None

    @property
    def native(self) -> bool:
        return self.builtin is None and (self.interpreter is None
                                         or not self.interpreter.binary)


class VerificationCommand(_Model):
    binary: str
    args: list[str] = Field(default_factory=lambda: ["--version"])
    exit_code: int = 0
    #: A regular expression the output (stdout + stderr) must contain.
    pattern: str | None = None
    priority: int = 0


class Verification(_Model):
    commands: list[VerificationCommand] = Field(default_factory=list)


class Distributions(_Model):
    verification: Verification = Field(default_factory=Verification)


class RuntimeVersionDef(_Model):
    version: str
    is_default: bool = False
    #: Complete (the loader merges the version's overrides onto the runtime's config).
    execution_config: ExecutionConfig
    distributions: Distributions = Field(default_factory=Distributions)


class RuntimeDef(_Model):
    ref: str
    pack_ref: str
    name: str
    label: str
    description: str = ""
    enabled: bool = True
    family: Family
    aliases: list[str] = Field(default_factory=list)
    execution_config: ExecutionConfig = Field(default_factory=ExecutionConfig)
    distributions: Distributions = Field(default_factory=Distributions)
    versions: list[RuntimeVersionDef] = Field(default_factory=list)

    def answers_to(self, name: str) -> bool:
        """Whether an action's `runner_type: name` means this runtime."""
        lowered = name.strip().lower()
        return lowered in {self.ref.lower(), self.name.lower(),
                           *(a.lower() for a in self.aliases)}


@register
class RuntimeDefined(DefinedEvent[RuntimeDef]):
    type: Literal["runtime.defined"] = "runtime.defined"


@register
class RuntimeEnabled(Event):
    type: Literal["runtime.enabled"] = "runtime.enabled"


@register
class RuntimeDisabled(Event):
    type: Literal["runtime.disabled"] = "runtime.disabled"


@register
class RuntimeDeleted(Event):
    type: Literal["runtime.deleted"] = "runtime.deleted"


RUNTIME = Kind(name="runtime", defined=RuntimeDefined, enabled=RuntimeEnabled,
               disabled=RuntimeDisabled, deleted=RuntimeDeleted)
