"""RBAC beyond the route check: permission sets through the API and from packs,
assignments taking effect at once, constraints (pack_refs, refs, owner: self) on the
object a request names and on list items, keys:decrypt, and execution tokens that carry
their action's grants instead of the requester's."""

from __future__ import annotations

from pathlib import Path

import aiohttp

from attune.app import permissions
from tests.api_http import Api, admin_api, assert_error
from tests.conftest import RunningPlatform
from tests.test_api_packs import make_pack

PASSWORD = "member-password-1"


async def user(session: aiohttp.ClientSession, platform: RunningPlatform, admin: Api,
               login: str, sets: list[str]) -> tuple[Api, int]:
    created = await admin.post("/api/v1/identities", json={
        "login": login, "password": PASSWORD, "permission_set_refs": sets})
    assert created.status == 201, created.body
    api = Api(session, platform.api_url)
    await api.login(login, PASSWORD)
    return api, created.data["id"]


async def test_permission_sets_and_assignments(platform: RunningPlatform) -> None:
    async with admin_api(platform) as admin, aiohttp.ClientSession() as session:
        core_sets = await admin.get("/api/v1/permissions/sets")
        refs = [s["ref"] for s in core_sets.body["items"]]
        assert refs == ["core.admin", "core.editor", "core.execution", "core.executor",
                        "core.viewer"]
        assert all(s["source"] == "pack" for s in core_sets.body["items"])

        made = await admin.post("/api/v1/permissions/sets", json={
            "ref": "core.pack_reader", "label": "Pack reader",
            "grants": [{"resource": "packs", "actions": ["read"]}]})
        assert made.status == 201, made.body
        assert made.data["grants"] == [{"resource": "packs", "actions": ["read"],
                                        "constraints": None}]
        assert_error(await admin.post("/api/v1/permissions/sets", json={
            "ref": "core.bad", "label": "Bad",
            "grants": [{"resource": "spaceships", "actions": ["read"]}]}),
            422, "VALIDATION_ERROR", "spaceships")
        assert_error(await admin.post("/api/v1/permissions/sets", json={
            "ref": "core.bad", "label": "Bad",
            "grants": [{"resource": "packs", "actions": ["fly"]}]}),
            422, "VALIDATION_ERROR", "fly")
        assert_error(await admin.post("/api/v1/permissions/sets", json={
            "ref": "nopack.set", "label": "X", "grants": []}), 422, "VALIDATION_ERROR",
            "nopack")
        assert_error(await admin.post("/api/v1/permissions/sets", json={
            "ref": "core.pack_reader", "label": "X", "grants": []}), 409, "CONFLICT")
        assert_error(await admin.request("DELETE", "/api/v1/permissions/sets/core.viewer"),
                     409, "CONFLICT", "pack")

        member, member_id = await user(session, platform, admin, "member", [])
        assert_error(await member.get("/api/v1/packs"), 403, "FORBIDDEN")
        assigned = await admin.post("/api/v1/permissions/assignments", json={
            "identity_id": member_id, "permission_set_ref": "core.pack_reader"})
        assert assigned.status == 201, assigned.body
        # effective on the member's very next request, with the same token
        assert (await member.get("/api/v1/packs")).status == 200
        assert_error(await member.get("/api/v1/actions"), 403, "FORBIDDEN", "actions:read")
        shown = await admin.get(f"/api/v1/identities/{member_id}/permissions")
        assert shown.data["permission_set_refs"] == ["core.pack_reader"]

        widened = await admin.request("PUT", "/api/v1/permissions/sets/core.pack_reader",
                                      json={"grants": [{"resource": "packs",
                                                        "actions": ["read"]},
                                                       {"resource": "actions",
                                                        "actions": ["read"]}]})
        assert widened.status == 200, widened.body
        assert (await member.get("/api/v1/actions")).status == 200

        listed = await admin.get("/api/v1/permissions/assignments",
                                 params={"identity_id": str(member_id)})
        [assignment] = listed.body["items"]
        removed = await admin.request("DELETE",
                                      f"/api/v1/permissions/assignments/{assignment['id']}")
        assert removed.status == 200, removed.body
        assert_error(await member.get("/api/v1/packs"), 403, "FORBIDDEN")

        via_identity = await admin.post(f"/api/v1/identities/{member_id}/permissions",
                                        json={"permission_set_ref": "core.viewer"})
        assert via_identity.status == 201, via_identity.body
        assert (await member.get("/api/v1/packs")).status == 200
        # the member may read itself, but not others, and may not assign sets
        assert (await member.get(f"/api/v1/identities/{member_id}")).status == 200
        me = (await admin.get("/auth/me")).data
        assert_error(await member.get(f"/api/v1/identities/{me['id']}"), 404, "NOT_FOUND")
        assert [i["login"] for i in (await member.get("/api/v1/identities")).body["items"]] \
            == ["member"]
        assert_error(await member.post(f"/api/v1/identities/{member_id}/permissions",
                                       json={"permission_set_ref": "core.admin"}),
                     403, "FORBIDDEN", "permissions:manage")
        removed_set = await admin.request("DELETE", "/api/v1/permissions/sets/"
                                                    "core.pack_reader")
        assert removed_set.status == 200


async def test_constraints_on_objects_and_lists(platform: RunningPlatform,
                                                tmp_path: Path) -> None:
    async with admin_api(platform) as admin, aiohttp.ClientSession() as session:
        registered = await admin.post("/api/v1/packs/register",
                                      json={"path": str(make_pack(tmp_path / "demo"))})
        assert registered.status == 200, registered.body
        made = await admin.post("/api/v1/permissions/sets", json={
            "ref": "demo.operator", "label": "Demo operator", "grants": [
                {"resource": "actions", "actions": ["read", "execute"],
                 "constraints": {"pack_refs": ["demo"]}},
                {"resource": "executions", "actions": ["read"],
                 "constraints": {"owner": "self"}},
                {"resource": "keys", "actions": ["read", "create", "decrypt"],
                 "constraints": {"owner": "self"}},
                {"resource": "keys", "actions": ["read"],
                 "constraints": {"refs": ["pack.demo.*"]}}]})
        assert made.status == 201, made.body
        op, _ = await user(session, platform, admin, "operator", ["demo.operator"])

        actions = await op.get("/api/v1/actions")
        assert [a["ref"] for a in actions.body["items"]] == ["demo.hello"]
        assert (await op.get("/api/v1/actions/demo.hello")).status == 200
        assert_error(await op.get("/api/v1/actions/core.echo"), 403, "FORBIDDEN",
                     "core.echo")
        assert_error(await op.post("/api/v1/executions/execute",
                                   json={"action_ref": "core.echo"}),
                     403, "FORBIDDEN", "actions:execute")
        # admin runs one of its own; the operator runs demo.hello
        theirs = await admin.post("/api/v1/executions/execute",
                                  json={"action_ref": "core.noop"})
        assert theirs.status in (201, 202), theirs.body
        mine = await op.post("/api/v1/executions/execute",
                             json={"action_ref": "demo.hello", "parameters": {"name": "x"}})
        assert mine.status in (201, 202), mine.body
        executions = await op.get("/api/v1/executions", headers={
            "X-Attune-After-Sequence": str(mine.sequence)})
        assert [e["action_ref"] for e in executions.body["items"]] == ["demo.hello"]

        # keys: its own (owner: self) with values; the demo pack's without values
        assert (await admin.post("/api/v1/keys", json={"ref": "pack.demo.token",
                                                       "value": "demo-secret"})).status == 201
        assert (await admin.post("/api/v1/keys", json={"ref": "system.root",
                                                       "value": "root-secret"})).status == 201
        own = await op.post("/api/v1/keys", json={"ref": "identity.operator.pat",
                                                  "value": "mine"})
        assert own.status == 201, own.body
        assert own.data["value"] == "mine"
        assert_error(await op.post("/api/v1/keys", json={"ref": "system.other",
                                                         "value": 1}),
                     403, "FORBIDDEN", "keys:create")
        assert_error(await op.post("/api/v1/keys", json={"ref": "identity.admin.x",
                                                         "value": 1}),
                     403, "FORBIDDEN")
        keys = await op.get("/api/v1/keys")
        assert [k["ref"] for k in keys.body["items"]] == ["identity.operator.pat",
                                                          "pack.demo.token"]
        demo_key = await op.get("/api/v1/keys/pack.demo.token")
        assert demo_key.status == 200 and demo_key.data["value"] is None
        assert_error(await op.get("/api/v1/keys/system.root"), 403, "FORBIDDEN")


async def test_execution_tokens_carry_the_actions_grants(platform: RunningPlatform) -> None:
    ctx = platform.ctx
    async with admin_api(platform) as admin:
        me = (await admin.get("/auth/me")).data
        assert (await admin.post("/api/v1/keys", json={"ref": "system.api",
                                                       "value": "v"})).status == 201

        def token(sets: list[str]) -> str:
            # requested by admin, but the action was granted only `sets`
            return permissions.issue_execution_token(
                ctx, identity_id=me["id"], login="admin", execution_id=1,
                permission_set_refs=sets, ttl=60)

        viewer = token(["core.viewer"])
        assert (await admin.get("/api/v1/keys", token=viewer)).status == 200
        assert (await admin.get("/api/v1/keys/system.api", token=viewer)).data["value"] \
            is None
        editor = token(["core.editor"])
        assert (await admin.get("/api/v1/keys/system.api", token=editor)).data["value"] \
            == "v"
        assert_error(await admin.get("/api/v1/keys", token=token([])), 403, "FORBIDDEN")
        # every permission-checked route takes them, as far as their grants go
        assert (await admin.get("/api/v1/packs", token=editor)).status == 200
        assert_error(await admin.get("/api/v1/packs", token=token([])), 403, "FORBIDDEN")
        # routes that do not take execution tokens refuse them
        assert_error(await admin.get("/auth/me", token=editor), 401, "UNAUTHORIZED",
                     "execution")
        # a token naming no sets (a rule's execution: no requester) gets core.execution
        default = ctx.tokens.issue(0, "execution:5", "execution", ttl=60,
                                   metadata={"execution_id": 5, "action_ref": "core.echo"})
        assert (await admin.get("/api/v1/keys", token=default)).status == 200
        assert (await admin.get("/api/v1/keys/system.api", token=default)).data["value"] \
            is None
        assert_error(await admin.post("/api/v1/keys", json={"ref": "system.x", "value": 1},
                                      token=default), 403, "FORBIDDEN")
        forged = ctx.tokens.issue(me["id"], "admin", "execution",
                                  metadata={"permission_set_refs": "core.admin"})
        assert_error(await admin.get("/api/v1/keys", token=forged), 401, "UNAUTHORIZED")
