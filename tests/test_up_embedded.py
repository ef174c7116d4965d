"""`attune up` as a user runs it: a real process with embedded NATS and PostgreSQL,
stopped with Ctrl-C, restarted, killed, restarted again."""

from __future__ import annotations

import re
import signal
import socket
import subprocess
import threading
from pathlib import Path

from attune.embedded.datadir import DataDir
from attune.embedded.stack import EmbeddedStack
from tests.conftest import free_port
from tests.processes import (
    AttuneProcess,
    attune_command,
    clean_env,
    gone,
    http,
    login,
    run_to_end,
    wait_until,
)

_GENERATED = re.compile(r"^\s*Password\s+(\S+)\s+\(generated", re.MULTILINE)


class Ports:
    def __init__(self) -> None:
        self.api, self.notifier, self.nats, self.monitor, self.postgres = (
            free_port() for _ in range(5))

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.api}"

    def args(self, data_dir: Path) -> list[str]:
        return ["up", "--data-dir", str(data_dir), "--api-port", str(self.api),
                "--notifier-port", str(self.notifier), "--nats-port", str(self.nats),
                "--nats-monitor-port", str(self.monitor), "--postgres-port", str(self.postgres),
                "--sync-interval", "always"]


def server_pids(data: DataDir) -> list[int]:
    nats = int((data.nats_dir / "nats-server.pid").read_text().split()[0])
    postgres = int((data.postgres_dir / "postmaster.pid").read_text().split()[0])
    return [nats, postgres]


def test_up_keeps_data_across_stops_and_kills(tmp_path: Path) -> None:
    data = DataDir(tmp_path / "data")
    ports = Ports()
    env = clean_env()
    logs = tmp_path / "logs"

    first = AttuneProcess.start(ports.args(data.root), env, logs)
    try:
        first.wait_ready(ports.api_url)
        found = _GENERATED.search(first.stdout())
        assert found, first.stdout()
        password = found.group(1)
        assert ports.api_url in first.stdout()
        token = login(ports.api_url, password)
        execution = run_to_end(ports.api_url, token, "core.echo",
                               {"message": "kept across restarts"})
        assert execution["status"] == "completed"

        # a second `attune up` on the same data must not touch the running servers
        second_try = subprocess.run(attune_command(*ports.args(data.root)), env=env,
                                    capture_output=True, text=True, timeout=60,
                                    stdin=subprocess.DEVNULL)
        assert second_try.returncode == 1
        assert "another `attune up`" in second_try.stderr
        http("GET", f"{ports.api_url}/health/ready")  # still serving

        pids = server_pids(data)
        assert first.stop(signal.SIGINT) == 0
        assert all(gone(pid) for pid in pids), pids
    finally:
        first.stop(signal.SIGKILL)

    again = AttuneProcess.start(ports.args(data.root), env, logs)
    try:
        again.wait_ready(ports.api_url)
        assert not _GENERATED.search(again.stdout())  # the password is shown only once
        assert "as set on the first start" in again.stdout()
        token = login(ports.api_url, password)
        status, body, _ = http("GET", f"{ports.api_url}/api/v1/executions/{execution['id']}",
                               token=token)
        assert status == 200
        assert body["data"]["status"] == "completed"
        assert body["data"]["result"]["stdout"] == "kept across restarts\n"

        pids = server_pids(data)
        again.proc.kill()  # no chance to clean up: the servers must go anyway
        again.proc.wait(10)
        wait_until(lambda: all(gone(pid) for pid in pids), timeout=30,
                   what=f"servers {pids} to die with their parent")
    finally:
        again.stop(signal.SIGKILL)

    third = AttuneProcess.start(ports.args(data.root), env, logs)
    try:
        third.wait_ready(ports.api_url)
        token = login(ports.api_url, password)
        assert run_to_end(ports.api_url, token, "core.noop", {})["status"] == "completed"
        assert third.stop(signal.SIGTERM) == 0
    finally:
        third.stop(signal.SIGKILL)


def test_up_stops_servers_left_by_a_killed_run(tmp_path: Path) -> None:
    data = DataDir(tmp_path / "data")
    ports = Ports()
    # servers of an earlier run, still running on the data directory
    leftover = EmbeddedStack(data, nats_port=ports.nats, nats_monitor_port=ports.monitor,
                             postgres_port=ports.postgres)
    leftover.start()
    # they are this process's children: reap them when `attune up` stops them, as init
    # would for the orphans of a killed run
    assert leftover.nats and leftover.nats.proc and leftover.postgres and leftover.postgres.proc
    for proc in (leftover.nats.proc, leftover.postgres.proc):
        threading.Thread(target=proc.wait, daemon=True).start()
    try:
        pids = server_pids(data)
        up = AttuneProcess.start(ports.args(data.root),
                                 clean_env(ATTUNE_ADMIN_PASSWORD="a-password-of-mine"),
                                 tmp_path / "logs")
        try:
            up.wait_ready(ports.api_url)
            assert all(gone(pid) for pid in pids)
            assert server_pids(data) != pids
            assert "from ATTUNE_ADMIN_PASSWORD" in up.stdout()
            login(ports.api_url, "a-password-of-mine")
            assert up.stop(signal.SIGINT) == 0
        finally:
            up.stop(signal.SIGKILL)
    finally:
        leftover.stop()


def _up(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(attune_command("up", *args), env=clean_env(**env),
                          capture_output=True, text=True, timeout=60,
                          stdin=subprocess.DEVNULL)


def test_up_refuses_a_port_in_use_naming_the_flag(tmp_path: Path) -> None:
    ports = Ports()
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", ports.api))
        taken.listen()
        done = _up(*ports.args(tmp_path / "data")[1:])
    assert done.returncode == 1
    assert f"port {ports.api} (--api-port) is already in use" in done.stderr
    assert "ATTUNE_API_PORT" in done.stderr
    assert not (tmp_path / "data" / "nats").exists()  # nothing was started


def test_up_refuses_the_same_port_twice(tmp_path: Path) -> None:
    port = str(free_port())
    done = _up("--data-dir", str(tmp_path), "--api-port", port, "--nats-port", port)
    assert done.returncode == 1
    assert "--api-port and --nats-port are both" in done.stderr


def test_up_with_one_external_server_names_the_other(tmp_path: Path) -> None:
    done = _up("--data-dir", str(tmp_path), ATTUNE_NATS_URL="nats://127.0.0.1:1")
    assert done.returncode == 1
    assert "ATTUNE_DATABASE_URL is not set" in done.stderr


def test_up_rejects_a_bad_sync_interval(tmp_path: Path) -> None:
    done = _up("--data-dir", str(tmp_path), "--sync-interval", "sometimes")
    assert done.returncode == 1
    assert "sync interval 'sometimes' is not valid" in done.stderr
