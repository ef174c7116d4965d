"""Running long-lived commands (`attune up`, `attune serve`): logging, signals, errors.

SIGINT (Ctrl-C) and SIGTERM both mean "stop cleanly": inside the event loop they set
the `stop` event the services watch; before the loop runs (while servers start) they
raise KeyboardInterrupt so the caller's `finally` stops what was started.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Awaitable, Callable, Coroutine, Iterator
from types import FrameType
from typing import Any, TypeVar

import attune.log as log
from attune.cli.output import CliError
from attune.config import Settings
from attune.errors import AttuneError

T = TypeVar("T")

LOG_LEVELS = ("debug", "info", "warning", "error")
LOG_FORMATS = ("json", "console")


def configure_logging(settings: Settings) -> None:
    log.configure(settings.log_level, json=settings.log_format != "console")


@contextlib.contextmanager
def attune_errors() -> Iterator[None]:
    """Print an AttuneError (bad flag, port taken, server unreachable) as `Error: ...`."""
    try:
        yield
    except AttuneError as exc:
        raise CliError(exc.message, exc.details) from None


@contextlib.contextmanager
def signals_interrupt() -> Iterator[None]:
    """SIGINT and SIGTERM raise KeyboardInterrupt, also where SIGINT was inherited as
    ignored (a job started with `&` by a script), since the event loop later handles
    both anyway."""
    def interrupt(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    signals = (signal.SIGINT, signal.SIGTERM)
    previous = {sig: signal.signal(sig, interrupt) for sig in signals}
    try:
        yield
    finally:
        for sig in signals:
            signal.signal(sig, previous[sig])


async def unless_stopped(work: Awaitable[T], stop: asyncio.Event) -> T | None:
    """`await work`, or None as soon as `stop` is set. Connecting waits for servers
    that are not up yet (a service may start before NATS does), and Ctrl-C or SIGTERM
    must still end it."""
    task = asyncio.ensure_future(work)
    stopped = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait({task, stopped}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        stopped.cancel()
    if task.done():
        return task.result()
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError, Exception):
        await task
    return None


def run_until_signalled(main: Callable[[asyncio.Event], Coroutine[Any, Any, None]]) -> None:
    """`asyncio.run(main(stop))`, where SIGINT and SIGTERM set `stop`."""
    async def runner() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        signals = (signal.SIGINT, signal.SIGTERM)
        previous = {sig: signal.getsignal(sig) for sig in signals}
        for sig in signals:
            loop.add_signal_handler(sig, stop.set)
        try:
            await main(stop)
        finally:
            # asyncio would leave the defaults; the caller's handlers still matter
            # while it stops the servers after the loop
            for sig in signals:
                loop.remove_signal_handler(sig)
                signal.signal(sig, previous[sig])

    asyncio.run(runner())
