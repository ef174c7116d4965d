"""Auth through HTTP: login, refresh, me, and every way a bearer token can be wrong."""

from __future__ import annotations

import base64
import json
import re

import aiohttp
import pytest

from attune.api.handlers.auth import me
from attune.api.routes import ROUTES, check
from attune.api.routing import AUTHENTICATED, PUBLIC, Permission, Route
from attune.app import identities
from attune.eventstore.envelope import Meta
from tests.api_http import Api, admin_api, assert_error
from tests.conftest import RunningPlatform, projected


def _b64(data: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


async def test_login_refresh_me(platform: RunningPlatform) -> None:
    async with admin_api(platform) as api:
        login = await api.login()
        data = login.data
        assert data["token_type"] == "Bearer"
        assert data["expires_in"] == 3600
        assert data["user"]["login"] == "admin"
        assert set(data["user"]) == {"id", "login", "display_name"}
        assert login.headers["X-Request-Id"]

        me = await api.get("/auth/me")
        assert me.status == 200
        assert me.data == data["user"]

        refreshed = await api.post("/auth/refresh",
                                   json={"refresh_token": data["refresh_token"]})
        assert refreshed.status == 200
        assert refreshed.data["user"] == data["user"]
        me2 = await api.get("/auth/me", token=refreshed.data["access_token"])
        assert me2.status == 200

        # an access token is no refresh token, and the other way round
        assert_error(await api.post("/auth/refresh",
                                    json={"refresh_token": data["access_token"]}),
                     401, "UNAUTHORIZED", "refresh")
        assert_error(await api.get("/api/v1/packs", token=data["refresh_token"]),
                     401, "UNAUTHORIZED", "access")

        wrong = await api.post("/auth/login", json={"login": "admin", "password": "nope"},
                               token=None)
        assert_error(wrong, 401, "UNAUTHORIZED", "invalid login or password")
        assert_error(await api.post("/auth/login", json={"login": "admin"}, token=None),
                     422, "VALIDATION_ERROR", "password")

        # a request id the client sends is echoed
        echoed = await api.get("/auth/me", headers={"X-Request-Id": "trace-42"})
        assert echoed.headers["X-Request-Id"] == "trace-42"


async def test_bad_tokens_are_401(platform: RunningPlatform) -> None:
    ctx = platform.ctx
    async with admin_api(platform) as api:
        admin = (await api.get("/auth/me")).data
        expired = ctx.tokens.issue(admin["id"], "admin", "access", ttl=-10)
        assert api.token is not None
        header, _, signature = api.token.split(".")
        forged = ctx.tokens.__class__("another-secret-" + "z" * 32).issue(
            admin["id"], "admin", "access")
        alg_none = (_b64({"alg": "none", "typ": "JWT"}) + "."
                    + _b64({"sub": str(admin["id"]), "login": "admin", "iat": 1,
                            "exp": 4102444800, "token_type": "access"}) + ".")
        tampered = ".".join([header, _b64({"sub": str(admin["id"]), "login": "admin", "iat": 1,
                                           "exp": 4102444800, "token_type": "access"}),
                             signature])
        cases = {
            "expired": (expired, "expired"), "wrong signature": (forged, "invalid token"),
            "alg none": (alg_none, "invalid token"), "tampered": (tampered, "invalid token"),
            "garbage": ("not-a-jwt", "invalid token"),
        }
        for name, (token, fragment) in cases.items():
            answer = await api.get("/api/v1/executions", token=token)
            assert_error(answer, 401, "UNAUTHORIZED", fragment)
            assert answer.headers["WWW-Authenticate"] == "Bearer", name
        assert_error(await api.get("/api/v1/executions", token=None), 401, "UNAUTHORIZED",
                     "missing Authorization header")
        assert_error(await api.get("/api/v1/executions",
                                   headers={"Authorization": f"Basic {api.token}"}),
                     401, "UNAUTHORIZED", "Bearer")

        # a valid token of an identity without the admin set: authenticated, not allowed
        seq = await identities.create(ctx, "viewer", "viewer-password", meta=Meta.new())
        await projected(ctx, seq)
        async with aiohttp.ClientSession() as session:
            viewer = Api(session, platform.api_url)
            await viewer.login("viewer", "viewer-password")
            assert (await viewer.get("/auth/me")).data["login"] == "viewer"
            assert_error(await viewer.get("/api/v1/packs"), 403, "FORBIDDEN", "packs:read")
            assert_error(await viewer.post("/api/v1/executions/execute",
                                           json={"action_ref": "core.echo"}),
                         403, "FORBIDDEN", "actions:execute")


def test_route_table_refuses_unchecked_versioned_routes() -> None:
    for guard in (PUBLIC, AUTHENTICATED):
        with pytest.raises(ValueError, match="needs a Permission"):
            check([Route("GET", "/api/v1/secrets", me, "leak", guard, "t")])
    with pytest.raises(ValueError, match="declared twice"):
        check([*ROUTES, ROUTES[0]])
    with pytest.raises(ValueError, match="params model"):
        check([Route("GET", "/api/v1/things/{ref}", me, "s", Permission("t", "read"), "t")])


async def test_every_protected_route_rejects_a_missing_token(platform: RunningPlatform
                                                             ) -> None:
    """Walks THE route table: a new route without a check fails here."""
    protected = [r for r in ROUTES if not r.public]
    assert any(r.path.startswith("/api/v1/") for r in protected)
    async with aiohttp.ClientSession() as session:
        api = Api(session, platform.api_url)
        for route in protected:
            path = re.sub(r"\{(\w+)\}", "1", route.path)
            answer = await api.request(route.method, path, json={}, token=None)
            assert_error(answer, 401, "UNAUTHORIZED")
        for route in ROUTES:
            if route.public and route.method == "GET" and "{" not in route.path:
                answer = await api.get(route.path, token=None)
                assert answer.status in (200, 503), (route.path, answer.status)
