"""Each delivery is filtered by the subscriber's permissions, through the one check
point: per resource, and per entity when the grants carry constraints."""

from __future__ import annotations

import asyncio

import aiohttp

from attune.app import executions, identities, permissions, rules
from attune.app.context import Context
from attune.domain.permission import Constraints, Grant, PermissionSetDef
from attune.eventstore.envelope import Meta
from attune.notifier.service import Notifier
from tests.conftest import ADMIN_PASSWORD, eventually, start_platform, stop_platform
from tests.notifier_client import admin_token, connect, notifier_up

PASSWORD = "a-long-enough-password-1"


async def _identity(ctx: Context, login: str) -> identities.Identity:
    async def probe() -> identities.Identity | None:
        try:
            found = await identities.authenticate(ctx, login, PASSWORD)
        except Exception:
            return None
        return found if found.grants else None
    result: identities.Identity = await eventually(probe)
    return result


async def test_deliveries_follow_rbac_grants_and_their_constraints(ctx: Context) -> None:
    running = await start_platform(ctx, ("projector", "notifier"))
    try:
        await notifier_up(ctx.settings)
        meta = Meta.new(actor="admin")
        await eventually(lambda: ctx.pool.fetchval(
            "SELECT count(*) FROM actions WHERE ref = 'core.echo'"))
        await permissions.create(ctx, PermissionSetDef(
            ref="core.own-executions", label="Own executions", grants=[
                Grant(resource="executions", actions=["read"],
                      constraints=Constraints(owner="self"))]), meta=meta)
        await identities.create(ctx, "alice", PASSWORD,
                                permission_set_refs=["core.own-executions"], meta=meta)
        await identities.create(ctx, "bob", PASSWORD, permission_set_refs=[], meta=meta)
        alice = await _identity(ctx, "alice")
        bob = await identities.authenticate(ctx, "bob", PASSWORD)
        admin_tok = await admin_token(ctx)
        alice_tok = ctx.tokens.issue(alice.id, alice.login, "access")
        bob_tok = ctx.tokens.issue(bob.id, bob.login, "access")

        async with connect(ctx.settings, bob_tok) as client:
            await client.next_of("welcome")
            await client.send(type="subscribe", filter="entity_type:execution")
            error = await client.next_of("error")
            assert "bob may not read executions" in error["message"]
            await client.send(type="subscribe", filter="all")
            assert "'all' filter needs read permission" in (
                await client.next_of("error"))["message"]

        async with connect(ctx.settings, alice_tok) as mine, \
                connect(ctx.settings, admin_tok) as everything:
            for client in (mine, everything):
                await client.next_of("welcome")
                await client.subscribe("entity_type:execution")
            admins = await executions.request(ctx, "core.echo", {"message": "x"}, meta=meta,
                                              requested_by=None)
            hers = await executions.request(ctx, "core.echo", {"message": "y"}, meta=meta,
                                            requested_by=alice.id)
            seen_all = [(await everything.next_of("notification"))["entity_id"]
                        for _ in range(2)]
            assert seen_all == [admins, hers]
            frame = await mine.next_of("notification")
            assert (frame["entity_id"], frame["user_id"]) == (hers, alice.id)
            await mine.send(type="ping")
            assert (await mine.next())["type"] == "pong"  # nothing else was queued before
    finally:
        await stop_platform(running)


async def test_freezing_an_identity_closes_its_connections(ctx: Context) -> None:
    running = await start_platform(ctx, ("projector",))
    service = Notifier(ctx, recheck_seconds=0.3)
    stop = asyncio.Event()
    task = asyncio.create_task(service.run(stop))
    try:
        await notifier_up(ctx.settings)
        meta = Meta.new(actor="admin")
        await identities.create(ctx, "carol", PASSWORD,
                                permission_set_refs=["core.viewer"], meta=meta)
        carol = await _identity(ctx, "carol")
        token = ctx.tokens.issue(carol.id, carol.login, "access")
        async with connect(ctx.settings, token) as client:
            await client.next_of("welcome")
            await client.subscribe("entity_type:execution")
            await identities.set_frozen(ctx, "carol", True, meta=meta)
            while True:
                message = await client.ws.receive(timeout=15)
                if message.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED):
                    break
            assert client.ws.close_code == 4403
    finally:
        stop.set()
        await asyncio.wait_for(task, 10)
        await stop_platform(running)


async def test_a_sensor_token_gets_the_rule_lifecycle_of_its_triggers_only(
        ctx: Context) -> None:
    running = await start_platform(ctx, ("projector", "notifier"))
    try:
        await notifier_up(ctx.settings)
        meta = Meta.new(actor="admin")
        await eventually(lambda: ctx.pool.fetchval(
            "SELECT count(*) FROM triggers WHERE ref = 'core.intervaltimer'"))
        admin = await identities.authenticate(ctx, "admin", ADMIN_PASSWORD)
        sensor = ctx.tokens.issue(admin.id, admin.login, "sensor",
                                  metadata={"trigger_types": ["core.intervaltimer"]})
        async with connect(ctx.settings, sensor) as client:
            await client.next_of("welcome")
            await client.subscribe("trigger_ref:core.intervaltimer")
            await rules.create(ctx, {"ref": "core.on-hook", "trigger_ref": "core.webhook",
                                     "action_ref": "core.noop"}, meta=meta)
            await rules.create(ctx, {"ref": "core.every-minute",
                                     "trigger_ref": "core.intervaltimer",
                                     "action_ref": "core.noop",
                                     "trigger_params": {"unit": "minutes", "interval": 1}},
                               meta=meta)
            frame = await client.next_of("notification")
            assert frame["notification_type"] == "rule_lifecycle_changed"
            assert {k: frame["payload"][k] for k in ("event_type", "rule_ref",
                                                      "trigger_params", "active")} == {
                "event_type": "rule.created", "rule_ref": "core.every-minute",
                "trigger_params": {"unit": "minutes", "interval": 1}, "active": True}
            await client.send(type="ping")
            assert (await client.next())["type"] == "pong"  # nothing about core.on-hook
    finally:
        await stop_platform(running)
