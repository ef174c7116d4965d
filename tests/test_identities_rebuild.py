"""The identities, keys and permission-set read models are folds of the stream: after
every kind of change, rebuilding them from the stream gives the live tables again."""

from __future__ import annotations

from attune.app import identities, integration_tokens, keys, permissions
from attune.domain.key import parse_ref
from attune.domain.permission import Grant, PermissionSetDef
from attune.eventstore.envelope import Meta
from attune.readmodel.projections import ALL
from attune.readmodel.verify import verify
from attune.security.crypto import Sealer
from tests.conftest import RunningPlatform, projected


async def test_rebuilt_tables_equal_the_live_ones(platform: RunningPlatform) -> None:
    ctx = platform.ctx
    meta = Meta.new(actor="test")
    await identities.create(ctx, "ann", "ann-password", permission_set_refs=["core.viewer"],
                            attributes={"team": "a"}, meta=meta)
    await identities.create(ctx, "ben", "ben-password", meta=meta)
    await identities.update(ctx, "ann", display_name="Ann", attributes={"team": "b"},
                            meta=meta)
    await identities.assign(ctx, "ann", "core.executor", meta=meta)
    await identities.unassign(ctx, "ann", "core.viewer", meta=meta)
    await identities.set_frozen(ctx, "ben", True, meta=meta)
    await projected(ctx, await ctx.store.last_sequence())
    ann = await identities.by_id(ctx, int(await ctx.pool.fetchval(
        "SELECT id FROM identities WHERE login = 'ann'")))
    assert ann is not None and ann.permission_set_refs == ["core.executor"]
    made = await integration_tokens.create(ctx, ann, "ci", ttl_seconds=3600, meta=meta)
    await integration_tokens.create(ctx, ann, "other", meta=meta)
    await integration_tokens.revoke(ctx, ann, made.token_id, meta=meta)
    await identities.set_password(ctx, "ann", "ann-password-2", meta=meta)
    await identities.delete(ctx, "ben", meta=meta)

    await permissions.create(ctx, PermissionSetDef(
        ref="core.tmp", label="Tmp", grants=[Grant(resource="packs", actions=["read"])]),
        meta=meta)
    await permissions.update(ctx, "core.tmp", {"label": "Temporary"}, meta=meta)
    for ref in ("system.a", "identity.ann.b", "pack.core.c"):
        await keys.create(ctx, parse_ref(ref), {"v": ref}, ttl_seconds=600, meta=meta)
    await keys.update(ctx, "system.a", "plain", encrypted=False, meta=meta)
    await keys.delete(ctx, "pack.core.c", meta=meta)
    await projected(ctx, await ctx.store.last_sequence())
    ctx.sealer = Sealer("another-encryption-key-" + "z" * 32,
                        [ctx.settings.encryption_key])
    assert (await keys.rotate_encryption_key(ctx, meta=meta))[0] == 1
    await projected(ctx, await ctx.store.last_sequence())

    report = await verify(ctx.nc, ctx.pool, ALL)
    assert report.equal, report.diffs
    counts = {t: await ctx.pool.fetchval(f"SELECT count(*) FROM {t}") for t in (
        "identities", "permission_assignments", "integration_tokens", "keys")}
    assert counts == {"identities": 2, "permission_assignments": 2,
                      "integration_tokens": 2, "keys": 2}
