"""The launch plan of one action process: argv, environment, stdin bytes, working
directory and the parameter file to remove afterwards. Built from the action, its
resolved runtime and its pack environment; nothing here starts a process.

Environment, in order (later wins): a minimal base (PATH, LANG, HOME), the runtime's
`env_vars` (templates expanded; those naming `{env_dir}` only when the pack has an
environment), the execution's own `env_vars` (never ATTUNE_*), the SDK appended to
PYTHONPATH for Python actions, then the ATTUNE_* context variables. Nothing of the
worker's environment is inherited, so no platform secret (JWT secret, encryption key,
database URL) reaches an action.

Parameters: `stdin` delivery writes them all to stdin. `file` delivery writes the
non-secret ones to a 0600 file named by ATTUNE_PARAMETER_FILE (removed after the run) and
still sends the secret ones on stdin, in the same format: a secret is never written to
disk, put in the environment or on the command line.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from attune.domain.action import ActionDef
from attune.domain.params import secret_names
from attune.domain.runtime import EnvVar
from attune.worker import params
from attune.worker.environments import expand
from attune.worker.runtimes import ACTION_PATH, ResolvedRuntime

RESERVED_PREFIX = "ATTUNE_"


class LaunchError(Exception):
    """The action cannot be started; the message says what to fix."""


@dataclass(frozen=True)
class ExecutionContext:
    """What the ATTUNE_* variables tell an action about its execution."""

    execution_id: int
    api_url: str
    api_token: str | None = None
    artifacts_dir: str = ""
    runtime_envs_dir: str = ""
    rule_ref: str | None = None
    trigger_ref: str | None = None
    #: Put on PYTHONPATH (after the action's own entries) so `import attune` finds the SDK.
    sdk_dir: str = ""


@dataclass
class LaunchPlan:
    argv: list[str]
    env: dict[str, str]
    stdin: bytes
    cwd: str
    #: Removed by `discard()` once the process has ended.
    param_file: str | None = None
    #: Set for runtimes handled inside the worker (core.http): no process, no argv.
    builtin: str | None = None

    def discard(self) -> None:
        if self.param_file:
            with contextlib.suppress(OSError):
                os.unlink(self.param_file)
            self.param_file = None


def entry_path(action: ActionDef, pack_path: str) -> Path:
    """The entry point inside the pack's actions/ folder; anything escaping it is refused."""
    base = (Path(pack_path) / "actions").resolve()
    target = (base / action.entry_point).resolve()
    if not target.is_relative_to(base):
        raise LaunchError(f"entry_point {action.entry_point!r} leaves the pack")
    if not target.is_file():
        raise LaunchError(f"entry_point {action.entry_point!r} not found in {base}")
    return target


def _apply(env: dict[str, str], name: str, var: EnvVar, value: str) -> None:
    current = env.get(name)
    if var.operation == "set" or not current:
        env[name] = value
    elif var.operation == "prepend":
        env[name] = value + var.separator + current
    else:
        env[name] = current + var.separator + value


def environment(action: ActionDef, runtime: ResolvedRuntime, env_dir: Path | None,
                interpreter: str | None, pack_path: str, user_env: dict[str, str],
                context: ExecutionContext) -> dict[str, str]:
    env = {"PATH": ACTION_PATH, "LANG": "C.UTF-8", "HOME": tempfile.gettempdir()}
    values = {"pack_dir": pack_path, "interpreter": interpreter or "",
              "env_dir": str(env_dir or "")}
    deps = runtime.config.dependencies
    values["manifest_path"] = str(Path(pack_path) / deps.manifest_file) if deps else ""
    for name, var in runtime.config.env_vars.items():
        if env_dir is None and "{env_dir}" in var.value:
            continue  # no environment: nothing to point at
        _apply(env, name, var, expand(var.value, values))
    env.update({k: v for k, v in user_env.items() if not k.upper().startswith(RESERVED_PREFIX)})
    if context.sdk_dir:
        _apply(env, "PYTHONPATH", EnvVar(operation="append", value=context.sdk_dir),
               context.sdk_dir)
    env.update({
        "ATTUNE_ACTION": action.ref,
        "ATTUNE_PACK_REF": action.pack_ref,
        "ATTUNE_EXEC_ID": str(context.execution_id),
        "ATTUNE_API_URL": context.api_url,
        "ATTUNE_ARTIFACTS_DIR": context.artifacts_dir,
        "ATTUNE_RUNTIME_ENVS_DIR": context.runtime_envs_dir,
    })
    for name, value in (("ATTUNE_API_TOKEN", context.api_token),
                        ("ATTUNE_RULE", context.rule_ref),
                        ("ATTUNE_TRIGGER", context.trigger_ref)):
        if value:
            env[name] = value
    return env


def build(action: ActionDef, runtime: ResolvedRuntime, *, pack_path: str,
          env_dir: Path | None, env_interpreter: str | None, parameters: dict[str, Any],
          user_env: dict[str, str], context: ExecutionContext) -> LaunchPlan:
    entry = entry_path(action, pack_path)
    interpreter = env_interpreter or runtime.interpreter
    config = runtime.config
    if config.native:
        if not os.access(entry, os.X_OK):
            raise LaunchError(f"entry_point {action.entry_point!r} is not executable: native "
                              "actions run the file itself (chmod +x it in the pack)")
        argv = [str(entry)]
    else:
        if interpreter is None:
            raise LaunchError(f"runtime {runtime.definition.ref} has no interpreter here")
        args = config.interpreter.args if config.interpreter else []
        argv = [interpreter, *args, str(entry)]
    env = environment(action, runtime, env_dir, interpreter, pack_path, user_env, context)
    stdin, param_file = deliver(action, parameters, context.execution_id)
    if param_file:
        env["ATTUNE_PARAMETER_FILE"] = param_file
    return LaunchPlan(argv=argv, env=env, stdin=stdin, cwd=pack_path, param_file=param_file)


def deliver(action: ActionDef, parameters: dict[str, Any], execution_id: int
            ) -> tuple[bytes, str | None]:
    """(stdin bytes, parameter file path or None) per the action's delivery and format."""
    fmt = action.parameter_format
    if action.parameter_delivery == "stdin":
        return params.render(parameters, fmt), None
    secrets = secret_names(action.parameters)
    plain = {k: v for k, v in parameters.items() if k not in secrets}
    hidden = {k: v for k, v in parameters.items() if k in secrets}
    # mkstemp creates the file 0600, readable by this user only
    fd, path = tempfile.mkstemp(prefix=f"attune-params-{execution_id}-")
    with os.fdopen(fd, "wb") as fh:
        fh.write(params.render(plain, fmt))
    return (params.render(hidden, fmt) if hidden else b""), path
