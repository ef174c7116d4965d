"""The role matrix, generated from THE route table: for viewer, executor, editor, admin
and a frozen identity, every authenticated route is called and must answer 403 exactly
when the role's permission sets (packs/core/permission_sets/) do not grant the route's
`resource:action` (and 200 for allowed reads that name no object; the others name
objects that do not exist, so nothing is changed) — so a new route is covered the
moment it is declared."""

from __future__ import annotations

import re
from collections.abc import Sequence

import aiohttp

from attune.api.routes import ROUTES
from attune.api.routing import AUTHENTICATED, Permission, Route
from attune.app import identities
from attune.app.identities import ADMIN_GRANTS
from attune.domain.permission import Grant, permits
from attune.eventstore.envelope import Meta
from attune.packs.permission_sets import load_permission_sets
from attune.platform import core_pack_dir
from tests.api_http import Api
from tests.conftest import RunningPlatform, projected

ROLES = ("viewer", "executor", "editor", "admin")
PASSWORD = "role-password-123"
#: placeholders that name nothing, so no call changes anything that exists
FAKE = {"id": "987654", "ref": "core.no_such_thing", "key": "wh_nothing",
        "token_id": "nothing", "stream": "stdout", "status": "completed"}


def role_grants() -> dict[str, Sequence[Grant]]:
    sets = {s.ref: s for s in load_permission_sets(core_pack_dir(), "core")}
    grants: dict[str, Sequence[Grant]] = {r: sets[f"core.{r}"].grants for r in ROLES}
    grants["admin"] = ADMIN_GRANTS
    return grants


def path_of(route: Route) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: FAKE.get(m.group(1), "x"), route.path)


async def call(api: Api, route: Route) -> int:
    body = {} if route.method in ("POST", "PUT", "PATCH") else None
    answer = await api.request(route.method, path_of(route), json=body)
    return answer.status


async def test_every_route_answers_as_the_permission_sets_say(platform: RunningPlatform
                                                              ) -> None:
    ctx = platform.ctx
    meta = Meta.new(actor="test")
    seq = 0
    for role in ROLES:
        seq = await identities.create(ctx, f"r_{role}", PASSWORD,
                                      permission_set_refs=[f"core.{role}"], meta=meta)
    seq = await identities.create(ctx, "r_frozen", PASSWORD,
                                  permission_set_refs=["core.editor"], meta=meta)
    await projected(ctx, seq)
    grants = role_grants()
    routes = [r for r in ROUTES if isinstance(r.guard, Permission) or r.guard == AUTHENTICATED]
    assert len(routes) > 50
    failures: list[str] = []
    denied = dict.fromkeys(ROLES, 0)
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=15)) as session:
        apis = {}
        for who in (*ROLES, "frozen"):
            apis[who] = Api(session, platform.api_url)
            await apis[who].login(f"r_{who}", PASSWORD)
        frozen_id = (await apis["frozen"].get("/auth/me")).data["id"]
        await identities.set_frozen(ctx, "r_frozen", True, meta=meta)
        await projected(ctx, await ctx.store.last_sequence())

        for route in routes:
            for role in ROLES:
                if isinstance(route.guard, Permission):
                    expected_ok = permits(grants[role], route.guard.resource,
                                          route.guard.action, login=f"r_{role}")
                else:
                    expected_ok = True
                status = await call(apis[role], route)
                ok = status not in (401, 403)
                denied[role] += not ok
                # a read naming no object must simply work when allowed
                plain_read = route.method == "GET" and "{" not in route.path
                if (ok != expected_ok or status >= 500
                        or (expected_ok and plain_read and status != 200)):
                    failures.append(f"{role:8} {route.method} {route.path} -> {status} "
                                    f"(guard {route.guard})")
            status = await call(apis["frozen"], route)
            if status != 403:
                failures.append(f"frozen   {route.method} {route.path} -> {status}")
    assert not failures, "\n".join(failures)
    # each role may do strictly more than the one before it
    assert denied["viewer"] > denied["executor"] > denied["editor"] > denied["admin"] == 0, \
        denied
    assert frozen_id
