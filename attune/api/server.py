"""Running the API: `serve(ctx, stop)` listens on the configured host and port until
`stop` is set, then drains and closes."""

from __future__ import annotations

import asyncio

from aiohttp import web

import attune.log as log
from attune.api.app import create_app
from attune.app.context import Context
from attune.errors import UnavailableError

#: seconds in-flight requests get to finish on shutdown
SHUTDOWN_GRACE = 5.0
_log = log.get("api")


async def serve(ctx: Context, stop: asyncio.Event) -> None:
    settings = ctx.settings
    # access_log=None: request_log_middleware writes the one structured line per request
    runner = web.AppRunner(create_app(ctx), access_log=None, handle_signals=False,
                           shutdown_timeout=SHUTDOWN_GRACE)
    await runner.setup()
    try:
        site = web.TCPSite(runner, settings.api_host, settings.api_port, reuse_address=True)
        try:
            await site.start()
        except OSError as exc:
            raise UnavailableError(
                f"API cannot listen on {settings.api_host}:{settings.api_port}: {exc.strerror}"
                " (choose another port with ATTUNE_API_PORT)") from exc
        _log.info("api.listening", url=settings.public_api_url)
        await stop.wait()
    finally:
        await runner.cleanup()
        _log.info("api.stopped")
