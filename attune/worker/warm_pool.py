"""Starting action processes: cold (a new process per execution) or warm (Python
actions forked from a pre-started interpreter of their pack environment).

A warm start skips the interpreter's start-up and the common imports: one fork server
(attune/worker/forkserver.py) per interpreter — the system Python or a pack's
virtualenv — started on first use and kept. It forks *spares* ahead of need; the worker
hands a request straight to a spare (no other process on the way) and asks for its
successor once it ended. Each execution is a fresh fork of the untouched server, in its
own session, so isolation holds: state an action leaks or a crash it has dies with its
process. A server that died is replaced on the next use. The launch plan (argv, env,
cwd) is the same as a cold start's; anything the server cannot do like `python -u
script.py` starts cold, and so does everything when the server cannot start
(opt-in: `ATTUNE_WARM_PYTHON=1`; see README).
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
#: Spares each server keeps ready (a burst beyond waits for the fork of more).
SPARES = 2
#: Largest request (argv, env, cwd as JSON) sent as one packet (a socket's buffer holds
#: it); a larger one starts cold.
MAX_REQUEST = 128 * 1024
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
    """An action a spare runs: its pipes, and its exit code — as the spare tells it on
    its channel, or (a crash tells nothing) as the server reports it."""

    def __init__(self, pid: int, stdin: asyncio.StreamWriter, stdout: asyncio.StreamReader,
                 stderr: asyncio.StreamReader, channel: socket.socket,
                 reaped: asyncio.Future[int], ended: Callable[[], None]) -> None:
        self.pid = pid
        self.stdin: asyncio.StreamWriter | None = stdin
        self.stdout: asyncio.StreamReader | None = stdout
        self.stderr: asyncio.StreamReader | None = stderr
        self.returncode: int | None = None
        self._ended = ended
        self._exited = asyncio.ensure_future(self._exit_code(channel, reaped))

    async def _exit_code(self, channel: socket.socket, reaped: asyncio.Future[int]) -> int:
        loop = asyncio.get_running_loop()
        told: asyncio.Future[bytes] = asyncio.ensure_future(loop.sock_recv(channel, 4096))
        try:
            first: set[asyncio.Future[Any]] = {told, reaped}
            await asyncio.wait(first, return_when=asyncio.FIRST_COMPLETED)
            message = told.result() if told.done() and not told.exception() else b""
            if message:
                self.returncode = int(json.loads(message)["exit"])
            else:  # it ended without a word (a crash, a signal): the server's word
                self.returncode = await reaped
        finally:
            told.cancel()
            channel.close()
            self._ended()
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
    """One pre-started interpreter, and the spares it forked for this worker."""

    def __init__(self, interpreter: str, socket_path: str) -> None:
        self.interpreter = interpreter
        self.socket_path = socket_path
        self.process: asyncio.subprocess.Process | None = None
        self.control: socket.socket | None = None
        #: ready spares: pid and channel (None: the server is gone, stop waiting)
        self.spares: asyncio.Queue[tuple[int, socket.socket | None]] = asyncio.Queue()
        #: exit codes the server reports, by pid (of children that run a request)
        self.reaped: dict[int, asyncio.Future[int]] = {}
        #: spares asked for and not yet received; spawns waiting for one
        self.asked = 0
        self.waiting = 0

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
        control = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        control.connect(self.socket_path)
        control.setblocking(False)
        self.control = control
        asyncio.get_running_loop().add_reader(control.fileno(), self._on_control)
        for _ in range(SPARES):
            self._ask_spare()

    @property
    def running(self) -> bool:
        return (self.process is not None and self.process.returncode is None
                and self.control is not None)

    def _ask_spare(self) -> None:
        """One more spare, unless enough are ready or on their way."""
        wanted = SPARES + self.waiting  # a burst: one more for each spawn waiting
        if self.control is None or self.spares.qsize() + self.asked >= wanted:
            return
        with contextlib.suppress(OSError):  # gone: `running` says so
            self.control.send(b'{"op": "spare"}')
            self.asked += 1

    def _on_control(self) -> None:
        """Messages of the server: a new spare, or the exit code of a child."""
        assert self.control is not None
        while True:
            try:
                data, fds, _, _ = socket.recv_fds(self.control, 4096, 1)
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                data, fds = b"", []
            if not data:
                self._lost()
                return
            message = json.loads(data)
            if "exit" in message:
                reaped = self.reaped.pop(int(message["pid"]), None)
                if reaped is not None and not reaped.done():
                    reaped.set_result(int(message["exit"]))
            elif fds:
                channel = socket.socket(fileno=fds[0])
                self.asked = max(0, self.asked - 1)
                self.spares.put_nowait((int(message["pid"]), channel))

    def _lost(self) -> None:
        """The server went away: children cannot be waited for any more."""
        if self.control is not None:
            asyncio.get_running_loop().remove_reader(self.control.fileno())
            self.control.close()
            self.control = None
        for _ in range(self.waiting):  # spawns waiting for a spare: none will come
            self.spares.put_nowait((0, None))
        for pid, reaped in self.reaped.items():
            if not reaped.done():
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(pid, 9)
                reaped.set_result(-9)
        self.reaped.clear()

    async def spawn(self, argv: list[str], env: dict[str, str], cwd: str) -> WarmProcess:
        request = json.dumps({"argv": argv, "env": env, "cwd": cwd}).encode()
        if len(request) > MAX_REQUEST:
            raise OSError(f"request of {len(request)} bytes is too large for a warm start")
        loop = asyncio.get_running_loop()
        while True:
            if not self.running:  # its spares could not be waited for: start cold
                raise OSError(f"fork server of {self.interpreter} went away")
            self.waiting += 1
            try:
                self._ask_spare()  # a burst took the ready ones: more now
                pid, channel = await asyncio.wait_for(self.spares.get(), START_TIMEOUT)
            finally:
                self.waiting -= 1
            if channel is None:
                raise OSError(f"fork server of {self.interpreter} went away")
            reaped: asyncio.Future[int] = loop.create_future()
            self.reaped[pid] = reaped  # before it can end
            stdin_r, stdin_w = os.pipe()
            stdout_r, stdout_w = os.pipe()
            stderr_r, stderr_w = os.pipe()
            try:
                # one packet to a waiting process: it does not block
                socket.send_fds(channel, [request], [stdin_r, stdout_w, stderr_w])
            except OSError:  # this spare died meanwhile: the next one
                self.reaped.pop(pid, None)
                channel.close()
                for fd in (stdin_r, stdin_w, stdout_r, stdout_w, stderr_r, stderr_w):
                    os.close(fd)
                continue
            for fd in (stdin_r, stdout_w, stderr_w):  # the child has them now
                os.close(fd)
            channel.setblocking(False)
            return WarmProcess(pid, await _writer(stdin_w), await _reader(stdout_r),
                               await _reader(stderr_r), channel, reaped,
                               # its successor is forked once it ended: a fork of the
                               # server competes for the CPU with the action it would run
                               self._ask_spare)

    async def close(self) -> None:
        while not self.spares.empty():  # an idle spare ends when its channel closes
            _, channel = self.spares.get_nowait()
            if channel is not None:
                channel.close()
        if self.control is not None:
            asyncio.get_running_loop().remove_reader(self.control.fileno())
            self.control.close()
            self.control = None
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
            if server is not None:  # it died: a new one (its spares go with it)
                _log.warning("warm.server_lost", interpreter=interpreter)
                await server.close()
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
