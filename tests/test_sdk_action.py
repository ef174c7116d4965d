"""The action protocol as an action sees it: real subprocesses running with only the
exported SDK directory on the path (no site-packages, clean environment), JSON on
stdin, one JSON line and an exit status out. Also: `import attune` loads no server
module, and the original SDK's module paths work."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from attune.sdk.bundle import export_sdk, sdk_digest

HELLO = """
import attune

def main(name: str, count: int = 1):
    if name == "boom":
        raise ValueError("bad name")
    print("a line the action printed itself")
    return {"greeting": f"Hello, {name}!" * count}

attune.run_action(main)
"""

KWARGS = """
import attune

def main(name, **kwargs):
    return {"name": name, "others": sorted(kwargs)}

attune.run_action(main)
"""

CONTEXT = """
import attune

def main():
    c = attune.context
    return {"action": c.action_ref, "pack": c.pack_ref, "exec_id": c.execution_id,
            "api_url": c.api_url, "has_token": c.has_api_token, "rule": c.rule_ref,
            "trigger": c.trigger_ref, "artifacts": str(c.artifacts_dir),
            "client_token_matches": c.client.token == "tok-123",
            "client_base": c.client.base_url}

attune.run_action(main)
"""


@pytest.fixture(scope="module")
def sdk_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return export_sdk(tmp_path_factory.mktemp("sdk"))


def run_script(sdk_dir: Path, tmp_path: Path, source: str, stdin: str,
               env: dict[str, str] | None = None) -> tuple[int, list[str], str]:
    script = tmp_path / "action.py"
    script.write_text(textwrap.dedent(source))
    # -S: no site-packages (the SDK must need nothing installed); -s: no user site.
    # The environment holds only what a worker would give plus the SDK directory.
    clean = {"PYTHONPATH": str(sdk_dir), "PATH": "/usr/bin:/bin", **(env or {})}
    done = subprocess.run([sys.executable, "-S", "-s", str(script)], input=stdin,
                          capture_output=True, text=True, env=clean, timeout=60, check=False)
    return done.returncode, done.stdout.splitlines(), done.stderr


def last_json(lines: list[str]) -> Any:
    assert lines, "the action printed nothing"
    return json.loads(lines[-1])


@pytest.mark.parametrize(("stdin", "rc", "result"), [
    ('{"name": "A", "count": 2, "extra": 1}', 0, {"greeting": "Hello, A!Hello, A!"}),
    ('{"name": "boom"}', 1, {"success": False, "error": "bad name"}),
    ("{}", 1, {"success": False,
               "error": "main() missing 1 required positional argument: 'name'"}),
    ("not json", 1, {"success": False, "error": "Expecting value: line 1 column 1 (char 0)"}),
    ("[1, 2]", 1, {"success": False, "error": "parameters must be a JSON object, got list"}),
])
def test_action_protocol(sdk_dir: Path, tmp_path: Path, stdin: str, rc: int,
                         result: dict[str, Any]) -> None:
    code, lines, stderr = run_script(sdk_dir, tmp_path, HELLO, stdin)
    assert code == rc, stderr
    # exactly the contract's line: no traceback details, stderr is not a terminal
    assert last_json(lines) == result


def test_prints_stay_before_the_result_line(sdk_dir: Path, tmp_path: Path) -> None:
    code, lines, _ = run_script(sdk_dir, tmp_path, HELLO, '{"name": "B"}')
    assert code == 0
    assert lines == ["a line the action printed itself", '{"greeting": "Hello, B!"}']


def test_kwargs_receives_every_parameter(sdk_dir: Path, tmp_path: Path) -> None:
    code, lines, _ = run_script(sdk_dir, tmp_path, KWARGS,
                                '{"name": "x", "b": 1, "a": [1], "c": null}')
    assert code == 0
    assert last_json(lines) == {"name": "x", "others": ["a", "b", "c"]}


def test_file_delivery_merges_the_file_and_stdin(sdk_dir: Path, tmp_path: Path) -> None:
    # `parameter_delivery: file`: plain parameters in the file, secrets still on stdin
    params = tmp_path / "params.json"
    params.write_text('{"name": "F", "region": "eu"}')
    env = {"ATTUNE_PARAMETER_FILE": str(params)}
    code, lines, _ = run_script(sdk_dir, tmp_path, KWARGS, '{"password": "s3cret"}', env)
    assert code == 0
    assert last_json(lines) == {"name": "F", "others": ["password", "region"]}
    params.write_text("name=F")  # a dotenv file: run_action reads JSON only, and says so
    code, lines, _ = run_script(sdk_dir, tmp_path, KWARGS, "", env)
    assert code == 1
    assert "run_action reads parameter_format json" in last_json(lines)["error"]


@pytest.mark.parametrize(("body", "printed"), [
    ("return None", {}),
    ("return ['list', 1]", ["list", 1]),
    ("return 'text'", "text"),
    ("import datetime; return {'at': datetime.date(2026, 1, 2)}", {"at": "2026-01-02"}),
])
def test_results_of_any_json_shape(sdk_dir: Path, tmp_path: Path, body: str,
                                   printed: Any) -> None:
    source = f"import attune\ndef main():\n    {body}\nattune.run_action(main)\n"
    code, lines, _ = run_script(sdk_dir, tmp_path, source, "")
    assert code == 0
    assert last_json(lines) == printed


def test_system_exit_is_not_an_error_result(sdk_dir: Path, tmp_path: Path) -> None:
    source = "import attune, sys\ndef main():\n    sys.exit(3)\nattune.run_action(main)\n"
    code, lines, _ = run_script(sdk_dir, tmp_path, source, "")
    assert (code, lines) == (3, [])


def test_catch_exceptions_false_propagates(sdk_dir: Path, tmp_path: Path) -> None:
    source = ("import attune\ndef main():\n    raise KeyError('k')\n"
              "attune.run_action(main, catch_exceptions=False)\n")
    code, lines, stderr = run_script(sdk_dir, tmp_path, source, "")
    assert code == 1 and lines == []
    assert "KeyError: 'k'" in stderr


def test_async_entrypoint_is_awaited(sdk_dir: Path, tmp_path: Path) -> None:
    source = ("import attune\nasync def main(x: int):\n    return {'double': x * 2}\n"
              "attune.run_action(main)\n")
    code, lines, _ = run_script(sdk_dir, tmp_path, source, '{"x": 21}')
    assert code == 0 and last_json(lines) == {"double": 42}


def test_context_from_the_environment(sdk_dir: Path, tmp_path: Path) -> None:
    env = {"ATTUNE_ACTION": "mypack.deploy", "ATTUNE_PACK_REF": "mypack",
           "ATTUNE_EXEC_ID": "42", "ATTUNE_API_URL": "http://api.example:9000/",
           "ATTUNE_API_TOKEN": "tok-123", "ATTUNE_RULE": "mypack.on_push",
           "ATTUNE_TRIGGER": "mypack.push", "ATTUNE_ARTIFACTS_DIR": str(tmp_path)}
    code, lines, stderr = run_script(sdk_dir, tmp_path, CONTEXT, "", env)
    assert code == 0, stderr
    assert last_json(lines) == {
        "action": "mypack.deploy", "pack": "mypack", "exec_id": "42",
        "api_url": "http://api.example:9000", "has_token": True, "rule": "mypack.on_push",
        "trigger": "mypack.push", "artifacts": str(tmp_path), "client_token_matches": True,
        "client_base": "http://api.example:9000"}


def test_context_client_without_token_says_why(sdk_dir: Path, tmp_path: Path) -> None:
    code, lines, _ = run_script(sdk_dir, tmp_path, CONTEXT, "")
    assert code == 1
    result = last_json(lines)
    assert result["success"] is False
    assert result["error"].startswith("No API token available.")


def test_exported_sdk_is_only_the_sdk(sdk_dir: Path, tmp_path: Path) -> None:
    files = {p.relative_to(sdk_dir).as_posix() for p in sdk_dir.rglob("*.py")}
    assert "attune/__init__.py" in files and "attune/sdk/sensor.py" in files
    assert all(f == "attune/__init__.py" or f.startswith("attune/sdk/") for f in files)
    assert sdk_dir.name == sdk_digest()
    assert export_sdk(sdk_dir.parent) == sdk_dir  # exported once, then reused
    # every SDK name and alias module resolves with nothing but the standard library
    source = """
    import sys, attune
    for name in attune.__all__:
        getattr(attune, name)
    import attune.context, attune.action, attune.artifacts, attune.client
    from attune.api_client.api.packs import list_packs
    from attune.api_client.api.events import create_event
    print(sorted(m for m in sys.modules if m.startswith("attune")
                 and not m.startswith(("attune.sdk", "attune.api_client", "attune.action",
                                       "attune.context", "attune.artifacts", "attune.client"))))
    """
    code, lines, stderr = run_script(sdk_dir, tmp_path, source, "")
    assert code == 0, stderr
    assert lines == ["['attune']"]


SERVER_MODULES = ("nats", "asyncpg", "aiohttp", "pydantic", "orjson", "yaml", "structlog",
                  "jwt", "argon2", "cryptography", "click", "rich", "attune.api",
                  "attune.app", "attune.eventstore", "attune.readmodel", "attune.domain",
                  "attune.worker", "attune.sensor", "attune.executor", "attune.cli")


def test_import_attune_pulls_in_no_server_module() -> None:
    # The installed package (site-packages available): everything the SDK offers is
    # touched, and still no server dependency or server module is loaded.
    source = textwrap.dedent("""
    import json, sys, attune
    for name in attune.__all__:
        getattr(attune, name)
    import attune.context
    from attune.api_client.api import packs, rules, events
    print(json.dumps(sorted(sys.modules)))
    """)
    env = {k: v for k, v in os.environ.items() if not k.startswith("ATTUNE_")}
    done = subprocess.run([sys.executable, "-c", source], capture_output=True, text=True,
                          env=env, timeout=60, check=True)
    loaded = json.loads(done.stdout)
    offending = [m for m in loaded
                 if any(m == s or m.startswith(s + ".") for s in SERVER_MODULES)]
    assert offending == []
    assert "attune.sdk.sensor" in loaded


def test_plain_import_loads_no_sdk_module() -> None:
    # Servers and the CLI import `attune` too: the SDK is only loaded when used.
    source = "import json, sys, attune; print(json.dumps(sorted(sys.modules)))"
    done = subprocess.run([sys.executable, "-c", source], capture_output=True, text=True,
                          timeout=60, check=True)
    assert [m for m in json.loads(done.stdout) if m.startswith("attune.")] == []


def test_original_module_paths_and_the_context_quirk() -> None:
    import attune

    assert type(attune.context).__name__ == "ActionContext"
    import importlib

    import attune.context

    # the module is importable by its old name, yet the attribute stays the instance
    # (as in the original SDK, `import attune.context as m` therefore gives the instance)
    context_module = importlib.import_module("attune.context")
    assert context_module is sys.modules["attune.sdk.context"]
    assert attune.context is context_module.action_context
    from attune.action import emit_error, emit_result, read_params
    from attune.context import (
        EnvSensorTokenProvider,
        FileSensorTokenProvider,
        SensorTokenState,
        _build_sensor_context,
    )

    assert callable(read_params) and callable(emit_result) and callable(emit_error)
    assert _build_sensor_context({"ATTUNE_SENSOR_REF": "p.s"}).pack_ref == "p"
    assert SensorTokenState("t").token == "t"
    assert EnvSensorTokenProvider and FileSensorTokenProvider
    assert attune.artifacts.ArtifactHelperError.__mro__[1] is RuntimeError
    assert attune.__version__ == "0.1.0"
    assert {"run_action", "context", "sensor_context", "Sensor", "PollingSensor",
            "AsyncPollingSensor", "RuleState", "run_sensor", "AttuneClient",
            "AuthenticatedClient", "Client", "allocate_file_version",
            "create_progress"} <= set(attune.__all__)
