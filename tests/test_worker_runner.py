"""Running actions as real child processes (no servers needed)."""

from __future__ import annotations

import os
from pathlib import Path

from attune.domain.action import ActionDef
from attune.worker import output, params
from attune.worker.runner import RunRequest, run


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
    child = int(marker.read_text())
    assert not Path(f"/proc/{child}").exists() or \
        Path(f"/proc/{child}/stat").read_text().split()[2] == "Z"


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
