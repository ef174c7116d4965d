"""Running actions as real child processes (no servers needed)."""

from __future__ import annotations

import asyncio
import os
import stat
import time
from pathlib import Path

import pytest

from attune.domain.action import ActionDef
from attune.domain.runtime import RuntimeDef
from attune.worker import output, params, runner
from attune.worker.environments import Environments
from attune.worker.prepare import Facilities
from attune.worker.runner import RunRequest, run
from attune.worker.runtimes import RuntimeCatalog


def action(pack: Path, script: str, body: str, **fields: object) -> ActionDef:
    (pack / "actions").mkdir(parents=True, exist_ok=True)
    (pack / "actions" / script).write_text(body)
    return ActionDef.model_validate({"ref": "t.a", "pack_ref": "t", "name": "a", "label": "a",
                                     "runtime": "shell", "entry_point": script, **fields})


def request(act: ActionDef, pack: Path, parameters: dict[str, object] | None = None,
            timeout: int = 30, env_vars: dict[str, str] | None = None) -> RunRequest:
    return RunRequest(execution_id=5, action=act, pack_path=str(pack),
                      parameters=dict(parameters or {}), env_vars=env_vars or {},
                      timeout_seconds=timeout, api_url="http://127.0.0.1:8080")


async def test_json_on_stdin_and_json_output(tmp_path: Path) -> None:
    act = action(tmp_path, "a.sh", 'read line\necho "log line"\necho "$line"\n',
                 output_format="json")
    outcome = await run(request(act, tmp_path, {"x": [1, "two"]}))
    assert outcome.exit_code == 0
    assert outcome.data == {"x": [1, "two"]}


async def test_environment_is_clean_and_attune_vars_win(tmp_path: Path) -> None:
    os.environ["ATTUNE_JWT_SECRET"] = "must-not-leak"
    try:
        act = action(tmp_path, "a.sh", "env\n")
        outcome = await run(request(act, tmp_path, env_vars={"ATTUNE_EXEC_ID": "999",
                                                             "MY_VAR": "v"}))
    finally:
        del os.environ["ATTUNE_JWT_SECRET"]
    lines = set(outcome.stdout.splitlines())
    assert "ATTUNE_EXEC_ID=5" in lines and "MY_VAR=v" in lines
    assert "ATTUNE_ACTION=t.a" in lines
    assert not any("must-not-leak" in ln for ln in lines)


async def test_failure_keeps_exit_code_and_stderr(tmp_path: Path) -> None:
    act = action(tmp_path, "a.sh", "echo oops >&2\nexit 4\n")
    outcome = await run(request(act, tmp_path))
    assert outcome.exit_code == 4 and outcome.stderr == "oops\n"


async def test_timeout_kills_the_process_group(tmp_path: Path) -> None:
    marker = tmp_path / "child.pid"
    act = action(tmp_path, "a.sh", f"sleep 30 &\necho $! > {marker}\nwait\n")
    outcome = await run(request(act, tmp_path, timeout=1))
    assert outcome.error == "timed out after 1 s"
    assert _gone(int(marker.read_text()))


async def test_output_is_capped_and_flagged(tmp_path: Path) -> None:
    act = action(tmp_path, "a.sh", "head -c 400000 /dev/zero | tr '\\0' 'a'\n")
    outcome = await run(request(act, tmp_path))
    assert outcome.stdout_truncated and len(outcome.stdout) == 256 * 1024


async def test_file_delivery_and_missing_entry(tmp_path: Path) -> None:
    act = action(tmp_path, "a.sh", 'cat "$ATTUNE_PARAMETER_FILE"\n',
                 parameter_delivery="file", parameter_format="yaml")
    outcome = await run(request(act, tmp_path, {"k": "v"}))
    assert outcome.stdout == "k: v\n"
    gone = act.model_copy(update={"entry_point": "nope.sh"})
    outcome = await run(request(gone, tmp_path))
    assert outcome.exit_code is None and "not found" in (outcome.error or "")


def test_output_parsers() -> None:
    assert output.parse("x\n{\"a\": 1}\n", "json") == {"a": 1}
    assert output.parse("not json", "json") is None
    assert output.parse("a: [1, 2]\n", "yaml") == {"a": [1, 2]}
    assert output.parse('{"a":1}\nbad\n[2]\n', "jsonl") == [{"a": 1}, [2]]
    assert output.parse("anything", "text") is None


def test_dotenv_rendering_escapes() -> None:
    rendered = params.render({"a": "x\ny\\z", "b": 3, "c": None}, "dotenv").decode()
    assert rendered == 'a="x\\ny\\\\z"\nb="3"\n'


# -- runtimes, environment, parameter delivery, signals (real processes) -----------------


def facilities(tmp: Path, runtimes: dict[str, RuntimeDef] | None = None) -> Facilities:
    async def load(ref: str) -> RuntimeDef | None:
        return (runtimes or {}).get(ref)
    return Facilities(RuntimeCatalog(load), Environments(tmp / "envs"), tmp / "artifacts")


def typed(pack: Path, script: str, body: str, runtime: str, **fields: object) -> ActionDef:
    return action(pack, script, body, runtime=runtime, **fields)


async def test_each_core_runtime_runs_its_interpreter(tmp_path: Path) -> None:
    fac = facilities(tmp_path)
    cases = [
        ("shell", "a.sh", 'read line; echo "sh:$line"\n', 'sh:{"n":1}'),
        ("python", "a.py", "import json, sys\nprint('py:' + json.dumps(json.load(sys.stdin)))\n",
         'py:{"n": 1}'),
        ("nodejs", "a.js", "let d='';process.stdin.on('data',c=>d+=c);"
                           "process.stdin.on('end',()=>console.log('js:'+d.trim()));\n",
         'js:{"n":1}'),
        ("native", "a.run", '#!/bin/sh\nread line; echo "native:$line"\n', 'native:{"n":1}'),
    ]
    for runtime, script, body, expected in cases:
        act = typed(tmp_path, script, body, runtime)
        if runtime == "native":
            entry = tmp_path / "actions" / script
            entry.chmod(entry.stat().st_mode | stat.S_IXUSR)
        outcome = await run(request(act, tmp_path, {"n": 1}), facilities=fac)
        assert outcome.exit_code == 0, (runtime, outcome)
        assert outcome.stdout.strip() == expected


async def test_native_entry_must_be_executable(tmp_path: Path) -> None:
    act = typed(tmp_path, "a.bin", "#!/bin/sh\necho hi\n", "native")
    outcome = await run(request(act, tmp_path), facilities=facilities(tmp_path))
    assert outcome.exit_code is None and "not executable" in (outcome.error or "")


async def test_context_variables_and_user_env(tmp_path: Path) -> None:
    act = action(tmp_path, "a.sh", "env\n")
    req = RunRequest(execution_id=77, action=act, pack_path=str(tmp_path), parameters={},
                     env_vars={"ATTUNE_API_TOKEN": "forged", "DEBUG": "1"}, timeout_seconds=30,
                     api_url="http://api", api_token="tok.en.x", rule_ref="p.rule",
                     trigger_ref="core.intervaltimer")
    outcome = await run(req, facilities=facilities(tmp_path))
    env = dict(line.split("=", 1) for line in outcome.stdout.splitlines() if "=" in line)
    assert env["ATTUNE_API_TOKEN"] == "tok.en.x" and env["DEBUG"] == "1"
    assert env["ATTUNE_RULE"] == "p.rule" and env["ATTUNE_TRIGGER"] == "core.intervaltimer"
    assert env["ATTUNE_PACK_REF"] == "t" and env["ATTUNE_API_URL"] == "http://api"
    assert env["ATTUNE_ARTIFACTS_DIR"] == str(tmp_path / "artifacts" / "77")
    assert Path(env["ATTUNE_ARTIFACTS_DIR"]).is_dir()
    assert env["ATTUNE_RUNTIME_ENVS_DIR"] == str(tmp_path / "envs")
    no_rule = await run(request(act, tmp_path), facilities=facilities(tmp_path))
    assert "ATTUNE_RULE=" not in no_rule.stdout and "ATTUNE_API_TOKEN=" not in no_rule.stdout


SECRET_SCHEMA = {"user": {"type": "string"}, "password": {"type": "string", "secret": True}}


@pytest.mark.parametrize("fmt", ["json", "dotenv", "yaml"])
async def test_file_delivery_keeps_secrets_on_stdin(tmp_path: Path, fmt: str) -> None:
    script = ('f="$ATTUNE_PARAMETER_FILE"; stat -c %a "$f"; echo ---; cat "$f"; echo ---; '
              'cat; echo; echo "$f"\n')
    act = action(tmp_path, "a.sh", script, parameter_delivery="file", parameter_format=fmt,
                 parameters=SECRET_SCHEMA)
    outcome = await run(request(act, tmp_path, {"user": "ann", "password": "s3cr3t-pw"}),
                        facilities=facilities(tmp_path))
    mode, file_part, rest = outcome.stdout.split("---\n")
    stdin_part, path = rest.rstrip("\n").rsplit("\n", 1)
    assert mode.strip() == "600"
    assert "ann" in file_part and "s3cr3t-pw" not in file_part
    assert "s3cr3t-pw" in stdin_part and "ann" not in stdin_part
    assert path.startswith("/") and not Path(path).exists()  # removed after the run


async def test_secret_never_in_environ_or_argv_of_the_running_process(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ATTUNE_JWT_SECRET", "platform-jwt-secret-value")
    monkeypatch.setenv("ATTUNE_ENCRYPTION_KEY", "platform-encryption-key-value")
    monkeypatch.setenv("ATTUNE_DATABASE_URL", "postgresql://u:dbpass@host/db")
    pid_file = tmp_path / "pid"
    body = ("import json, os, sys, time\np = json.load(sys.stdin)\n"
            f"open({str(pid_file)!r}, 'w').write(str(os.getpid()))\n"
            "print('secret length', len(p['password']), flush=True)\ntime.sleep(30)\n")
    act = typed(tmp_path, "a.py", body, "python", parameters=SECRET_SCHEMA)
    cancel = asyncio.Event()
    running = asyncio.create_task(run(request(act, tmp_path, {"user": "ann",
                                                              "password": "s3cr3t-pw"}),
                                      cancel, facilities=facilities(tmp_path)))
    for _ in range(200):
        if pid_file.exists() and pid_file.read_text():
            break
        await asyncio.sleep(0.05)
    pid = int(pid_file.read_text())
    environ = Path(f"/proc/{pid}/environ").read_bytes()
    cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    cancel.set()
    outcome = await running
    for leaked in (b"s3cr3t-pw", b"platform-jwt-secret-value", b"platform-encryption-key",
                   b"dbpass"):
        assert leaked not in environ and leaked not in cmdline
        assert leaked.decode() not in outcome.stdout + outcome.stderr
    assert b"ATTUNE_EXEC_ID=5" in environ
    assert outcome.cancelled and "secret length 9" in outcome.stdout


async def test_signals_escalate_to_sigkill_for_the_whole_group(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(runner, "GRACE_SECONDS", 0.3)
    marker = tmp_path / "child.pid"
    # both the script and its child ignore SIGINT and SIGTERM: only SIGKILL ends them
    act = action(tmp_path, "a.sh", f"trap '' INT TERM\nsleep 60 &\necho $! > {marker}\n"
                                   "while :; do sleep 1; done\n")
    outcome = await run(request(act, tmp_path, timeout=1), facilities=facilities(tmp_path))
    assert outcome.timed_out and outcome.error == "timed out after 1 s"
    assert outcome.exit_code == -9
    assert _gone(int(marker.read_text()))


async def test_cancel_stops_a_running_action(tmp_path: Path) -> None:
    act = action(tmp_path, "a.sh", "echo started\nsleep 60\n")
    cancel = asyncio.Event()
    task = asyncio.create_task(run(request(act, tmp_path), cancel,
                                   facilities=facilities(tmp_path)))
    await asyncio.sleep(0.3)
    cancel.set()
    outcome = await task
    assert outcome.cancelled and not outcome.timed_out and outcome.stdout == "started\n"


async def test_children_left_behind_do_not_outlive_the_action(tmp_path: Path) -> None:
    marker = tmp_path / "child.pid"
    act = action(tmp_path, "a.sh", f"sleep 60 >/dev/null 2>&1 &\necho $! > {marker}\nexit 0\n")
    outcome = await run(request(act, tmp_path), facilities=facilities(tmp_path))
    assert outcome.exit_code == 0
    assert _gone(int(marker.read_text()))


def _gone(pid: int) -> bool:
    """Dead (or a zombie) within a second: SIGKILL is delivered asynchronously."""
    path = Path(f"/proc/{pid}/stat")
    for _ in range(100):
        try:
            if path.read_text().split()[2] == "Z":
                return True
        except FileNotFoundError:
            return True
        time.sleep(0.01)
    return False


async def test_python_actions_import_the_sdk(tmp_path: Path) -> None:
    body = ("import attune\n\ndef main(x: int) -> dict:\n    return {'doubled': x * 2, "
            "'exec': attune.context.execution_id}\n\nattune.run_action(main)\n")
    act = typed(tmp_path, "a.py", body, "python", output_format="json")
    fac = facilities(tmp_path)
    fac.sdk_root = tmp_path / "sdk"
    outcome = await run(request(act, tmp_path, {"x": 21}), facilities=fac)
    assert outcome.exit_code == 0, outcome.stderr
    assert outcome.data["doubled"] == 42 and str(outcome.data["exec"]) == "5"


async def test_a_child_outliving_its_parent_still_gets_sigterm_first(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(runner, "GRACE_SECONDS", 1.0)
    log = tmp_path / "child.log"
    # the script dies on SIGINT; its child ignores SIGINT and exits cleanly on SIGTERM
    act = action(tmp_path, "a.sh", (
        f"sh -c 'trap \"\" INT; trap \"echo got-term >> {log}; exit 0\" TERM; "
        "while :; do sleep 0.05; done' &\nwait\n"))
    outcome = await run(request(act, tmp_path, timeout=1), facilities=facilities(tmp_path))
    assert outcome.timed_out
    assert log.read_text() == "got-term\n"
