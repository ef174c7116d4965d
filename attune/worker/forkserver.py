"""The warm Python fork server — run as a script by a pack environment's interpreter:

    <python> forkserver.py <socket path>

It imports the common standard library once (the "preamble"), then forks one child per
request: a request is one JSON line on a Unix socket connection with three file
descriptors attached (the child's stdin, stdout, stderr). The child starts its own
session (so the worker can stop its whole process group), takes those descriptors,
environment, working directory and argv, and runs the script as `__main__` — like
`python -u script.py`, without starting an interpreter. The server answers the
child's pid once it has its own session, then its exit code.

Every child is a fresh copy of the untouched server: whatever an action imports,
changes or breaks dies with it; a crash (even a segfault) is only that child's exit
code. The server ends when its stdin closes (the worker that started it is gone).

Standalone on purpose: it runs in any Python 3 environment, without Attune installed.
"""

from __future__ import annotations

# What the server uses, and the preamble (the noqa F401 ones): what actions commonly
# import, imported once here so no child pays for it.
import argparse  # noqa: F401
import base64  # noqa: F401
import collections  # noqa: F401
import contextlib
import dataclasses  # noqa: F401
import datetime  # noqa: F401
import hashlib  # noqa: F401
import io
import json
import logging  # noqa: F401
import os
import pathlib  # noqa: F401
import re  # noqa: F401
import runpy
import selectors
import signal
import socket
import subprocess  # noqa: F401
import sys
import tempfile  # noqa: F401
import time  # noqa: F401
import traceback
import typing  # noqa: F401
import urllib.parse
import urllib.request  # noqa: F401
import uuid  # noqa: F401
from typing import Any

MAX_REQUEST = 1 << 20


def _child(request: dict[str, Any], fds: list[int]) -> None:
    """In the forked child: become the action. Never returns."""
    code = 1
    try:
        signal.set_wakeup_fd(-1)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        for target, fd in enumerate(fds):
            os.dup2(fd, target)
        os.closerange(3, 65536)  # the server's socket, pipes, other requests
        os.environ.clear()
        os.environ.update(request["env"])
        os.chdir(request["cwd"])
        script = request["argv"][0]
        sys.argv = list(request["argv"])
        sys.path[0] = os.path.dirname(os.path.abspath(script))
        extra = os.environ.get("PYTHONPATH")
        if extra:
            sys.path[1:1] = [p for p in extra.split(os.pathsep) if p]
        sys.stdin = io.TextIOWrapper(io.FileIO(0, "r", closefd=False), encoding="utf-8")
        # -u: unbuffered binary layer, text written through at once
        sys.stdout = io.TextIOWrapper(io.FileIO(1, "w", closefd=False), encoding="utf-8",
                                      write_through=True)
        sys.stderr = io.TextIOWrapper(io.FileIO(2, "w", closefd=False), encoding="utf-8",
                                      errors="backslashreplace", write_through=True)
        sys.__stdin__, sys.__stdout__, sys.__stderr__ = (  # type: ignore[misc]
            sys.stdin, sys.stdout, sys.stderr)
        try:
            runpy.run_path(script, run_name="__main__")
            code = 0
        except SystemExit as exc:
            if exc.code is None:
                code = 0
            elif isinstance(exc.code, int):
                code = exc.code & 0xFF
            else:
                print(exc.code, file=sys.stderr)
                code = 1
        except KeyboardInterrupt:
            traceback.print_exc()
            code = 130
        except BaseException:
            traceback.print_exc()
            code = 1
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):  # a closed pipe: nothing to flush to
                stream.flush()
    finally:
        os._exit(code)


def _read_request(conn: socket.socket) -> tuple[dict[str, Any], list[int]]:
    data, fds, _, _ = socket.recv_fds(conn, MAX_REQUEST, 3)
    while not data.endswith(b"\n"):
        more = conn.recv(MAX_REQUEST)
        if not more:
            break
        data += more
    request: dict[str, Any] = json.loads(data)
    return request, list(fds)


def _answer(conn: socket.socket, payload: dict[str, int]) -> None:
    with contextlib.suppress(OSError):  # the worker stopped waiting: nothing to tell
        conn.sendall(json.dumps(payload).encode() + b"\n")


def serve(path: str) -> None:
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    listener.listen(128)
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_r, False)
    os.set_blocking(wake_w, False)
    signal.set_wakeup_fd(wake_w)
    signal.signal(signal.SIGCHLD, lambda *_: None)
    selector = selectors.DefaultSelector()
    selector.register(listener, selectors.EVENT_READ, "accept")
    selector.register(wake_r, selectors.EVENT_READ, "reap")
    selector.register(sys.stdin, selectors.EVENT_READ, "parent")
    children: dict[int, socket.socket] = {}
    print("ready", flush=True)
    while True:
        for key, _ in selector.select():
            if key.data == "parent":
                if not os.read(sys.stdin.fileno(), 4096):
                    return  # the worker is gone
            elif key.data == "accept":
                conn, _ = listener.accept()
                try:
                    request, fds = _read_request(conn)
                except (OSError, ValueError):
                    conn.close()
                    continue
                ready_r, ready_w = os.pipe()
                pid = os.fork()
                if pid == 0:
                    os.close(ready_r)
                    os.setsid()  # before the worker learns the pid: its group exists
                    os.close(ready_w)
                    _child(request, fds)
                os.close(ready_w)
                os.read(ready_r, 1)  # EOF once the child has its own session
                os.close(ready_r)
                for fd in fds:
                    os.close(fd)
                children[pid] = conn
                _answer(conn, {"pid": pid})
            else:
                try:
                    while os.read(wake_r, 4096):
                        pass
                except BlockingIOError:
                    pass
            _reap(children)


def _reap(children: dict[int, socket.socket]) -> None:
    while children:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        conn = children.pop(pid, None)
        if conn is not None:
            _answer(conn, {"exit": os.waitstatus_to_exitcode(status)})
            conn.close()


if __name__ == "__main__":
    serve(sys.argv[1])
