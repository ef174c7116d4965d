"""The embedded servers of `attune up`: NATS (JetStream) and PostgreSQL as child
processes with their data under one data directory, on loopback ports.

Order matters: servers a killed run left behind are stopped first (their pid files
are in the data directory), then the ports are checked, so a port still held by
such a leftover is not reported as taken by someone else.
"""

from __future__ import annotations

import contextlib
import re
import signal
import socket
from dataclasses import dataclass, field

import asyncpg

import attune.log as log
from attune.embedded.datadir import DataDir
from attune.embedded.nats_server import NatsServer
from attune.embedded.postgres import PostgresServer
from attune.embedded.process import stop_stale
from attune.errors import BadRequestError, ConflictError

DATABASE = "attune"
#: nats-server's JetStream `sync_interval`: "always" (fsync every write) or a duration
_SYNC_INTERVAL = re.compile(r"^(always|[1-9][0-9]*(ms|s|m|h))$")

_log = log.get("embedded")


def check_sync_interval(value: str) -> str:
    if not _SYNC_INTERVAL.match(value):
        raise BadRequestError(
            f"sync interval {value!r} is not valid: use 'always' (fsync every write) or a "
            "duration such as 500ms, 1s, 2m")
    return value


def check_ports(ports: dict[str, int], reserved: dict[str, int] | None = None) -> None:
    """Refuse duplicate ports and ports something else already listens on, naming
    the flag that chooses each. `reserved` ports (for services of later versions) only
    have to differ from the others."""
    seen: dict[int, str] = {}
    for name, port in {**ports, **(reserved or {})}.items():
        if port in seen:
            raise BadRequestError(f"--{name} and --{seen[port]} are both {port}: "
                                  "each needs its own port")
        seen[port] = name
    for name, port in ports.items():
        with socket.socket() as sock:
            # the servers set SO_REUSEADDR too: a port in TIME_WAIT is free for them
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                env = "ATTUNE_" + name.upper().replace("-", "_")
                raise ConflictError(
                    f"port {port} (--{name}) is already in use on 127.0.0.1: stop what "
                    f"uses it or choose another with --{name} or {env}") from None


@dataclass
class EmbeddedStack:
    data: DataDir
    nats_port: int = 4222
    nats_monitor_port: int = 8222
    postgres_port: int = 5432
    sync_interval: str = "1s"
    #: ports of the services in this process, checked together with the servers'
    service_ports: dict[str, int] = field(default_factory=dict)
    reserved_ports: dict[str, int] = field(default_factory=dict)
    nats: NatsServer | None = None
    postgres: PostgresServer | None = None

    @property
    def nats_url(self) -> str:
        return f"nats://127.0.0.1:{self.nats_port}"

    @property
    def database_url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.postgres_port}/{DATABASE}"

    def stop_leftovers(self) -> list[int]:
        """Stop servers of an earlier run that was killed before it could stop them."""
        stopped = [pid for pid in (
            stop_stale(self.data.nats_dir / "nats-server.pid", "nats-server"),
            stop_stale(self.data.postgres_dir / "postmaster.pid", "postgres",
                       sig=signal.SIGINT),  # SIGINT = fast shutdown,
        ) if pid is not None]
        for pid in stopped:
            _log.warning("embedded.stale_server_stopped", pid=pid)
        return stopped

    def start(self) -> None:
        """Start both servers (blocking until they accept connections). On failure
        whatever was started is stopped again."""
        check_sync_interval(self.sync_interval)
        self.data.create()
        self.stop_leftovers()
        check_ports({"nats-port": self.nats_port, "nats-monitor-port": self.nats_monitor_port,
                     "postgres-port": self.postgres_port, **self.service_ports},
                    self.reserved_ports)
        try:
            self.nats = NatsServer(self.data.nats_dir, self.nats_port, self.nats_monitor_port,
                                   sync_interval=self.sync_interval)
            self.nats.start()
            self.postgres = PostgresServer(self.data.postgres_dir, self.postgres_port)
            self.postgres.start()
        except BaseException:
            self.stop()
            raise
        _log.info("embedded.started", nats=self.nats_url, postgres=self.database_url,
                  data_dir=str(self.data.root))

    def stop(self) -> None:
        """Stop PostgreSQL, then NATS; each is given its graceful shutdown first."""
        if self.postgres is not None:
            with contextlib.suppress(Exception):
                self.postgres.stop()
        if self.nats is not None:
            with contextlib.suppress(Exception):
                self.nats.stop()
        self.postgres = self.nats = None

    async def ensure_database(self) -> bool:
        """Create the `attune` database on first start. Returns True when created."""
        url = f"postgresql://postgres@127.0.0.1:{self.postgres_port}/postgres"
        conn = await asyncpg.connect(url)
        try:
            if await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", DATABASE):
                return False
            await conn.execute(f'CREATE DATABASE "{DATABASE}"')
        finally:
            await conn.close()
        return True
