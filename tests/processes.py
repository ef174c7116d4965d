"""`attune` as a real subprocess (for the `attune up` and `attune serve` tests), and
a few blocking calls of its HTTP API through urllib."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
TERMINAL = {"completed", "failed", "cancelled", "timeout", "abandoned"}


def attune_command(*args: str) -> list[str]:
    return [sys.executable, "-c", "from attune.cli.main import main; main()", *args]


def clean_env(**extra: str) -> dict[str, str]:
    """This environment without any ATTUNE_* variable, plus `extra`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ATTUNE_")}
    env.update(extra)
    return env


def wait_until(probe: Callable[[], Any], *, timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = probe()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"{what}: not reached within {timeout} s")


def gone(pid: int) -> bool:
    """True when `pid` no longer runs (a zombie waiting for its reaper counts as gone)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return True
    return any(line.startswith("State:") and "Z" in line.split()[1]
               for line in status.splitlines())


@dataclass
class AttuneProcess:
    proc: subprocess.Popen[bytes]
    out: Path
    err: Path

    @classmethod
    def start(cls, args: list[str], env: dict[str, str], logs: Path) -> AttuneProcess:
        logs.mkdir(parents=True, exist_ok=True)
        n = len(list(logs.glob("*.out")))
        out, err = logs / f"{n}.out", logs / f"{n}.err"
        with out.open("wb") as o, err.open("wb") as e:
            proc = subprocess.Popen(attune_command(*args), stdout=o, stderr=e, env=env,
                                    cwd=REPO, stdin=subprocess.DEVNULL)
        return cls(proc, out, err)

    def stdout(self) -> str:
        return self.out.read_text()

    def stderr(self) -> str:
        return self.err.read_text()

    def wait_ready(self, api_url: str, timeout: float = 120) -> None:
        def ready() -> bool:
            if self.proc.poll() is not None:
                raise AssertionError(f"attune exited with {self.proc.returncode}:\n"
                                     f"{self.stdout()}\n{self.stderr()[-4000:]}")
            try:
                return http("GET", f"{api_url}/health/ready")[0] == 200
            except OSError:
                return False
        wait_until(ready, timeout=timeout, what=f"{api_url}/health/ready")

    def stop(self, sig: int = signal.SIGINT, timeout: float = 60) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError(f"attune did not stop within {timeout} s after signal "
                                 f"{sig}:\n{self.stderr()[-4000:]}") from None


def http(method: str, url: str, body: Any = None, token: str | None = None,
         headers: dict[str, str] | None = None) -> tuple[int, Any, dict[str, str]]:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method)
    request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    for name, value in (headers or {}).items():
        request.add_header(name, value)
    try:
        with urllib.request.urlopen(request, timeout=10) as resp:
            raw, status, got = resp.read(), resp.status, dict(resp.headers.items())
    except urllib.error.HTTPError as err:
        raw, status, got = err.read(), err.code, dict(err.headers.items())
    return status, json.loads(raw) if raw else None, got


def login(api_url: str, password: str, user: str = "admin") -> str:
    status, body, _ = http("POST", f"{api_url}/auth/login",
                           {"login": user, "password": password})
    assert status == 200, body
    return str(body["data"]["access_token"])


def run_to_end(api_url: str, token: str, action_ref: str, parameters: dict[str, Any],
               timeout: float = 30) -> dict[str, Any]:
    """Execute an action through the API and poll until it ends."""
    status, body, headers = http("POST", f"{api_url}/api/v1/executions/execute",
                                 {"action_ref": action_ref, "parameters": parameters}, token)
    assert status in (201, 202), body
    execution_id = body["data"]["id"]
    after = {"X-Attune-After-Sequence": headers.get("X-Attune-Sequence", "0")}

    def finished() -> dict[str, Any] | None:
        code, got, _ = http("GET", f"{api_url}/api/v1/executions/{execution_id}", token=token,
                            headers=after)
        return got["data"] if code == 200 and got["data"]["status"] in TERMINAL else None
    result: dict[str, Any] = wait_until(finished, timeout=timeout,
                                        what=f"execution {execution_id} to end")
    return result
