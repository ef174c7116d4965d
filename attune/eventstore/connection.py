"""Connecting to NATS: reconnect forever, and refuse servers too old for the event store."""

from __future__ import annotations

import asyncio

import nats
from nats.aio.client import Client

import attune.log as log
from attune.errors import UnavailableError

MIN_SERVER = (2, 12)

_log = log.get("nats")


async def connect(url: str, *, name: str = "attune", timeout: float | None = None) -> Client:
    """Connect to `url` (several servers of a cluster: comma-separated). Services wait
    for NATS to come up (`timeout=None`); one-off commands pass a timeout."""
    servers = [u.strip() for u in url.split(",") if u.strip()]

    async def on_disconnect() -> None:
        _log.warning("nats.disconnected", url=url)

    async def on_reconnect() -> None:
        _log.info("nats.reconnected", url=url)

    async def on_error(exc: Exception) -> None:
        _log.warning("nats.error", error=str(exc))

    try:
        nc = await asyncio.wait_for(nats.connect(
            servers, name=name, max_reconnect_attempts=-1, reconnect_time_wait=0.5,
            connect_timeout=5, allow_reconnect=True, disconnected_cb=on_disconnect,
            reconnected_cb=on_reconnect, error_cb=on_error), timeout)
    except TimeoutError:
        raise UnavailableError(f"cannot connect to NATS at {url} within {timeout:g} s: "
                               "is it running?") from None
    except Exception as exc:
        raise UnavailableError(f"cannot connect to NATS at {url}: {exc}") from exc
    version = nc.connected_server_version
    if (version.major, version.minor) < MIN_SERVER:
        await nc.close()
        raise UnavailableError(
            f"NATS server {version} at {url} is too old: Attune needs >= 2.12 "
            "(per-aggregate optimistic concurrency and atomic batches)")
    return nc
