"""The action protocol: parameters arrive as one JSON object on stdin, the result leaves
as one JSON line on stdout.

    import attune

    def main(name: str, count: int = 1):
        return {"greeting": f"Hello, {name}!" * count}

    attune.run_action(main)

With file delivery the worker names a file in `ATTUNE_PARAMETER_FILE` and keeps secret
parameters on stdin: both are read. Parameters are matched to the function's
signature; extras are dropped unless it takes `**kwargs`. Success prints the result
(`None` prints `{}`) and exits 0; any exception prints `{"success": false, "error":
"<message>"}` (plus `details`, the traceback, when stderr is a terminal) and exits 1.
What the function itself prints stays on stdout before the result line: the worker
reads the last line.
"""

from __future__ import annotations

import inspect
import json
import os
import sys
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn


def _parse(raw: str) -> dict[str, Any]:
    raw = raw.strip()
    if not raw:
        return {}
    params = json.loads(raw)
    if not isinstance(params, dict):
        raise ValueError(f"parameters must be a JSON object, got {type(params).__name__}")
    return params


def read_params() -> dict[str, Any]:
    """The parameters: the JSON object on stdin (`{}` when empty) and, when the action
    uses file delivery, the one in `ATTUNE_PARAMETER_FILE` (the worker keeps secret
    parameters on stdin even then, so both are read and merged)."""
    params = _parse(sys.stdin.read())
    path = os.environ.get("ATTUNE_PARAMETER_FILE")
    if path:
        try:
            from_file = _parse(Path(path).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ValueError(f"cannot read the parameters in ATTUNE_PARAMETER_FILE "
                             f"({path}): {exc} (run_action reads parameter_format json)"
                             ) from exc
        params = {**from_file, **params}
    return params


def select_params(entrypoint: Callable[..., Any], params: dict[str, Any]) -> dict[str, Any]:
    """The parameters the function accepts: all of them with `**kwargs`, else only the
    names it declares (a missing required one is left for the call to report)."""
    signature = inspect.signature(entrypoint)
    accepted = signature.parameters.values()
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in accepted):
        return dict(params)
    names = {p.name for p in accepted
             if p.kind in (inspect.Parameter.POSITIONAL_OR_KEYWORD,
                           inspect.Parameter.KEYWORD_ONLY)}
    return {key: value for key, value in params.items() if key in names}


def emit_result(payload: Any) -> None:
    """Print the result line (`None` becomes `{}`; anything not JSON becomes its str)."""
    print(json.dumps({} if payload is None else payload, default=str), flush=True)


def emit_error(message: str, *, details: str | None = None) -> None:
    error: dict[str, Any] = {"success": False, "error": message}
    if details is not None:
        error["details"] = details
    print(json.dumps(error, default=str), flush=True)


def run_action(entrypoint: Callable[..., Any], *, catch_exceptions: bool = True) -> NoReturn:
    """Read the parameters, call `entrypoint`, print its result and exit (see the module
    docstring). With `catch_exceptions=False` an exception propagates instead."""
    try:
        result = entrypoint(**select_params(entrypoint, read_params()))
        if inspect.isawaitable(result):
            import asyncio

            async def _await(awaitable: Any) -> Any:
                return await awaitable

            result = asyncio.run(_await(result))
    except SystemExit:
        raise
    except Exception as exc:
        if not catch_exceptions:
            raise
        # The traceback only for a person at a terminal: the worker stores stdout.
        details = traceback.format_exc() if _stderr_is_tty() else None
        emit_error(str(exc), details=details)
        sys.exit(1)
    emit_result(result)
    sys.exit(0)


def _stderr_is_tty() -> bool:
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):
        return False
