"""Starting action processes: cold (a new process per execution) or warm (Python
actions forked from a pre-started interpreter of their pack environment).

A warm start skips the interpreter's start-up and the common imports: one fork server
(attune/worker/forkserver.py) per interpreter — the system Python or a pack's
virtualenv — started on first use and kept. Each execution is a fresh fork of that
untouched server, in its own session, so isolation holds: state an action leaks or a
crash it has dies with its process. The launch plan (argv, env, cwd) is the same as a
cold start's; anything the server cannot do like `python -u script.py` starts cold, and
so does everything when the server cannot start (`ATTUNE_WARM_PYTHON=0` disables it).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import os
import shutil
import socket
import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, Protocol

import attune.log as log

FORKSERVER = Path(__file__).with_name("forkserver.py")
#: Interpreter options a warm start reproduces (the core runtime passes -u).
WARM_OPTIONS = frozenset({"-u"})
START_TIMEOUT = 30.0
_log = log.get("worker.warm")


class Child(Protocol):
    """What the runner needs of a started action process (asyncio's Process has it)."""

    stdin: asyncio.StreamWriter | None
    stdout: asyncio.StreamReader | None
    stderr: asyncio.StreamReader | None

    @property
    def pid(self) -> int: ...

    @property
    def returncode(self) -> int | None: ...

    async def wait(self) -> int: ...


Spawner = Callable[[list[str], dict[str, str], str], Awaitable[Child]]


async def cold_start(argv: list[str], env: dict[str, str], cwd: str) -> Child:
    """A new process in its own session (so its whole group can be stopped)."""
    return await asyncio.create_subprocess_exec(
        *argv, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE, env=env, cwd=cwd, start_new_session=True)


class WarmProcess:
    """An action forked by a fork server: its pipes, and its exit code as the server
    reports it."""

    def __init__(self, pid: int, stdin: asyncio.StreamWriter, stdout: asyncio.StreamReader,
                 stderr: asyncio.StreamReader, replies: asyncio.StreamReader,
                 connection: asyncio.StreamWriter) -> None:
        self.pid = pid
        self.stdin: asyncio.StreamWriter | None = stdin
        self.stdout: asyncio.StreamReader | None = stdout
        self.stderr: asyncio.StreamReader | None = stderr
        self.returncode: int | None = None
        self._exited = asyncio.ensure_future(self._exit_code(replies, connection))

    async def _exit_code(self, replies: asyncio.StreamReader,
                         connection: asyncio.StreamWriter) -> int:
        try:
            line = await replies.readline()
            if line:
                self.returncode = int(json.loads(line)["exit"])
            else:  # the server died: its child cannot be waited for; stop it
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(self.pid, 9)
                self.returncode = -9
        finally:
            connection.close()
        return self.returncode

    async def wait(self) -> int:
        # shielded: a timed-out wait (the runner's grace periods) must not lose the code
        return await asyncio.shield(self._exited)


async def _reader(fd: int) -> asyncio.StreamReader:
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader),
                                 os.fdopen(fd, "rb", 0))
    return reader


async def _writer(fd: int) -> asyncio.StreamWriter:
    loop = asyncio.get_running_loop()
    transport, protocol = await loop.connect_write_pipe(
        asyncio.streams.FlowControlMixin, os.fdopen(fd, "wb", 0))
    return asyncio.StreamWriter(transport, protocol, None, loop)


class ForkServer:
    """One pre-started interpreter that forks actions."""

    def __init__(self, interpreter: str, socket_path: str) -> None:
        self.interpreter = interpreter
        self.socket_path = socket_path
        self.process: asyncio.subprocess.Process | None = None

    async def start(self, env: dict[str, str]) -> None:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.socket_path)
        self.process = await asyncio.create_subprocess_exec(
            self.interpreter, str(FORKSERVER), self.socket_path, env=env, cwd="/",
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
            start_new_session=True)
        assert self.process.stdout is not None
        ready = await asyncio.wait_for(self.process.stdout.readline(), START_TIMEOUT)
        if ready.strip() != b"ready":
            raise RuntimeError(f"fork server of {self.interpreter} did not start "
                               f"(exit {await self.process.wait()})")

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.returncode is None

    async def spawn(self, argv: list[str], env: dict[str, str], cwd: str) -> WarmProcess:
        stdin_r, stdin_w = os.pipe()
        stdout_r, stdout_w = os.pipe()
        stderr_r, stderr_w = os.pipe()
        request = json.dumps({"argv": argv, "env": env, "cwd": cwd}).encode() + b"\n"
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            # a local socket with a listening server: connect and send do not wait
            sock.connect(self.socket_path)
            socket.send_fds(sock, [request], [stdin_r, stdout_w, stderr_w])
        except OSError:
            sock.close()
            for fd in (stdin_w, stdout_r, stderr_r):
                os.close(fd)
            raise
        finally:
            for fd in (stdin_r, stdout_w, stderr_w):  # the child has them now
                with contextlib.suppress(OSError):
                    os.close(fd)
        sock.setblocking(False)
        replies, connection = await asyncio.open_unix_connection(sock=sock)
        line = await replies.readline()
        if not line:
            connection.close()
            for fd in (stdin_w, stdout_r, stderr_r):
                os.close(fd)
            raise OSError(f"fork server of {self.interpreter} went away")
        pid = int(json.loads(line)["pid"])
        return WarmProcess(pid, await _writer(stdin_w), await _reader(stdout_r),
                           await _reader(stderr_r), replies, connection)

    async def close(self) -> None:
        if self.process is None:
            return
        if self.process.stdin is not None:
            self.process.stdin.close()  # the server ends when its stdin closes
        try:
            await asyncio.wait_for(self.process.wait(), 5)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                self.process.kill()
            await self.process.wait()
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.socket_path)


def _warm_argv(argv: list[str]) -> list[str] | None:
    """`python [-u] script.py [args]` -> [script.py, args...]; None when the options
    are other than a warm start reproduces."""
    for i, arg in enumerate(argv[1:], start=1):
        if not arg.startswith("-"):
            return argv[i:]
        if arg not in WARM_OPTIONS:
            return None
    return None


class WarmPools:
    """The fork servers of one worker, one per interpreter, started on first use."""

    def __init__(self) -> None:
        self.servers: dict[str, ForkServer] = {}
        self.broken: set[str] = set()
        self._locks: dict[str, asyncio.Lock] = {}
        # under /tmp: a Unix socket path must stay short (108 bytes)
        self._dir = tempfile.mkdtemp(prefix="attune-warm-")

    async def _server(self, interpreter: str, env: dict[str, str]) -> ForkServer | None:
        server = self.servers.get(interpreter)
        if server is not None and server.running:
            return server
        if interpreter in self.broken:
            return None
        async with self._locks.setdefault(interpreter, asyncio.Lock()):
            server = self.servers.get(interpreter)
            if server is not None and server.running:
                return server
            digest = hashlib.sha256(interpreter.encode()).hexdigest()[:16]
            server = ForkServer(interpreter, os.path.join(self._dir, f"{digest}.sock"))
            # nothing of one execution in the server: the base of every action's env
            base = {k: v for k, v in env.items()
                    if k in ("PATH", "LANG", "HOME", "VIRTUAL_ENV")}
            try:
                await server.start(base)
            except (OSError, RuntimeError, TimeoutError) as exc:
                _log.warning("warm.server_failed", interpreter=interpreter, error=repr(exc))
                self.broken.add(interpreter)
                await server.close()
                return None
            _log.info("warm.server_started", interpreter=interpreter,
                      pid=server.process.pid if server.process else None)
            self.servers[interpreter] = server
            return server

    async def spawn(self, argv: list[str], env: dict[str, str], cwd: str) -> Child:
        """Warm when the server can, else cold."""
        script = _warm_argv(argv)
        if script is not None:
            server = await self._server(argv[0], env)
            if server is not None:
                try:
                    return await server.spawn(script, env, cwd)
                except OSError as exc:
                    _log.warning("warm.spawn_failed", interpreter=argv[0], error=repr(exc))
        return await cold_start(argv, env, cwd)

    async def close(self) -> None:
        servers, self.servers = list(self.servers.values()), {}
        await asyncio.gather(*(s.close() for s in servers), return_exceptions=True)
        shutil.rmtree(self._dir, ignore_errors=True)

    def describe(self) -> dict[str, Any]:
        return {"servers": sorted(self.servers), "broken": sorted(self.broken)}
