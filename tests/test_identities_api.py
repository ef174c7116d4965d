"""Identities through HTTP: create, show, list, change, freeze (tokens stop at once),
delete, self-registration, password change, and integration tokens."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

import aiohttp

from tests.api_http import Api, admin_api, assert_error
from tests.conftest import RunningPlatform
from tests.test_keys_api import stream_bytes, table_text


@asynccontextmanager
async def session_api(platform: RunningPlatform) -> AsyncIterator[Api]:
    async with aiohttp.ClientSession() as session:
        yield Api(session, platform.api_url)


async def test_identity_lifecycle(platform: RunningPlatform) -> None:
    async with admin_api(platform) as admin, session_api(platform) as alice:
        created = await admin.post("/api/v1/identities", json={
            "login": "alice", "password": "alice-password", "display_name": "Alice",
            "attributes": {"team": "ops"}})
        assert created.status == 201, created.body
        alice_id = created.data["id"]
        assert created.data["login"] == "alice" and created.data["frozen"] is False
        assert created.data["attributes"] == {"team": "ops"}
        assert "password" not in repr(created.body) and "hash" not in repr(created.body)
        assert_error(await admin.post("/api/v1/identities", json={
            "login": "alice", "password": "another-password"}), 409, "CONFLICT")
        assert_error(await admin.post("/api/v1/identities", json={
            "login": "bob", "password": "short"}), 422, "VALIDATION_ERROR", "password")
        assert_error(await admin.post("/api/v1/identities", json={
            "login": "bob", "password": "bob-password", "permission_set_refs": ["no.such"]}),
            404, "NOT_FOUND", "no.such")

        listed = await admin.get("/api/v1/identities", params={"include_total": "true"})
        assert [i["login"] for i in listed.body["items"]] == ["admin", "alice"]
        assert listed.body["pagination"]["total_items"] == 2
        found = await admin.get("/api/v1/identities", params={"q": "ALI"})
        assert [i["login"] for i in found.body["items"]] == ["alice"]
        assert (await admin.get(f"/api/v1/identities/{alice_id}")).data["display_name"] \
            == "Alice"
        assert_error(await admin.get("/api/v1/identities/999999"), 404, "NOT_FOUND")

        changed = await admin.request("PUT", f"/api/v1/identities/{alice_id}", json={
            "display_name": "Alice A.", "attributes": {"team": "dev"}})
        assert changed.status == 200, changed.body
        assert (changed.data["display_name"], changed.data["attributes"]) == (
            "Alice A.", {"team": "dev"})

        await alice.login("alice", "alice-password")
        assert (await alice.get("/auth/me")).data["login"] == "alice"
        # no permission set: authenticated, but nothing under /api/v1
        assert_error(await alice.get("/api/v1/packs"), 403, "FORBIDDEN", "packs:read")

        # change password: the current one is required
        assert_error(await alice.post("/auth/change-password", json={
            "current_password": "wrong-password", "new_password": "alice-new-password"}),
            401, "UNAUTHORIZED")
        assert_error(await alice.post("/auth/change-password", json={
            "current_password": "alice-password", "new_password": "short"}),
            422, "VALIDATION_ERROR")
        done = await alice.post("/auth/change-password", json={
            "current_password": "alice-password", "new_password": "alice-new-password"})
        assert done.status == 200, done.body
        await admin.get("/auth/me", headers={"X-Attune-After-Sequence": str(done.sequence)})
        assert_error(await alice.post("/auth/login", json={
            "login": "alice", "password": "alice-password"}, token=None), 401, "UNAUTHORIZED")
        await alice.login("alice", "alice-new-password")
        # an administrator may set a password; alice may not set her own this way
        assert_error(await alice.request("PUT", f"/api/v1/identities/{alice_id}", json={
            "password": "alice-third-password"}), 403, "FORBIDDEN")
        reset = await admin.request("PUT", f"/api/v1/identities/{alice_id}", json={
            "password": "alice-third-password"})
        assert reset.status == 200, reset.body
        login = await alice.login("alice", "alice-third-password")
        refresh_token = login.data["refresh_token"]

        # freezing stops her tokens at once, and login and refresh too
        frozen = await admin.post(f"/api/v1/identities/{alice_id}/freeze")
        assert frozen.status == 200 and frozen.data["frozen"] is True, frozen.body
        assert_error(await alice.get("/auth/me"), 403, "FORBIDDEN", "frozen")
        assert_error(await alice.post("/auth/login", json={
            "login": "alice", "password": "alice-third-password"}, token=None),
            403, "FORBIDDEN", "frozen")
        assert_error(await alice.post("/auth/refresh", json={
            "refresh_token": refresh_token}, token=None), 403, "FORBIDDEN", "frozen")
        me = (await admin.get("/auth/me")).data
        assert_error(await admin.post(f"/api/v1/identities/{me['id']}/freeze"),
                     409, "CONFLICT")
        thawed = await admin.post(f"/api/v1/identities/{alice_id}/unfreeze")
        assert thawed.data["frozen"] is False
        assert (await alice.get("/auth/me")).status == 200

        # deleted: her token names nobody any more; the login is not reused
        deleted = await admin.request("DELETE", f"/api/v1/identities/{alice_id}")
        assert deleted.status == 200 and deleted.body["success"] is True
        assert_error(await alice.get("/auth/me"), 401, "UNAUTHORIZED", "no longer exists")
        assert_error(await admin.get(f"/api/v1/identities/{alice_id}"), 404, "NOT_FOUND")
        assert_error(await admin.post("/api/v1/identities", json={
            "login": "alice", "password": "alice-password"}), 409, "CONFLICT")
        assert_error(await admin.request("DELETE", f"/api/v1/identities/{me['id']}"),
                     409, "CONFLICT")


async def test_registration_only_when_enabled(platform: RunningPlatform) -> None:
    ctx = platform.ctx
    async with session_api(platform) as api:
        body = {"login": "newbie", "password": "newbie-password"}
        assert_error(await api.post("/auth/register", json=body), 403, "FORBIDDEN",
                     "ATTUNE_ALLOW_REGISTRATION")
        ctx.settings = ctx.settings.with_(allow_registration=True)
        registered = await api.post("/auth/register", json=body)
        assert registered.status == 201, registered.body
        assert registered.data["user"]["login"] == "newbie"
        token = registered.data["access_token"]
        assert (await api.get("/auth/me", token=token)).data["login"] == "newbie"
        # a registered identity has no permission set
        assert_error(await api.get("/api/v1/packs", token=token), 403, "FORBIDDEN")
        assert_error(await api.post("/auth/register", json=body), 409, "CONFLICT")


async def test_integration_tokens(platform: RunningPlatform) -> None:
    ctx = platform.ctx
    async with admin_api(platform) as admin, session_api(platform) as service:
        me = (await admin.get("/auth/me")).data
        made = await admin.post(f"/api/v1/identities/{me['id']}/integration-tokens",
                                json={"label": "ci"})
        assert made.status == 201, made.body
        assert made.headers["Cache-Control"] == "no-store"
        token = made.data["token"]
        assert token.startswith("attune_it_") and len(token) > 40
        listed = await admin.get(f"/api/v1/identities/{me['id']}/integration-tokens")
        assert [t["label"] for t in listed.body["items"]] == ["ci"]
        assert token not in repr(listed.body)

        exchanged = await service.post("/auth/token-login", json={"token": token})
        assert exchanged.status == 200, exchanged.body
        service.token = exchanged.data["access_token"]
        assert (await service.get("/api/v1/packs")).status == 200
        refreshed = await service.post("/auth/refresh", json={
            "refresh_token": exchanged.data["refresh_token"]})
        assert refreshed.status == 200
        assert_error(await service.post("/auth/token-login", json={"token": token + "x"}),
                     401, "UNAUTHORIZED")
        assert_error(await service.post("/auth/token-login", json={"token": "x" * 20}),
                     401, "UNAUTHORIZED", "attune_it_")

        revoked = await admin.post(f"/api/v1/identities/{me['id']}/integration-tokens/"
                                   f"{made.data['id']}/revoke")
        assert revoked.status == 200 and revoked.data["revoked_at"], revoked.body
        # the token and every session made with it stop at once
        assert_error(await service.get("/api/v1/packs"), 401, "UNAUTHORIZED", "revoked")
        assert_error(await service.post("/auth/refresh", json={
            "refresh_token": exchanged.data["refresh_token"]}), 401, "UNAUTHORIZED")
        assert_error(await service.post("/auth/token-login", json={"token": token}),
                     401, "UNAUTHORIZED", "revoked")
        assert_error(await admin.post(f"/api/v1/identities/{me['id']}/integration-tokens/"
                                      "nope/revoke"), 404, "NOT_FOUND")

        short = await admin.post(f"/api/v1/identities/{me['id']}/integration-tokens",
                                 json={"label": "short", "ttl_seconds": 60})
        assert short.data["expires_at"] is not None
        assert (await service.post("/auth/token-login",
                                   json={"token": short.data["token"]})).status == 200
        real_clock = ctx.clock
        ctx.clock = lambda: real_clock() + timedelta(seconds=61)
        try:
            assert_error(await service.post("/auth/token-login", json={
                "token": short.data["token"]}), 401, "UNAUTHORIZED", "expired")
        finally:
            ctx.clock = real_clock
    # only the hash was ever recorded
    assert token.encode() not in await stream_bytes(ctx)
    assert token not in await table_text(ctx, "integration_tokens")
