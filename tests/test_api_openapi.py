"""The API describes itself (OpenAPI 3.1 from the route table, /docs) and reports its
health; readiness follows the projections."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest

import attune.api.endpoint
import attune.api.handlers.executions
import attune.api.handlers.health
from attune.api.models import API_MODELS
from attune.api.routes import ROUTES
from attune.app import identities
from attune.app.context import Context
from attune.eventstore.envelope import Meta
from tests.api_http import Api, assert_error
from tests.conftest import (
    RunningPlatform,
    eventually,
    start_platform,
    stop_platform,
)


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return found + [r for value in node.values() for r in _refs(value)]
    if isinstance(node, list):
        return [r for value in node for r in _refs(value)]
    return []


async def test_openapi_docs_and_health(platform: RunningPlatform) -> None:
    async with aiohttp.ClientSession() as session:
        api = Api(session, platform.api_url)
        answer = await api.get("/api-spec/openapi.json", token=None)
        assert answer.status == 200
        spec = answer.body
        assert spec["openapi"].startswith("3.1")
        assert spec["info"]["title"] and spec["info"]["version"]
        declared = {(r.method.lower(), r.path) for r in ROUTES}
        documented = {(m, p) for p, methods in spec["paths"].items() for m in methods}
        assert documented == declared
        schemas = spec["components"]["schemas"]
        for ref in _refs(spec):
            assert ref.startswith("#/components/schemas/") and ref.split("/")[-1] in schemas
        operation_ids = [op["operationId"] for methods in spec["paths"].values()
                         for op in methods.values()]
        assert len(operation_ids) == len(set(operation_ids))
        for route in ROUTES:
            op = spec["paths"][route.path][route.method.lower()]
            assert op["summary"] == route.summary
            assert ("security" in op) is (not route.public)
            assert str(route.status) in op["responses"]
            if route.body is not None:
                assert "requestBody" in op and "422" in op["responses"]
        execute = spec["paths"]["/api/v1/executions/execute"]["post"]
        assert execute["x-attune-permission"] == "actions:execute"
        assert {"201", "202", "400", "401", "403", "422"} <= set(execute["responses"])
        assert "X-Attune-Sequence" in execute["responses"]["201"]["headers"]
        listing = spec["paths"]["/api/v1/executions"]["get"]
        assert {p["name"] for p in listing["parameters"]} >= {
            "page", "page_size", "include_total", "status", "action_ref",
            "X-Attune-After-Sequence"}
        for name in ("ExecuteRequest", "LoginRequest", "ErrorBody", "Pagination"):
            assert any(key.startswith(name) for key in schemas), name
        assert set(API_MODELS) >= {"ExecuteRequest", "ExecutionOut", "TokenOut", "PackOut"}

        async with session.get(platform.api_url + "/docs") as r:
            assert r.status == 200
            assert r.content_type == "text/html"
            html = await r.text()
        assert "/api-spec/openapi.json" in html
        assert "<script src" not in html and "https://" not in html  # self-contained

        health = await api.get("/health", token=None)
        assert health.status == 200 and health.body["status"] == "ok"
        assert (await api.get("/health/live", token=None)).body["status"] == "ok"

        async def ready() -> Any:
            answer = await api.get("/health/ready", token=None)
            return answer.body if answer.status == 200 else None
        body = await eventually(ready)
        assert body["status"] == "ready" and body["nats"] == "connected"
        assert body["lag"] <= attune.api.handlers.health.READY_MAX_LAG


async def test_without_projector(ctx: Context, monkeypatch: pytest.MonkeyPatch) -> None:
    """No projector: commands are still accepted (202, poll later), reads that name their
    sequence say the read model is behind, and the service is not ready."""
    monkeypatch.setattr(attune.api.handlers.health, "READY_MAX_LAG", 0)
    monkeypatch.setattr(attune.api.handlers.executions, "WRITE_WAIT_SECONDS", 0.2)
    monkeypatch.setattr(attune.api.endpoint, "READ_WAIT_SECONDS", 0.2)
    # project the seed (core pack, admin) once, then run the API alone
    await stop_platform(await start_platform(ctx, ("projector",)))
    running = await start_platform(ctx, ("api",))
    try:
        async with aiohttp.ClientSession() as session:
            api = Api(session, running.api_url)
            await api.login()
            answer = await api.post("/api/v1/executions/execute",
                                    json={"action_ref": "core.noop"})
            assert answer.status == 202, answer.body
            assert answer.data == {"id": answer.sequence, "status": "requested",
                                   "action_ref": "core.noop"}
            behind = await api.get(f"/api/v1/executions/{answer.sequence}",
                                   headers={"X-Attune-After-Sequence": str(answer.sequence)})
            assert_error(behind, 503, "SERVICE_UNAVAILABLE", str(answer.sequence))
            assert_error(await api.get(f"/api/v1/executions/{answer.sequence}"),
                         404, "NOT_FOUND")

            await identities.create(ctx, "someone", "someone-password", meta=Meta.new())
            ready = await api.get("/health/ready", token=None)
            assert_error(ready, 503, "SERVICE_UNAVAILABLE", "projections trail")
            assert ready.body["details"]["lag"] > 0
            assert (await api.get("/health/live", token=None)).status == 200
    finally:
        await stop_platform(running)
