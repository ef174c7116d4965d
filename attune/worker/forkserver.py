"""The warm Python fork server — run as a script by a pack environment's interpreter:

    <python> forkserver.py <socket path>

It imports the common standard library once (the "preamble"), then forks *spares*: children
in their own session (so the worker can stop the whole process group) that wait for one
request each. The worker keeps a control connection (SOCK_SEQPACKET, one JSON message per
packet):

    worker -> server  {"op": "spare"}                ask for one more spare
    server -> worker  {"pid": P} + a socket          a spare and its end of a socket pair
    server -> worker  {"pid": P, "exit": code}       a child of this worker ended

The worker sends a request straight to a spare: one JSON message with three descriptors
attached (the action's stdin, stdout, stderr). The spare takes them, the environment,
working directory and argv, and runs the script as `__main__` — like `python -u
script.py`, without starting an interpreter — and tells its exit code on its socket
before it exits; a crash is told by the server, which reaps every child. The server is
not on a request's path: a warm start is the worker waking one process.

Every child is a fresh copy of the untouched server: whatever an action imports,
changes or breaks dies with it; a crash (even a segfault) is only that child's exit
code. The server ends when its stdin closes (the worker that started it is gone); idle
spares end when the worker closes their sockets.

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

MAX_REQUEST = 256 * 1024  # the worker sends at most 128 KiB


def _child(request: dict[str, Any], fds: list[int], channel: socket.socket) -> None:
    """In a spare that got its request: become the action. Never returns."""
    code = 1
    try:
        for target, fd in enumerate(fds):
            os.dup2(fd, target)
        for fd in fds:
            if fd > 2:
                os.close(fd)
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
        with contextlib.suppress(OSError):  # the worker gone: the server still reaps us
            channel.send(json.dumps({"exit": code}).encode())
        for fd in (0, 1, 2):  # end of output now, not after the process is torn down
            with contextlib.suppress(OSError):
                os.close(fd)
    finally:
        os._exit(code)


def _spare(channel: socket.socket) -> None:
    """In a freshly forked spare: its own session, nothing of the server's, then wait for
    the one request. Never returns."""
    try:
        signal.set_wakeup_fd(-1)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        os.setsid()
        # not the server's stdin and stdout: the worker waits for those pipes to close
        null = os.open(os.devnull, os.O_RDWR)
        os.dup2(null, 0)
        os.dup2(null, 1)
        os.close(null)
        keep = channel.fileno()
        os.closerange(3, keep)  # the server's sockets and pipes, other spares' channels
        os.closerange(keep + 1, 65536)
        data, fds, _, _ = socket.recv_fds(channel, MAX_REQUEST, 3)
        if len(fds) != 3 or not data:
            os._exit(0)  # the worker closed this spare unused
        _child(json.loads(data), fds, channel)
    finally:
        os._exit(1)


def _send(conn: socket.socket, payload: dict[str, int], fds: list[int] | None = None) -> bool:
    try:
        socket.send_fds(conn, [json.dumps(payload).encode()], fds or [])
    except OSError:
        return False  # the worker is gone
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
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    listener.bind(path)
    listener.listen(16)
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_r, False)
    os.set_blocking(wake_w, False)
    signal.set_wakeup_fd(wake_w)
    signal.signal(signal.SIGCHLD, lambda *_: None)
    selector = selectors.DefaultSelector()
    selector.register(listener, selectors.EVENT_READ, "accept")
    selector.register(wake_r, selectors.EVENT_READ, "reap")
    selector.register(sys.stdin, selectors.EVENT_READ, "parent")
    owners: dict[int, socket.socket] = {}  # child pid -> control connection of its worker
    print("ready", flush=True)
    while True:
        for key, _ in selector.select():
            if key.data == "parent":
                if not os.read(sys.stdin.fileno(), 4096):
                    return  # the worker is gone
            elif key.data == "accept":
                conn, _ = listener.accept()
                selector.register(conn, selectors.EVENT_READ, conn)
            elif key.data == "reap":
                with contextlib.suppress(BlockingIOError):
                    while os.read(wake_r, 4096):
                        pass
            else:
                conn = key.data
                try:
                    message = conn.recv(4096)
                except OSError:
                    message = b""
                if not message:
                    selector.unregister(conn)
                    conn.close()
                    continue
                ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
                pid = os.fork()
                if pid == 0:
                    ours.close()
                    _spare(theirs)
                theirs.close()
                owners[pid] = conn
                _send(conn, {"pid": pid}, [ours.fileno()])
                ours.close()
            _reap(owners)


def _reap(owners: dict[int, socket.socket]) -> None:
    """Tell each worker the exit code of its children that ended."""
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        conn = owners.pop(pid, None)
        if conn is not None and conn.fileno() >= 0:
            _send(conn, {"pid": pid, "exit": os.waitstatus_to_exitcode(status)})


if __name__ == "__main__":
    serve(sys.argv[1])
