"""Keys (secrets) through HTTP: create, show, list, change, delete, TTL, and that no
plaintext of an encrypted key reaches the stream or the read model."""

from __future__ import annotations

from datetime import timedelta

import orjson
import pytest

from attune.app import keys
from attune.app.context import Context
from attune.eventstore.envelope import Meta
from attune.security.crypto import Sealer
from tests.api_http import admin_api, assert_error
from tests.conftest import RunningPlatform, projected

SECRET = "s3cr3t-plaintext-that-must-never-leak"


async def stream_bytes(ctx: Context) -> bytes:
    """Every message body and header of the events stream, concatenated."""
    out = bytearray()
    for seq in range(1, await ctx.store.last_sequence() + 1):
        msg = await ctx.store.js.get_msg(ctx.store.stream, seq=seq, direct=True)
        out += (msg.data or b"") + orjson.dumps(msg.headers or {})
    return bytes(out)


async def table_text(ctx: Context, table: str) -> str:
    rows = await ctx.pool.fetch(f"SELECT * FROM {table}")
    return repr([dict(r) for r in rows])


async def all_tables_text(ctx: Context) -> str:
    tables = [r["table_name"] for r in await ctx.pool.fetch(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'")]
    assert "keys" in tables and "identities" in tables
    return "".join([await table_text(ctx, t) for t in tables])


async def test_key_crud_and_no_plaintext_anywhere(platform: RunningPlatform,
                                                  capfd: pytest.CaptureFixture[str]) -> None:
    ctx = platform.ctx
    async with admin_api(platform) as api:
        created = await api.post("/api/v1/keys", json={
            "owner_type": "system", "name": "db_password", "value": {"password": SECRET}})
        assert created.status == 201, created.body
        assert created.data["ref"] == "system.db_password"
        assert created.data["encrypted"] is True
        assert created.data["value"] == {"password": SECRET}

        by_ref = await api.post("/api/v1/keys", json={"ref": "pack.core.api_token",
                                                      "value": "plain", "encrypted": False})
        assert by_ref.status == 201, by_ref.body
        assert (by_ref.data["owner_type"], by_ref.data["owner"]) == ("pack", "core")
        mine = await api.post("/api/v1/keys", json={
            "owner_type": "identity", "owner": "admin", "name": "pat", "value": 42})
        assert mine.data["ref"] == "identity.admin.pat"
        action_key = await api.post("/api/v1/keys", json={"ref": "action.core.echo.token",
                                                          "value": [1, 2]})
        assert action_key.data["owner"] == "core.echo"

        listed = await api.get("/api/v1/keys", params={"include_total": "true"})
        assert listed.status == 200
        refs = [k["ref"] for k in listed.body["items"]]
        assert refs == sorted(["system.db_password", "pack.core.api_token",
                               "identity.admin.pat", "action.core.echo.token"])
        assert all("value" not in k for k in listed.body["items"])
        assert listed.body["pagination"]["total_items"] == 4
        page = await api.get("/api/v1/keys", params={"page_size": "1", "page": "2"})
        assert [k["ref"] for k in page.body["items"]] == [refs[1]]
        assert page.body["pagination"]["has_next"] is True
        only_pack = await api.get("/api/v1/keys", params={"owner_type": "pack"})
        assert [k["ref"] for k in only_pack.body["items"]] == ["pack.core.api_token"]

        shown = await api.get("/api/v1/keys/system.db_password")
        assert shown.data["value"] == {"password": SECRET}

        changed = await api.request("PUT", "/api/v1/keys/system.db_password",
                                    json={"value": {"password": SECRET + "-2"}})
        assert changed.status == 200, changed.body
        assert changed.data["value"] == {"password": SECRET + "-2"}
        assert changed.data["encrypted"] is True

        assert_error(await api.post("/api/v1/keys", json={"ref": "system.db_password",
                                                          "value": 1}),
                     409, "CONFLICT", "already exists")
        assert_error(await api.post("/api/v1/keys", json={"ref": "system.Bad Name",
                                                          "value": 1}),
                     422, "VALIDATION_ERROR", "a-z")
        assert_error(await api.post("/api/v1/keys", json={"ref": "galaxy.x.y", "value": 1}),
                     422, "VALIDATION_ERROR", "system.<name>")
        assert_error(await api.post("/api/v1/keys", json={"owner_type": "identity",
                                                          "owner": "nobody", "name": "x",
                                                          "value": 1}),
                     422, "VALIDATION_ERROR", "nobody")
        assert_error(await api.post("/api/v1/keys", json={"value": 1}),
                     422, "VALIDATION_ERROR", "owner_type")
        assert_error(await api.post("/api/v1/keys", json={"ref": "system.big",
                                                          "value": "x" * 10_001}),
                     422, "VALIDATION_ERROR", "too large")
        assert_error(await api.get("/api/v1/keys/system.nope"), 404, "NOT_FOUND")
        assert_error(await api.request("PUT", "/api/v1/keys/system.nope", json={"value": 1}),
                     404, "NOT_FOUND")

        deleted = await api.request("DELETE", "/api/v1/keys/pack.core.api_token")
        assert deleted.status == 200 and deleted.body["success"] is True
        assert_error(await api.get("/api/v1/keys/pack.core.api_token"), 404, "NOT_FOUND")
        again = await api.post("/api/v1/keys", json={"ref": "pack.core.api_token",
                                                     "value": "back"})
        assert again.status == 201, again.body

    await projected(ctx, await ctx.store.last_sequence())
    assert SECRET.encode() not in await stream_bytes(ctx)
    assert SECRET not in await all_tables_text(ctx)
    # the unencrypted key is stored as given, by the caller's choice
    assert b'"plain"' in await stream_bytes(ctx)
    logged = capfd.readouterr()
    assert "/api/v1/keys" in logged.out + logged.err  # requests were logged...
    assert SECRET not in logged.out + logged.err  # ...and no value with them


async def test_ttl_expires_a_key(platform: RunningPlatform) -> None:
    ctx = platform.ctx
    async with admin_api(platform) as api:
        created = await api.post("/api/v1/keys", json={"ref": "system.short", "value": 1,
                                                       "ttl_seconds": 60})
        assert created.status == 201
        assert created.data["expires_at"] is not None
        assert (await api.get("/api/v1/keys/system.short")).status == 200
        real_clock = ctx.clock
        ctx.clock = lambda: real_clock() + timedelta(seconds=61)
        try:
            assert_error(await api.get("/api/v1/keys/system.short"), 404, "NOT_FOUND")
            assert (await api.get("/api/v1/keys")).body["items"] == []
            # an expired key can be created again
            assert (await api.post("/api/v1/keys", json={"ref": "system.short",
                                                         "value": 2})).status == 201
        finally:
            ctx.clock = real_clock
        assert_error(await api.post("/api/v1/keys", json={"ref": "system.t", "value": 1,
                                                          "ttl_seconds": 0}),
                     422, "VALIDATION_ERROR", "ttl_seconds")


async def test_rotation_keeps_every_secret_readable(platform: RunningPlatform) -> None:
    ctx = platform.ctx
    old_material = ctx.settings.encryption_key
    values = {f"system.k{i}": {"n": i, "s": SECRET} for i in range(5)}
    meta = Meta.new(actor="test")
    for ref, value in values.items():
        await keys.create(ctx, keys.domain.parse_ref(ref), value, meta=meta)
    await keys.create(ctx, keys.domain.parse_ref("system.clear"), "visible",
                      encrypted=False, meta=meta)
    await projected(ctx, await ctx.store.last_sequence())
    old_id = ctx.sealer.key_id

    new_material = "rotated-encryption-key-" + "n" * 32
    ctx.sealer = Sealer(new_material, [old_material])
    async with admin_api(platform) as api:
        rotated = await api.post("/api/v1/keys/rotate-encryption-key")
        assert rotated.status == 200, rotated.body
        assert rotated.data == {"resealed": 5, "key_id": ctx.sealer.key_id}
        assert rotated.data["key_id"] != old_id
        again = await api.post("/api/v1/keys/rotate-encryption-key")
        assert again.data["resealed"] == 0
        await projected(ctx, await ctx.store.last_sequence())

        # the old key material is no longer needed
        ctx.sealer = Sealer(new_material)
        for ref, value in values.items():
            assert await keys.lookup(ctx, ref) == value
            assert (await api.get(f"/api/v1/keys/{ref}")).data["value"] == value
        assert await keys.lookup(ctx, "system.clear") == "visible"
        find = await keys.keystore(ctx)  # what workflows and rule templates read
        assert find("system.k3") == values["system.k3"]
        assert find("system.none") is None
        key_ids = {r["key_id"] for r in await ctx.pool.fetch(
            "SELECT key_id FROM keys WHERE encrypted")}
        assert key_ids == {ctx.sealer.key_id}
    assert SECRET.encode() not in await stream_bytes(ctx)
