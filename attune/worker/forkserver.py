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
import copy  # noqa: F401
import dataclasses  # noqa: F401
import datetime  # noqa: F401
import fnmatch  # noqa: F401
import functools  # noqa: F401
import hashlib  # noqa: F401
import inspect  # noqa: F401
import io
import ipaddress  # noqa: F401
import itertools  # noqa: F401
import json
import logging  # noqa: F401
import math  # noqa: F401
import os
import pathlib  # noqa: F401
import re  # noqa: F401
import runpy
import selectors
import shutil  # noqa: F401
import signal
import socket
import string  # noqa: F401
import struct  # noqa: F401
import subprocess  # noqa: F401
import sys
import tempfile
import textwrap  # noqa: F401
import threading  # noqa: F401
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


def _receive(conn: socket.socket) -> tuple[bytes, list[int]]:
    """One request line and the descriptors sent with it."""
    data, fds, _, _ = socket.recv_fds(conn, MAX_REQUEST, 3)
    while data and not data.endswith(b"\n"):
        more = conn.recv(MAX_REQUEST)
        if not more:
            break
        data += more
    return data, list(fds)


def _answer(conn: socket.socket, payload: dict[str, int]) -> None:
    with contextlib.suppress(OSError):  # the worker stopped waiting: nothing to tell
        conn.sendall(json.dumps(payload).encode() + b"\n")


class Spare:
    """A child forked ahead of time, in its own session, waiting for its request: a
    request then costs no fork (the next spare is forked after the answer)."""

    def __init__(self) -> None:
        ours, theirs = socket.socketpair()
        pid = os.fork()
        if pid == 0:
            signal.set_wakeup_fd(-1)
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)
            os.setsid()
            keep = theirs.fileno()
            os.closerange(3, keep)  # nothing of the server's: sockets, other requests
            os.closerange(keep + 1, 65536)
            data, fds = _receive(theirs)
            if len(fds) != 3 or not data:
                os._exit(0)  # the server ended before using this spare
            _child(json.loads(data), fds)
        theirs.close()
        self.pid = pid
        self.channel = ours

    def hand(self, data: bytes, fds: list[int]) -> bool:
        try:
            socket.send_fds(self.channel, [data], fds)
        except OSError:
            return False  # it died meanwhile
        finally:
            self.channel.close()
        return True


def _warm_up() -> None:
    """Run an empty script once: run_path's first call imports and caches what it needs
    (pkgutil, zipimport, path hooks) — milliseconds no child should pay again."""
    fd, script = tempfile.mkstemp(suffix=".py")
    os.close(fd)
    try:
        runpy.run_path(script, run_name="__warmup__")
    finally:
        os.unlink(script)


def serve(path: str) -> None:
    _warm_up()
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
    spare = Spare()
    print("ready", flush=True)
    while True:
        for key, _ in selector.select():
            if key.data == "parent":
                if not os.read(sys.stdin.fileno(), 4096):
                    return  # the worker is gone
            elif key.data == "accept":
                conn, _ = listener.accept()
                try:
                    data, fds = _receive(conn)
                except OSError:
                    conn.close()
                    continue
                if len(fds) != 3:
                    for fd in fds:
                        os.close(fd)
                    conn.close()
                    continue
                child = spare
                while not child.hand(data, fds):
                    child = Spare()
                for fd in fds:
                    os.close(fd)
                children[child.pid] = conn
                _answer(conn, {"pid": child.pid})
                spare = Spare()  # after the answer: the fork is off the request's path
            else:
                with contextlib.suppress(BlockingIOError):
                    while os.read(wake_r, 4096):
                        pass
            _reap(children)


def _reap(children: dict[int, socket.socket]) -> None:
    """Tell the exit code of every child that ended (spares that died are just reaped)."""
    while True:
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
