"""core.http_request (runtime core.http, inside the worker) against a local aiohttp server."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from attune.domain.params import validate_parameters
from attune.packs.loader import load_pack
from attune.paths import packs_dir
from attune.worker.runner import RunRequest, run

HTTP_ACTION = next(a for a in load_pack(packs_dir() / "core").actions
                   if a.ref == "core.http_request")


async def _echo(request: web.Request) -> web.Response:
    return web.json_response({
        "method": request.method, "query": dict(request.query),
        "auth": request.headers.get("Authorization"), "x": request.headers.get("X-Test"),
        "type": request.headers.get("Content-Type"), "body": await request.text()})


async def _slow(request: web.Request) -> web.Response:
    await asyncio.sleep(2)
    return web.Response(text="late")


async def _redirect(request: web.Request) -> web.Response:
    raise web.HTTPFound("/echo")


async def _big(request: web.Request) -> web.Response:
    return web.Response(text="x" * 200_000)


async def _missing(request: web.Request) -> web.Response:
    return web.Response(status=404, text="no such thing")


@pytest.fixture
async def server() -> AsyncIterator[str]:
    app = web.Application()
    app.router.add_route("*", "/echo", _echo)
    app.router.add_get("/slow", _slow)
    app.router.add_get("/redirect", _redirect)
    app.router.add_get("/missing", _missing)
    app.router.add_get("/big", _big)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    yield f"http://127.0.0.1:{port}"
    await runner.cleanup()


async def call(params: dict[str, Any], timeout: int = 30,
               cancel: asyncio.Event | None = None) -> Any:
    # the action's own schema fills the defaults, as a request through the API would
    resolved = validate_parameters(HTTP_ACTION.parameters, params)
    return await run(RunRequest(execution_id=9, action=HTTP_ACTION, pack_path=str(Path("/")),
                                parameters=resolved, env_vars={}, timeout_seconds=timeout,
                                api_url="http://127.0.0.1:1"), cancel)


async def test_get_with_query_headers_and_bearer_auth(server: str) -> None:
    outcome = await call({"url": f"{server}/echo", "query_params": {"q": "a b", "n": 2},
                          "headers": {"X-Test": "yes"}, "auth_type": "bearer",
                          "auth_token": "tok-123"})
    assert outcome.exit_code == 0 and outcome.error is None
    result = outcome.data
    assert result["status_code"] == 200 and result["success"] is True
    assert result["json"] == {"method": "GET", "query": {"q": "a b", "n": "2"},
                              "auth": "Bearer tok-123", "x": "yes", "type": None, "body": ""}
    assert result["headers"]["Content-Type"].startswith("application/json")
    assert result["elapsed_ms"] >= 0 and result["url"].startswith(f"{server}/echo")


async def test_post_json_body_and_basic_auth(server: str) -> None:
    outcome = await call({"url": f"{server}/echo", "method": "POST", "json_body": {"k": [1]},
                          "auth_type": "basic", "auth_username": "ann",
                          "auth_password": "pw"})
    sent = outcome.data["json"]
    assert sent["method"] == "POST" and sent["body"] == '{"k":[1]}'
    assert sent["type"] == "application/json"
    assert sent["auth"] == "Basic " + base64.b64encode(b"ann:pw").decode()
    raw = await call({"url": f"{server}/echo", "method": "PUT", "body": "plain text"})
    assert raw.data["json"]["body"] == "plain text"


async def test_redirects_followed_or_not(server: str) -> None:
    followed = await call({"url": f"{server}/redirect"})
    assert followed.data["status_code"] == 200 and followed.data["url"].endswith("/echo")
    held = await call({"url": f"{server}/redirect", "follow_redirects": False})
    assert held.data["status_code"] == 302 and held.data["success"] is True


async def test_error_statuses_and_unreachable_hosts_fail_with_a_reason(server: str) -> None:
    missing = await call({"url": f"{server}/missing"})
    assert missing.exit_code == 1 and missing.data["status_code"] == 404
    assert missing.data["success"] is False and missing.data["body"] == "no such thing"
    assert missing.error == "HTTP 404 Not Found" and missing.data["json"] is None
    slow = await call({"url": f"{server}/slow", "timeout": 1})
    assert slow.exit_code == 1 and slow.data["error"] == "no response within 1 s"
    refused = await call({"url": "http://127.0.0.1:9/"})
    assert refused.exit_code == 1 and refused.data["status_code"] is None
    assert "ClientConnectorError" in refused.data["error"]


async def test_execution_timeout_and_cancel(server: str) -> None:
    timed = await call({"url": f"{server}/slow"}, timeout=1)
    assert timed.timed_out and timed.error == "timed out after 1 s"
    cancel = asyncio.Event()
    task = asyncio.create_task(call({"url": f"{server}/slow"}, cancel=cancel))
    await asyncio.sleep(0.2)
    cancel.set()
    cancelled = await task
    assert cancelled.cancelled and cancelled.error == "cancelled"


async def test_a_large_body_is_cut_and_flagged(server: str) -> None:
    big = await call({"url": f"{server}/big"})
    assert big.exit_code == 0 and big.data["body_truncated"] is True
    assert len(big.data["body"]) == 128 * 1024 and big.data["json"] is None
